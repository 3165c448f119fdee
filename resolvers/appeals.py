"""Appeal mutations: input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Context
from schema.errors import user_errors
from schema.inputs.appeals import (
    AppealAnswerByTokenInput,
    AppealAnswerInput,
    AppealMaterialInput,
    MfaUnbindAppealFileInput,
    PhoneRebindAppealCodeSendInput,
    PhoneRebindAppealFileInput,
    PhoneRebindAppealStartInput,
    PhoneRebindAppealSubmitInput,
)
from schema.types.appeals import AppealTokenType, AppealType
from schema.types.common import INPUT, node_id
from schema.types.documents import document_row_id
from schema.types.payloads import (
    AppealPayload,
    PhoneRebindAppealStartPayload,
    SentCode,
    VerificationCodeSendPayload,
)
from services.appeals import service as appeals
from services.appeals import signed_out
from services.appeals.errors import AppealErrorCode
from services.codes.requests import CodeSendPurpose
from services.errors import ServiceError

Info = strawberry.Info[Context, None]
NO_SESSION = AppealErrorCode.AUTHENTICATION_REQUIRED


def _materials(items: list[AppealMaterialInput]) -> list[appeals.Material]:
    """In input order (errors point at `materials.<index>`); a malformed upload ID names no upload."""
    return [appeals.Material(role=m.role.name, document_id=document_row_id(m.upload_id)) for m in items]


def _payload(info: Info, result: appeals.Filed | ServiceError) -> AppealPayload:
    if isinstance(result, ServiceError):
        return AppealPayload(errors=user_errors(info, result))
    return AppealPayload(
        appeal=AppealType.from_model(result.appeal, result.item),
        appeal_token=AppealTokenType.from_issued(result.token),
        errors=[],
    )


async def phone_rebind_appeal_file(info: Info, input: Annotated[PhoneRebindAppealFileInput, INPUT]) -> AppealPayload:
    # APL-2: with a session, or with the login challenge of a right password (login protection asks for
    # the lost phone); filed that way, the answer carries an appeal token.
    return _payload(
        info,
        await info.context.write_viewer_or_challenge(
            NO_SESSION,
            appeals.file_phone_rebind,
            new_phone=input.new_phone,
            new_phone_code=input.new_phone_code,
            materials=_materials(input.materials),
        ),
    )


async def phone_rebind_appeal_code_send(
    info: Info, input: Annotated[PhoneRebindAppealCodeSendInput, INPUT]
) -> VerificationCodeSendPayload:
    ctx = info.context
    result = await signed_out.send_new_phone_code(ctx, input.new_phone, input.bot_token, ctx.client.ip)
    if isinstance(result, ServiceError):
        return VerificationCodeSendPayload(errors=user_errors(info, result))
    return VerificationCodeSendPayload(sent_code=SentCode.of(CodeSendPurpose.PHONE_CHANGE_NEW, result), errors=[])


async def phone_rebind_appeal_start(
    info: Info, input: Annotated[PhoneRebindAppealStartInput, INPUT]
) -> PhoneRebindAppealStartPayload:
    result = await info.context.write(
        signed_out.start_phone_rebind, input.login_name, input.new_phone, input.new_phone_code
    )
    if isinstance(result, ServiceError):
        return PhoneRebindAppealStartPayload(errors=user_errors(info, result))
    return PhoneRebindAppealStartPayload(appeal_token=AppealTokenType.from_issued(result), errors=[])


async def phone_rebind_appeal_submit(
    info: Info, input: Annotated[PhoneRebindAppealSubmitInput, INPUT]
) -> AppealPayload:
    return _payload(
        info,
        await info.context.write(
            signed_out.submit_phone_rebind, input.appeal_token, _materials(input.materials), info.context.client
        ),
    )


async def mfa_unbind_appeal_file(info: Info, input: Annotated[MfaUnbindAppealFileInput, INPUT]) -> AppealPayload:
    # APL-1: a user locked out by the lost device files with the login challenge of a right password.
    return _payload(
        info,
        await info.context.write_viewer_or_challenge(NO_SESSION, appeals.file_mfa_unbind, _materials(input.materials)),
    )


async def appeal_answer(info: Info, input: Annotated[AppealAnswerInput, INPUT]) -> AppealPayload:
    appeal_id = node_id(input.id, "Appeal") or -1  # malformed: the same NOT_FOUND as an unknown appeal
    return _payload(
        info,
        await info.context.write_viewer_or_challenge(
            NO_SESSION, appeals.answer, appeal_id, _materials(input.materials)
        ),
    )


async def appeal_answer_by_token(info: Info, input: Annotated[AppealAnswerByTokenInput, INPUT]) -> AppealPayload:
    return _payload(
        info, await info.context.write(signed_out.answer_by_token, input.appeal_token, _materials(input.materials))
    )


async def appeal_by_token(
    info: Info,
    token: Annotated[str, strawberry.argument(description="An `AppealToken.token` of a filed appeal.")],
) -> AppealType | None:
    found = await info.context.read(signed_out.read_by_token, token)
    return None if found is None else AppealType.from_model(*found)
