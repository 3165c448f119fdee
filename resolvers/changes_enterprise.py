"""CHG-3 mutations (a change to another enterprise): input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated

from models.changes import SubjectChange
from resolvers.changes import NO_SESSION, Info, change_id, face_check_started, payload
from schema.inputs.changes_enterprise import (
    SubjectChangeContactFaceStartInput,
    SubjectChangeEnterpriseDetailsSubmitInput,
    SubjectChangeStampedFormSubmitInput,
)
from schema.types.changes_enterprise import SubjectChangeContactFaceStartPayload
from schema.types.common import INPUT
from schema.types.documents import document_row_id
from schema.types.payloads import SubjectChangePayload
from services.uow import Uow
from services.verification.changes import enterprise as to_enterprise
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
    return await face_check_started(
        info, SubjectChangeContactFaceStartPayload, to_enterprise.start_contact_face, input.change_id
    )


async def subject_change_stamped_form_submit(
    info: Info, input: Annotated[SubjectChangeStampedFormSubmitInput, INPUT]
) -> SubjectChangePayload:
    wanted, document_id = change_id(input.change_id), document_row_id(input.upload_id)

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await to_enterprise.submit_stamped_form(uow, viewer.account.id, wanted, document_id)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))
