"""Account mutations: input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated, TypeVar

import strawberry

from models.accounts import Account
from schema.context import Context
from schema.errors import user_errors
from schema.inputs.accounts import (
    AccountActivateInput,
    AccountEmailBindInput,
    AccountIdleTimeoutSetInput,
    AccountPasswordChangeInput,
    AccountPhoneChangeInput,
    AccountProfileUpdateInput,
    AccountRegisterInput,
    AccountUsernameSetInput,
)
from schema.types.account import AccountType
from schema.types.common import INPUT
from schema.types.payloads import (
    AccountActivatePayload,
    AccountEmailBindPayload,
    AccountIdleTimeoutSetPayload,
    AccountPasswordChangePayload,
    AccountPhoneChangePayload,
    AccountProfileUpdatePayload,
    AccountRegisterPayload,
    AccountUsernameSetPayload,
    RegisteredAccount,
)
from services.accounts import service as accounts
from services.accounts.errors import AccountErrorCode
from services.accounts.service import ProfileChanges
from services.errors import ServiceError

Info = strawberry.Info[Context, None]
NO_SESSION = AccountErrorCode.AUTHENTICATION_REQUIRED

# A payload whose result is the viewer after the change: `account`, or `errors`.
P = TypeVar(
    "P",
    AccountActivatePayload,
    AccountProfileUpdatePayload,
    AccountIdleTimeoutSetPayload,
    AccountUsernameSetPayload,
    AccountPhoneChangePayload,
    AccountEmailBindPayload,
)


def _viewer_payload(payload: type[P], info: Info, result: Account | ServiceError) -> P:
    if isinstance(result, ServiceError):
        return payload(errors=user_errors(info, result))
    return payload(account=AccountType.of(result), errors=[])


async def account_register(info: Info, input: Annotated[AccountRegisterInput, INPUT]) -> AccountRegisterPayload:
    result = await accounts.register_cloud(info.context, input.to_command())
    if isinstance(result, ServiceError):
        return AccountRegisterPayload(errors=user_errors(info, result))
    assert result.account_number is not None  # REG-6: at registration
    assert result.username is not None
    return AccountRegisterPayload(
        account=RegisteredAccount(account_id=str(result.account_number), username=result.username), errors=[]
    )


async def account_activate(info: Info, input: Annotated[AccountActivateInput, INPUT]) -> AccountActivatePayload:
    profile = input.profile.to_changes() if input.profile else ProfileChanges()
    agreements = [a.to_acceptance() for a in input.agreements]
    result = await info.context.write_viewer(NO_SESSION, accounts.activate_portal, agreements, profile)
    return _viewer_payload(AccountActivatePayload, info, result)


async def account_profile_update(
    info: Info, input: Annotated[AccountProfileUpdateInput, INPUT]
) -> AccountProfileUpdatePayload:
    result = await info.context.write_viewer(NO_SESSION, accounts.update_profile, input.to_changes())
    return _viewer_payload(AccountProfileUpdatePayload, info, result)


async def account_idle_timeout_set(
    info: Info, input: Annotated[AccountIdleTimeoutSetInput, INPUT]
) -> AccountIdleTimeoutSetPayload:
    result = await info.context.write_viewer(NO_SESSION, accounts.set_idle_timeout, input.minutes)
    return _viewer_payload(AccountIdleTimeoutSetPayload, info, result)


async def account_username_set(
    info: Info, input: Annotated[AccountUsernameSetInput, INPUT]
) -> AccountUsernameSetPayload:
    result = await info.context.write_viewer(NO_SESSION, accounts.set_username, input.username)
    return _viewer_payload(AccountUsernameSetPayload, info, result)


async def account_password_change(
    info: Info, input: Annotated[AccountPasswordChangeInput, INPUT]
) -> AccountPasswordChangePayload:
    result = await accounts.change_password(
        info.context,
        current_password=input.current_password,
        new_password=input.new_password,
        step_up_token=input.step_up_token,
    )
    if isinstance(result, ServiceError):
        return AccountPasswordChangePayload(errors=user_errors(info, result))
    ended, account = result
    return AccountPasswordChangePayload(account=AccountType.of(account), ended_session_count=ended, errors=[])


async def account_phone_change(
    info: Info, input: Annotated[AccountPhoneChangeInput, INPUT]
) -> AccountPhoneChangePayload:
    result = await info.context.write_viewer(
        NO_SESSION,
        accounts.change_phone,
        new_phone=input.new_phone,
        new_phone_code=input.new_phone_code,
        step_up_token=input.step_up_token,
    )
    return _viewer_payload(AccountPhoneChangePayload, info, result)


async def account_email_bind(info: Info, input: Annotated[AccountEmailBindInput, INPUT]) -> AccountEmailBindPayload:
    result = await info.context.write_viewer(
        NO_SESSION, accounts.bind_email, email=input.email, code=input.code, step_up_token=input.step_up_token
    )
    return _viewer_payload(AccountEmailBindPayload, info, result)
