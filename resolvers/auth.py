"""Sign-in, sessions, QR login, one-time codes and step-up grants."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Context
from schema.enums import QrLoginTicketStatus, SecondFactor, factor_name
from schema.errors import user_errors
from schema.inputs.auth import (
    NO_QR_LOGIN_TICKET_CREATE_INPUT,
    NO_SESSION_DELETE_INPUT,
    OperationChallengeVerifyInput,
    QrLoginTicketConfirmInput,
    QrLoginTicketCreateInput,
    SessionCreateByPasswordInput,
    SessionCreateByQrTicketInput,
    SessionCreateBySmsCodeInput,
    SessionDeleteInput,
    SessionRevokeInput,
    VerificationCodeSendInput,
    echoed,
)
from schema.types.account import AccountType, SessionType
from schema.types.common import INPUT, node_id
from schema.types.mfa import LoginChallenge
from schema.types.payloads import (
    OperationChallengeVerifyPayload,
    QrLoginTicket,
    QrLoginTicketConfirmPayload,
    QrLoginTicketCreatePayload,
    QrLoginTicketState,
    SentCode,
    SessionCreatePayload,
    SessionDeletePayload,
    SessionRevokePayload,
    SignedIn,
    StepUpGrant,
    VerificationCodeSendPayload,
)
from services.auth import service as auth
from services.auth.challenge import IssuedChallenge
from services.auth.errors import AuthErrorCode
from services.auth.service import IssuedSession
from services.codes.requests import request_code
from services.errors import ServiceError
from services.identifiers import mask_phone
from services.mfa import service as mfa
from services.mfa.errors import MfaErrorCode

Info = strawberry.Info[Context, None]


def _session_payload(info: Info, result: IssuedSession | IssuedChallenge | ServiceError) -> SessionCreatePayload:
    if isinstance(result, ServiceError):
        return SessionCreatePayload(errors=user_errors(info, result))
    if isinstance(result, IssuedChallenge):
        return SessionCreatePayload(
            result=LoginChallenge(
                token=result.token,
                factors=[SecondFactor(f) for f in result.factors],
                phone_masked=mask_phone(result.account.phone),
                expires_at=result.expires_at,
                attempts_remaining=result.attempts_remaining,
            ),
            errors=[],
        )
    return SessionCreatePayload(
        result=SignedIn(
            token=result.token,
            session=SessionType.from_model(result.session, result.session.id, result.expires_at),
            account=AccountType.of(result.account),
            account_created=result.account_created,
        ),
        errors=[],
    )


async def verification_code_send(
    info: Info, input: Annotated[VerificationCodeSendInput, INPUT]
) -> VerificationCodeSendPayload:
    ctx = info.context
    # CHG-4, CHG-5: a malformed change ID answers CHANGE_NOT_FOUND, like an unknown one.
    wanted = None if input.change_id is None else (node_id(input.change_id, "SubjectChange") or -1)
    result = await ctx.write_maybe_viewer(request_code, input.purpose, input.phone, input.email, ctx.client.ip, wanted)
    if isinstance(result, ServiceError):
        return VerificationCodeSendPayload(errors=user_errors(info, result))
    return VerificationCodeSendPayload(sent_code=SentCode.of(input.purpose, result), errors=[])


async def session_create_by_password(
    info: Info, input: Annotated[SessionCreateByPasswordInput, INPUT]
) -> SessionCreatePayload:
    ctx = info.context
    return _session_payload(info, await auth.sign_in_with_password(ctx, input.login_name, input.password, ctx.client))


async def session_create_by_sms_code(
    info: Info, input: Annotated[SessionCreateBySmsCodeInput, INPUT]
) -> SessionCreatePayload:
    ctx = info.context
    return _session_payload(info, await ctx.write(auth.sign_in_with_sms, input.phone, input.code, ctx.client))


async def session_create_by_qr_ticket(
    info: Info, input: Annotated[SessionCreateByQrTicketInput, INPUT]
) -> SessionCreatePayload:
    ctx = info.context
    return _session_payload(info, await ctx.write(auth.qr_ticket_redeem, input.token, ctx.client))


async def qr_login_ticket_create(
    info: Info, input: Annotated[QrLoginTicketCreateInput, INPUT] = NO_QR_LOGIN_TICKET_CREATE_INPUT
) -> QrLoginTicketCreatePayload:
    echo = echoed(input.client_mutation_id)
    result = await info.context.write(auth.qr_ticket_create)
    if isinstance(result, ServiceError):
        return QrLoginTicketCreatePayload(client_mutation_id=echo, errors=user_errors(info, result))
    return QrLoginTicketCreatePayload(
        ticket=QrLoginTicket(code=result.code, token=result.token, expires_at=result.expires_at),
        client_mutation_id=echo,
        errors=[],
    )


async def qr_login_ticket_confirm(
    info: Info, input: Annotated[QrLoginTicketConfirmInput, INPUT]
) -> QrLoginTicketConfirmPayload:
    result = await info.context.write_viewer(AuthErrorCode.AUTHENTICATION_REQUIRED, auth.qr_ticket_confirm, input.code)
    if isinstance(result, ServiceError):
        return QrLoginTicketConfirmPayload(errors=user_errors(info, result))
    status, expires_at = result
    return QrLoginTicketConfirmPayload(
        ticket=QrLoginTicketState(status=QrLoginTicketStatus(status), expires_at=expires_at), errors=[]
    )


async def qr_login_ticket(
    info: Info,
    token: Annotated[str, strawberry.argument(description="The `token` returned by `qrLoginTicketCreate`.")],
) -> QrLoginTicketState | None:
    found = await info.context.read(auth.qr_ticket_status, token)
    if found is None:
        return None
    status, expires_at = found
    return QrLoginTicketState(status=QrLoginTicketStatus(status), expires_at=expires_at)


async def session_delete(
    info: Info, input: Annotated[SessionDeleteInput, INPUT] = NO_SESSION_DELETE_INPUT
) -> SessionDeletePayload:
    echo = echoed(input.client_mutation_id)
    result = await info.context.write_viewer(AuthErrorCode.AUTHENTICATION_REQUIRED, auth.sign_out)
    if isinstance(result, ServiceError):
        return SessionDeletePayload(client_mutation_id=echo, errors=user_errors(info, result))
    return SessionDeletePayload(client_mutation_id=echo, errors=[])


async def session_revoke(info: Info, input: Annotated[SessionRevokeInput, INPUT]) -> SessionRevokePayload:
    session_id = node_id(input.id, "Session") or -1  # malformed: the same SESSION_NOT_FOUND as unknown
    result = await info.context.write_viewer(AuthErrorCode.AUTHENTICATION_REQUIRED, auth.revoke, session_id)
    if isinstance(result, ServiceError):
        return SessionRevokePayload(errors=user_errors(info, result))
    return SessionRevokePayload(account=AccountType.of(result), errors=[])


async def operation_challenge_verify(
    info: Info, input: Annotated[OperationChallengeVerifyInput, INPUT]
) -> OperationChallengeVerifyPayload:
    result = await info.context.write_viewer(
        MfaErrorCode.AUTHENTICATION_REQUIRED,
        mfa.grant,
        factor_name(input.factor),
        input.code,
    )
    if isinstance(result, ServiceError):
        return OperationChallengeVerifyPayload(errors=user_errors(info, result))
    return OperationChallengeVerifyPayload(
        step_up_grant=StepUpGrant(token=result.token, factor=SecondFactor(result.factor), expires_at=result.expires_at),
        errors=[],
    )
