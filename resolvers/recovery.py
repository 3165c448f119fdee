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
    AccountRecoveryLookup,
    AccountRecoveryLookupPayload,
    AccountRecoveryRevealPayload,
    AccountRevealTicket,
    PasswordReset,
    PasswordResetCompletePayload,
    PasswordResetStartPayload,
    RecoveredAccount,
    RevealedAccount,
)
from services.errors import ServiceError
from services.recovery import service as recovery
from services.recovery.service import FoundAccount

Info = strawberry.Info[Context, None]


def _recovered(found: FoundAccount) -> RecoveredAccount:
    return RecoveredAccount(kind=AccountKind(found.kind), login_names_masked=found.masked_login_names)


def _revealed(found: FoundAccount) -> RevealedAccount:
    return RevealedAccount(kind=AccountKind(found.kind), login_names=found.login_names)


async def password_reset_start(
    info: Info, input: Annotated[PasswordResetStartInput, INPUT]
) -> PasswordResetStartPayload:
    ctx = info.context
    result = await recovery.password_reset_start(ctx, input.login_name, input.bot_token, ctx.client.ip)
    if isinstance(result, ServiceError):
        return PasswordResetStartPayload(errors=user_errors(info, result))
    return PasswordResetStartPayload(
        password_reset=PasswordReset(
            ticket=result.ticket,
            phone_masked=result.masked_phone,
            expires_at=result.expires_at,
            code_expires_at=result.code_expires_at,
        ),
        errors=[],
    )


async def password_reset_complete(
    info: Info, input: Annotated[PasswordResetCompleteInput, INPUT]
) -> PasswordResetCompletePayload:
    result = await recovery.password_reset_complete(
        info.context, input.ticket, input.code, input.new_password, info.context.client
    )
    return PasswordResetCompletePayload(errors=user_errors(info, result) if isinstance(result, ServiceError) else [])


async def account_recovery_lookup(
    info: Info, input: Annotated[AccountRecoveryLookupInput, INPUT]
) -> AccountRecoveryLookupPayload:
    ctx = info.context
    result = await recovery.account_lookup(
        ctx, bot_token=input.bot_token, client_ip=ctx.client.ip, by=input.by.to_criteria()
    )
    if isinstance(result, ServiceError):
        return AccountRecoveryLookupPayload(errors=user_errors(info, result))
    reveal = result.reveal
    return AccountRecoveryLookupPayload(
        lookup=AccountRecoveryLookup(
            accounts=[_recovered(a) for a in result.accounts],
            reveal=None
            if reveal is None
            else AccountRevealTicket(
                ticket=reveal.ticket, phone_masked=reveal.masked_phone, code_expires_at=reveal.code_expires_at
            ),
        ),
        errors=[],
    )


async def account_recovery_reveal(
    info: Info, input: Annotated[AccountRecoveryRevealInput, INPUT]
) -> AccountRecoveryRevealPayload:
    result = await info.context.write(recovery.account_reveal, input.ticket, input.code)
    if isinstance(result, ServiceError):
        return AccountRecoveryRevealPayload(errors=user_errors(info, result))
    return AccountRecoveryRevealPayload(accounts=[_revealed(a) for a in result], errors=[])
