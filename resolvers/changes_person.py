"""Person-side subject-change mutations (CHG-4, CHG-5): the current person's identity proof."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.changes import NO_SESSION, change_id, payload
from schema.context import Context
from schema.errors import UserError, user_errors
from schema.inputs.changes_person import SubjectChangeIdentityBankCardSubmitInput, SubjectChangeIdentityFaceStartInput
from schema.types.account import AccountType
from schema.types.changes import SubjectChangeType
from schema.types.changes_person import SubjectChangeIdentityFaceStartPayload
from schema.types.common import INPUT
from schema.types.payloads import PersonalFaceCheckStart, SubjectChangePayload
from schema.types.verification import FaceCheck, VerificationAttemptType
from services.errors import ServiceError
from services.verification.changes import identity
from services.verification.changes import service as changes

Info = strawberry.Info[Context, None]


def _signed_out(info: Info) -> list[UserError]:
    return user_errors(info, ServiceError(NO_SESSION, "Sign in first.", None))


async def subject_change_identity_face_start(
    info: Info, input: Annotated[SubjectChangeIdentityFaceStartInput, INPUT]
) -> SubjectChangeIdentityFaceStartPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return SubjectChangeIdentityFaceStartPayload(errors=_signed_out(info))
    result = await identity.start_face(ctx, viewer.account.id, change_id(input.change_id))
    if isinstance(result, ServiceError):
        return SubjectChangeIdentityFaceStartPayload(errors=user_errors(info, result))
    now = ctx.deps.clock.now()
    rows, counted = await ctx.read(changes.of_account, viewer.account.id, [result.change.id])
    change, item = rows[0]
    return SubjectChangeIdentityFaceStartPayload(
        subject_change=SubjectChangeType.from_model(change, item, counted, now),
        face_check_start=PersonalFaceCheckStart(
            attempt=VerificationAttemptType.from_model(result.attempt, now),
            face_check=FaceCheck.of(result.url, result.expires_at),
        ),
        account=AccountType.of(viewer.account),
        errors=[],
    )


async def subject_change_identity_bank_card_submit(
    info: Info, input: Annotated[SubjectChangeIdentityBankCardSubmitInput, INPUT]
) -> SubjectChangePayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return SubjectChangePayload(errors=_signed_out(info))
    data = identity.IdentityBankCardInput(
        card_number=input.card_number, reserved_phone=input.reserved_phone, code=input.code
    )
    return await payload(
        info, await identity.submit_bank_card(ctx, viewer.account.id, change_id(input.change_id), data)
    )
