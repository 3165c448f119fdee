"""Real-name verification mutations: input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.changes import change_id
from schema.context import Context
from schema.errors import UserError, user_errors
from schema.inputs.verification import PersonalVerificationBankCardSubmitInput, PersonalVerificationFaceStartInput
from schema.types.account import AccountType
from schema.types.common import INPUT
from schema.types.payloads import (
    PersonalFaceCheckStart,
    PersonalVerificationBankCardSubmitPayload,
    PersonalVerificationFaceStartPayload,
)
from schema.types.verification import FaceCheck, PersonalVerification, VerificationAttemptType
from services.errors import ServiceError
from services.verification import personal
from services.verification.errors import VerificationErrorCode

Info = strawberry.Info[Context, None]


def _change(global_id: str | None) -> int | None:
    """CHG-5: the change a personal verification runs inside, if any (malformed: CHANGE_NOT_FOUND)."""
    return None if global_id is None else change_id(global_id)


def signed_out(info: Info) -> list[UserError]:
    return user_errors(info, ServiceError(VerificationErrorCode.AUTHENTICATION_REQUIRED, "Sign in first.", None))


async def personal_verification_face_start(
    info: Info, input: Annotated[PersonalVerificationFaceStartInput, INPUT]
) -> PersonalVerificationFaceStartPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return PersonalVerificationFaceStartPayload(errors=signed_out(info))
    result = await personal.start_face_check(
        ctx,
        viewer.account.id,
        input.name,
        input.document_type,
        input.document_number,
        input.agreement.version,
        _change(input.change_id),
    )
    if isinstance(result, ServiceError):
        return PersonalVerificationFaceStartPayload(errors=user_errors(info, result))
    return PersonalVerificationFaceStartPayload(
        face_check_start=PersonalFaceCheckStart(
            attempt=VerificationAttemptType.from_model(result.attempt, ctx.deps.clock.now()),
            face_check=FaceCheck.of(result.url, result.expires_at),
        ),
        account=AccountType.of(viewer.account),
        errors=[],
    )


async def personal_verification_bank_card_submit(
    info: Info, input: Annotated[PersonalVerificationBankCardSubmitInput, INPUT]
) -> PersonalVerificationBankCardSubmitPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return PersonalVerificationBankCardSubmitPayload(errors=signed_out(info))
    result = await personal.submit_bank_card(
        ctx,
        viewer.account.id,
        personal.BankCardInput(
            name=input.name,
            id_number=input.id_number,
            card_number=input.card_number,
            reserved_phone=input.reserved_phone,
            code=input.code,
            agreement_version=input.agreement.version,
        ),
        _change(input.change_id),
    )
    if isinstance(result, ServiceError):
        return PersonalVerificationBankCardSubmitPayload(errors=user_errors(info, result))
    return PersonalVerificationBankCardSubmitPayload(
        verification=PersonalVerification.from_model(result), account=AccountType.of(viewer.account), errors=[]
    )
