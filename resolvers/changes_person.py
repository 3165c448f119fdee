"""Person-side subject-change mutations (CHG-4, CHG-5): the current person's identity proof."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.changes import change_id, face_check_started, payload
from resolvers.verification import signed_out
from schema.context import Context
from schema.inputs.changes_person import SubjectChangeIdentityBankCardSubmitInput, SubjectChangeIdentityFaceStartInput
from schema.types.changes_person import SubjectChangeIdentityFaceStartPayload
from schema.types.common import INPUT
from schema.types.payloads import SubjectChangePayload
from services.verification.changes import identity

Info = strawberry.Info[Context, None]


async def subject_change_identity_face_start(
    info: Info, input: Annotated[SubjectChangeIdentityFaceStartInput, INPUT]
) -> SubjectChangeIdentityFaceStartPayload:
    return await face_check_started(info, SubjectChangeIdentityFaceStartPayload, identity.start_face, input.change_id)


async def subject_change_identity_bank_card_submit(
    info: Info, input: Annotated[SubjectChangeIdentityBankCardSubmitInput, INPUT]
) -> SubjectChangePayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return SubjectChangePayload(errors=signed_out(info))
    data = identity.IdentityBankCardInput(
        card_number=input.card_number, reserved_phone=input.reserved_phone, code=input.code
    )
    return await payload(
        info, await identity.submit_bank_card(ctx, viewer.account.id, change_id(input.change_id), data)
    )
