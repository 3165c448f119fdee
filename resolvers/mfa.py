"""Second-factor mutations: the virtual MFA device, protections, recovery codes and login challenges."""

from __future__ import annotations

from typing import Annotated

import segno
import strawberry

from models.accounts import Account
from schema.context import Context
from schema.enums import factor_name
from schema.errors import user_errors
from schema.inputs.mfa import (
    LoginChallengeCodeSendInput,
    MfaDeviceBindInput,
    MfaDeviceUnbindInput,
    MfaRecoveryCodesRegenerateInput,
    SecurityProtectionsSetInput,
    SessionCreateByChallengeInput,
)
from schema.types.account import AccountType
from schema.types.common import INPUT
from schema.types.mfa import (
    LoginChallengeCodeSendPayload,
    MfaAccountPayload,
    MfaDeviceBindingStartPayload,
    MfaRecoveryCodesPayload,
)
from schema.types.payloads import SessionCreatePayload
from services.auth import service as auth
from services.errors import ServiceError
from services.identifiers import mask_phone
from services.mfa import devices
from services.mfa import service as mfa
from services.mfa.errors import MfaErrorCode
from services.uow import Uow
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
NO_SESSION = MfaErrorCode.AUTHENTICATION_REQUIRED


async def mfa_device_binding_start(info: Info) -> MfaDeviceBindingStartPayload:
    result = await info.context.write_viewer(NO_SESSION, devices.start_binding)
    if isinstance(result, ServiceError):
        return MfaDeviceBindingStartPayload(errors=user_errors(info, result))
    qr = segno.make(result.uri, error="m").svg_data_uri(scale=4, border=2)
    return MfaDeviceBindingStartPayload(secret=result.secret, otpauth_uri=result.uri, qr_code_svg=qr, errors=[])


async def mfa_device_bind(info: Info, input: Annotated[MfaDeviceBindInput, INPUT]) -> MfaRecoveryCodesPayload:
    async def call(uow: Uow, viewer: Viewer) -> tuple[list[str], Account]:
        bound = await devices.bind(uow, viewer, input.first_code, input.second_code)
        return bound.recovery_codes, viewer.account

    result = await info.context.write_viewer(NO_SESSION, call)
    if isinstance(result, ServiceError):
        return MfaRecoveryCodesPayload(errors=user_errors(info, result))
    return MfaRecoveryCodesPayload(recovery_codes=result[0], account=AccountType.of(result[1]), errors=[])


async def mfa_device_unbind(info: Info, input: Annotated[MfaDeviceUnbindInput, INPUT]) -> MfaAccountPayload:
    return _account_payload(
        info, await info.context.write_viewer(NO_SESSION, mfa.unbind_device, input.code, input.step_up_token)
    )


async def security_protections_set(
    info: Info, input: Annotated[SecurityProtectionsSetInput, INPUT]
) -> MfaAccountPayload:
    return _account_payload(
        info,
        await info.context.write_viewer(
            NO_SESSION,
            mfa.change_protections,
            login=(input.login_protection.sms, input.login_protection.totp),
            operation=(input.operation_protection.sms, input.operation_protection.totp),
            step_up_token=input.step_up_token,
        ),
    )


async def mfa_recovery_codes_regenerate(
    info: Info, input: Annotated[MfaRecoveryCodesRegenerateInput, INPUT]
) -> MfaRecoveryCodesPayload:
    result = await info.context.write_viewer(NO_SESSION, mfa.regenerate_recovery_codes, input.step_up_token)
    if isinstance(result, ServiceError):
        return MfaRecoveryCodesPayload(errors=user_errors(info, result))
    return MfaRecoveryCodesPayload(recovery_codes=result, errors=[])


def _account_payload(info: Info, result: Account | ServiceError) -> MfaAccountPayload:
    if isinstance(result, ServiceError):
        return MfaAccountPayload(errors=user_errors(info, result))
    return MfaAccountPayload(account=AccountType.of(result), errors=[])


async def login_challenge_code_send(
    info: Info, input: Annotated[LoginChallengeCodeSendInput, INPUT]
) -> LoginChallengeCodeSendPayload:
    ctx = info.context
    result = await ctx.write(auth.send_challenge_code, input.token, ctx.client)
    if isinstance(result, ServiceError):
        return LoginChallengeCodeSendPayload(errors=user_errors(info, result))
    return LoginChallengeCodeSendPayload(
        sent_to=mask_phone(result.destination),
        expires_at=result.expires_at,
        resend_available_at=result.resend_available_at,
        errors=[],
    )


async def session_create_by_challenge(
    info: Info, input: Annotated[SessionCreateByChallengeInput, INPUT]
) -> SessionCreatePayload:
    from resolvers.auth import _session_payload

    ctx = info.context
    return _session_payload(
        info, await ctx.write(auth.sign_in_by_challenge, input.token, ctx.client, factor_name(input.factor), input.code)
    )
