"""Forgot password (REC-1) and forgot account (REC-2)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Context
from schema.enums import AccountKind
from schema.errors import user_errors
from schema.inputs.auth import (
    AccountRecoveryLookupInput,
    AccountRecoveryRevealInput,
    PasswordResetCompleteInput,
    PasswordResetStartInput,
)
from schema.types.common import INPUT
from schema.types.payloads import (
    AccountRecoveryLookupPayload,
    AccountRecoveryRevealPayload,
    PasswordResetCompletePayload,
    PasswordResetStartPayload,
    RecoveredAccount,
)
from services.errors import ServiceError
from services.recovery import service as recovery
from services.recovery.service import FoundAccount

Info = strawberry.Info[Context, None]


def _recovered(found: FoundAccount, reveal: bool) -> RecoveredAccount:
    return RecoveredAccount(
        kind=AccountKind(found.kind),
        login_name_masked=found.masked_login_name,
        login_name=found.login_name if reveal else None,
        phone_masked=found.masked_phone,
        email_masked=found.masked_email,
    )


async def password_reset_start(
    info: Info, input: Annotated[PasswordResetStartInput, INPUT]
) -> PasswordResetStartPayload:
    ctx = info.context
    result = await recovery.password_reset_start(ctx, input.login_name, input.bot_token, ctx.client.ip)
    if isinstance(result, ServiceError):
        return PasswordResetStartPayload(errors=user_errors(info, result))
    return PasswordResetStartPayload(
        ticket=result.ticket,
        phone_masked=result.masked_phone,
        expires_at=result.expires_at,
        code_expires_at=result.code_expires_at,
        errors=[],
    )


async def password_reset_complete(
    info: Info, input: Annotated[PasswordResetCompleteInput, INPUT]
) -> PasswordResetCompletePayload:
    result = await recovery.password_reset_complete(info.context, input.ticket, input.code, input.new_password)
    if isinstance(result, ServiceError):
        return PasswordResetCompletePayload(success=False, errors=user_errors(info, result))
    return PasswordResetCompletePayload(success=True, errors=[])


async def account_recovery_lookup(
    info: Info, input: Annotated[AccountRecoveryLookupInput, INPUT]
) -> AccountRecoveryLookupPayload:
    ctx = info.context
    result = await recovery.account_lookup(
        ctx,
        bot_token=input.bot_token,
        client_ip=ctx.client.ip,
        phone=input.phone,
        account_id=input.account_id,
        name=input.name,
        id_number=input.id_number,
    )
    if isinstance(result, ServiceError):
        return AccountRecoveryLookupPayload(errors=user_errors(info, result))
    return AccountRecoveryLookupPayload(
        ticket=result.ticket,
        accounts=[_recovered(a, reveal=False) for a in result.accounts],
        code_expires_at=result.code_expires_at,
        errors=[],
    )


async def account_recovery_reveal(
    info: Info, input: Annotated[AccountRecoveryRevealInput, INPUT]
) -> AccountRecoveryRevealPayload:
    result = await info.context.write(recovery.account_reveal, input.ticket, input.code)
    if isinstance(result, ServiceError):
        return AccountRecoveryRevealPayload(errors=user_errors(info, result))
    return AccountRecoveryRevealPayload(accounts=[_recovered(a, reveal=True) for a in result], errors=[])
