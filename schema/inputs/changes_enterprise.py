"""Inputs of the CHG-3 steps: a change to another enterprise."""

from __future__ import annotations

import strawberry

from schema.enums import OrganisationType
from schema.inputs.changes import CHANGE_ID
from services.verification.changes.enterprise import REASON_MAX, DetailsInput


@strawberry.input(description="The new enterprise as registered (CHG-3): another USCC than the current one.")
class SubjectChangeNewOrganisationInput:
    name: str = strawberry.field(description="The registered name, 1 to 128 characters.")
    uscc: str = strawberry.field(
        description="Its unified social credit code (GB 32100 check); another than the current one "
        "(CHANGE_USCC_UNCHANGED: a new name under the same code is a NAME change)."
    )
    organisation_type: OrganisationType = strawberry.field(description="Its type (see `organisationTypes`).")
    legal_representative_name: str = strawberry.field(description="Its legal representative, 1 to 64 characters.")


@strawberry.input(description="CHG-3: the new enterprise, the reason and the original subject's contact.")
class SubjectChangeEnterpriseDetailsSubmitInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)
    new_organisation: SubjectChangeNewOrganisationInput = strawberry.field(description="The new enterprise.")
    reason: str = strawberry.field(description=f"Why the subject changes, 1 to {REASON_MAX} characters.")
    contact_name: str = strawberry.field(
        description="The original subject's contact, who passes a face check next (`subjectChangeContactFaceStart`)."
    )
    contact_id_number: str = strawberry.field(
        description="The contact's mainland ID number (RNP-6 check); kept sealed, shown masked."
    )

    def to_service(self) -> DetailsInput:
        org = self.new_organisation
        return DetailsInput(
            name=org.name,
            uscc=org.uscc,
            organisation_type=org.organisation_type,
            legal_rep_name=org.legal_representative_name,
            reason=self.reason,
            contact_name=self.contact_name,
            contact_id_number=self.contact_id_number,
        )


@strawberry.input(description="CHG-3: start the original subject's contact's face check.")
class SubjectChangeContactFaceStartInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)


@strawberry.input(description="CHG-3: the change application form, stamped by both subjects.")
class SubjectChangeStampedFormSubmitInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)
    upload_id: strawberry.ID = strawberry.field(
        description="The `id` of an `UploadedDocument` answered by `POST /uploads` (ORG-2): the scan or photo of the "
        "form from `SubjectChange.formDownloadUrl`, stamped by both subjects."
    )
