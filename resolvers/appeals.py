"""Appeal mutations: input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models.appeals import Appeal
from schema.context import Context
from schema.errors import user_errors
from schema.inputs.appeals import (
    AppealAnswerInput,
    AppealMaterialInput,
    MfaUnbindAppealFileInput,
    PhoneRebindAppealFileInput,
)
from schema.types.appeals import AppealType
from schema.types.common import INPUT, node_id
from schema.types.documents import document_row_id
from schema.types.payloads import AppealPayload
from services.appeals import service as appeals
from services.appeals.errors import AppealErrorCode
from services.errors import ServiceError

Info = strawberry.Info[Context, None]
NO_SESSION = AppealErrorCode.AUTHENTICATION_REQUIRED


def _materials(items: list[AppealMaterialInput]) -> list[appeals.Material]:
    """In input order (errors point at `materials.<index>`); a malformed upload ID names no upload."""
    return [appeals.Material(role=m.role.name, document_id=document_row_id(m.upload_id)) for m in items]


def _payload(info: Info, result: Appeal | ServiceError) -> AppealPayload:
    if isinstance(result, ServiceError):
        return AppealPayload(errors=user_errors(info, result))
    return AppealPayload(appeal=AppealType.from_model(result, None), errors=[])


async def phone_rebind_appeal_file(info: Info, input: Annotated[PhoneRebindAppealFileInput, INPUT]) -> AppealPayload:
    return _payload(
        info,
        await info.context.write_viewer(
            NO_SESSION,
            appeals.file_phone_rebind,
            new_phone=input.new_phone,
            new_phone_code=input.new_phone_code,
            materials=_materials(input.materials),
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
