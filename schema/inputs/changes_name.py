"""Inputs of the name-change mutations (CHG-2) and of the answer to a reviewer's request for more material on
any subject change (REV-4)."""

from __future__ import annotations

from enum import Enum

import strawberry

from schema.inputs.changes import CHANGE_ID, SubjectChangeAgreementInput


@strawberry.enum(description="CHG-2: what the supplementary material of a name change is.")
class SubjectChangeSupplementKind(Enum):
    REGISTRY_CHANGE_CERTIFICATE = strawberry.enum_value(
        "registry_change_certificate",
        description="The registry's certificate of the name change (工商变更登记证明).",
    )
    CHANGE_APPLICATION_FORM = strawberry.enum_value(
        "change_application_form", description="The name change application form (名称变更申请表), stamped."
    )


@strawberry.input(
    description="CHG-2: the new name and the new business licence of a name change, with the acceptance agreement; "
    "sent at DETAILS_PENDING, or again at MATERIAL_PENDING to correct them."
)
class SubjectChangeNameSubmitInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)
    new_name: str = strawberry.field(
        description="The enterprise's new registered name (1 to 128 characters on one line); not the verified name."
    )
    licence_upload_id: strawberry.ID = strawberry.field(
        description="The new business licence image, from `POST /uploads` (the account's own upload)."
    )
    acceptance_agreement: SubjectChangeAgreementInput = strawberry.field(
        description="The SUBJECT_CHANGE_ACCEPTANCE agreement."
    )


@strawberry.input(description="CHG-2: the supplementary material, when the automatic check failed (MATERIAL_PENDING).")
class SubjectChangeNameMaterialSubmitInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)
    supplement_upload_id: strawberry.ID = strawberry.field(
        description="The image of the material, from `POST /uploads` (the account's own upload)."
    )
    supplement_kind: SubjectChangeSupplementKind = strawberry.field(description="What the material is.")


@strawberry.input(description="REV-4: the material a reviewer asked for on a subject change (WAITING_USER).")
class SubjectChangeMaterialAnswerInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)
    upload_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 10 images from `POST /uploads` (the account's own uploads), as `moreMaterialMessage` asks."
    )
