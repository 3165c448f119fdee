"""Name-change mutations (CHG-2) and the answer to a reviewer's request for more material on any subject change
(REV-4): input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models.changes import SubjectChange
from resolvers.changes import NO_SESSION, change_id, payload
from schema.context import Context
from schema.inputs.changes_name import (
    SubjectChangeMaterialAnswerInput,
    SubjectChangeNameMaterialSubmitInput,
    SubjectChangeNameSubmitInput,
)
from schema.types.common import INPUT
from schema.types.documents import document_row_id
from schema.types.payloads import SubjectChangePayload
from services.uow import Uow
from services.verification.changes import name as name_change
from services.verification.changes import review as change_review
from services.viewer import Viewer

Info = strawberry.Info[Context, None]


async def subject_change_name_submit(
    info: Info, input: Annotated[SubjectChangeNameSubmitInput, INPUT]
) -> SubjectChangePayload:
    data = name_change.NameInput(
        change_id=change_id(input.change_id),
        new_name=input.new_name,
        licence_document_id=document_row_id(input.licence_upload_id),
        acceptance_version=input.acceptance_agreement.version,
    )
    return await payload(info, await name_change.submit_name(info.context, data))


async def subject_change_name_material_submit(
    info: Info, input: Annotated[SubjectChangeNameMaterialSubmitInput, INPUT]
) -> SubjectChangePayload:
    wanted, document_id = change_id(input.change_id), document_row_id(input.supplement_upload_id)
    kind = name_change.SupplementKind(str(input.supplement_kind.value))

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await name_change.submit_material(uow, viewer, wanted, document_id, kind)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))


async def subject_change_material_answer(
    info: Info, input: Annotated[SubjectChangeMaterialAnswerInput, INPUT]
) -> SubjectChangePayload:
    wanted, document_ids = change_id(input.change_id), [document_row_id(u) for u in input.upload_ids]

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await change_review.answer_material(uow, viewer, wanted, document_ids)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))
