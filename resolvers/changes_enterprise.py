"""CHG-3 mutations (a change to another enterprise): input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated

from models.changes import SubjectChange
from resolvers.changes import NO_SESSION, Info, change_id, payload
from resolvers.verification import signed_out
from schema.errors import user_errors
from schema.inputs.changes_enterprise import (
    SubjectChangeContactFaceStartInput,
    SubjectChangeEnterpriseDetailsSubmitInput,
    SubjectChangeStampedFormSubmitInput,
)
from schema.types.account import AccountType
from schema.types.changes import SubjectChangeType
from schema.types.changes_enterprise import SubjectChangeContactFaceStartPayload
from schema.types.common import INPUT
from schema.types.documents import document_row_id
from schema.types.payloads import PersonalFaceCheckStart, SubjectChangePayload
from schema.types.verification import FaceCheck, VerificationAttemptType
from services.errors import ServiceError
from services.uow import Uow
from services.verification.changes import enterprise as to_enterprise
from services.verification.changes import service as changes
from services.viewer import Viewer


async def subject_change_enterprise_details_submit(
    info: Info, input: Annotated[SubjectChangeEnterpriseDetailsSubmitInput, INPUT]
) -> SubjectChangePayload:
    wanted, data = change_id(input.change_id), input.to_service()

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await to_enterprise.submit_details(uow, viewer.account.id, wanted, data)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))


async def subject_change_contact_face_start(
    info: Info, input: Annotated[SubjectChangeContactFaceStartInput, INPUT]
) -> SubjectChangeContactFaceStartPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return SubjectChangeContactFaceStartPayload(errors=signed_out(info))
    result = await to_enterprise.start_contact_face(ctx, viewer.account.id, change_id(input.change_id))
    if isinstance(result, ServiceError):
        return SubjectChangeContactFaceStartPayload(errors=user_errors(info, result))
    now = ctx.deps.clock.now()
    rows, counted = await ctx.read(changes.of_account, viewer.account.id, [result.change.id])
    change, item = rows[0]
    return SubjectChangeContactFaceStartPayload(
        subject_change=SubjectChangeType.from_model(change, item, counted, now),
        face_check_start=PersonalFaceCheckStart(
            attempt=VerificationAttemptType.from_model(result.attempt, now),
            face_check=FaceCheck.of(result.url, result.expires_at),
        ),
        account=AccountType.of(viewer.account),
        errors=[],
    )


async def subject_change_stamped_form_submit(
    info: Info, input: Annotated[SubjectChangeStampedFormSubmitInput, INPUT]
) -> SubjectChangePayload:
    wanted, document_id = change_id(input.change_id), document_row_id(input.upload_id)

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await to_enterprise.submit_stamped_form(uow, viewer.account.id, wanted, document_id)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))
