"""Inputs of the enterprise verification mutations (RNE-2..8)."""

from __future__ import annotations

import strawberry

from schema.enums import LegalRepFaceBy, OrganisationType
from schema.inputs.verification import AGREEMENT, VerificationAgreementInput
from schema.types.documents import document_row_id
from services.verification.enterprise import checks
from services.verification.enterprise.review import MaterialAnswer

UPLOAD = "The `id` of an `UploadedDocument` answered by `POST /uploads` (ORG-2)."
CHANGE = (
    "Verify the new subject of this subject change (`SubjectChange.id`, at NEW_SUBJECT_PENDING; CHG-3, CHG-4) "
    "instead of a first verification: the account's verification becomes this organisation's when it passes. "
    "The change counts its own attempts (CHG-4: 5 per method) instead of the account's; CHG-3: the organisation "
    "must be the one named in the change (CHANGE_ORGANISATION_MISMATCH)."
)


@strawberry.input(description="The organisation as registered (RNE-2, RNE-9).")
class OrganisationInput:
    name: str = strawberry.field(description="The registered name, 1 to 128 characters.")
    uscc: str = strawberry.field(
        description="The unified social credit code: 18 characters passing the GB 32100 check (checked before any "
        "registry call; never counted)."
    )
    organisation_type: OrganisationType = strawberry.field(
        description="The type, matching the certificate (RNE-9; see `organisationTypes`)."
    )
    legal_representative_name: str = strawberry.field(
        description="The legal representative as registered, 1 to 64 characters."
    )
    certificate_upload_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Required (ORG-4): the image of the licence or registration certificate named for the type "
        "(`organisationTypes.certificateName`, ORG-1): a colour photo or colour scan of the original, or a copy "
        "bearing a fresh company stamp (electronic seals are not accepted), taken from the front with all four "
        "corners visible and the text and stamp legible; no re-photographed, screenshot, mirrored or edited image. "
        "Without it: CERTIFICATE_REQUIRED, reported with the form's other problems, and nothing is counted. "
        f"{UPLOAD}",
    )

    def to_service(self) -> checks.OrganisationInput:
        certificate = self.certificate_upload_id
        return checks.OrganisationInput(
            name=self.name,
            uscc=self.uscc,
            organisation_type=self.organisation_type,
            legal_rep_name=self.legal_representative_name,
            certificate_document_id=None if certificate is None else document_row_id(certificate),
        )


@strawberry.input(description="Verify an organisation by its legal representative's face (RNE-2, RNE-3).")
class EnterpriseVerificationLegalRepFaceStartInput:
    organisation: OrganisationInput = strawberry.field(description="The organisation.")
    face_by: LegalRepFaceBy = strawberry.field(
        default=LegalRepFaceBy.LEGAL_REPRESENTATIVE,
        description="Who does the face check; AUTHORISED_EMPLOYEE for other organisations only (RNE-3).",
    )
    legal_representative_id_number: str | None = strawberry.field(
        default=None,
        description="LEGAL_REPRESENTATIVE (required then): the legal representative's mainland ID number (RNP-6 "
        "check); not used when an authorised employee does the face check.",
    )
    employee_name: str | None = strawberry.field(
        default=None, description="AUTHORISED_EMPLOYEE (required then): the employee's name, 1 to 64 characters."
    )
    employee_id_number: str | None = strawberry.field(
        default=None, description="AUTHORISED_EMPLOYEE (required then): the employee's mainland ID number."
    )
    authorisation_letter_upload_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="AUTHORISED_EMPLOYEE (required then): the signed and stamped authorisation letter (template at "
        f"`/downloads/authorisation-letter`). {UPLOAD}",
    )
    agreement: VerificationAgreementInput = strawberry.field(description=AGREEMENT)
    change_id: strawberry.ID | None = strawberry.field(default=None, description=CHANGE)


@strawberry.input(description="Verify an organisation by a corporate bank transfer (RNE-4).")
class EnterpriseVerificationBankTransferStartInput:
    organisation: OrganisationInput = strawberry.field(
        description="The organisation; not a public institution (RNE-6)."
    )
    bank_name: str = strawberry.field(description="The opening bank, one of `banks`.")
    account_number: str = strawberry.field(description="The corporate account number, 6 to 32 digits.")
    handler_name: str = strawberry.field(
        description="The person handling it, who does the face check first; 1 to 64 characters."
    )
    handler_id_number: str = strawberry.field(description="The handler's mainland ID number.")
    agreement: VerificationAgreementInput = strawberry.field(description=AGREEMENT)
    change_id: strawberry.ID | None = strawberry.field(default=None, description=CHANGE)


@strawberry.input(description="Confirm the amount the corporate account received (RNE-4, RNE-5).")
class EnterpriseVerificationAmountConfirmInput:
    id: strawberry.ID = strawberry.field(description="The enterprise verification.")
    amount: str = strawberry.field(description="The amount received in CNY, e.g. `0.37`.")


@strawberry.input(description="Verify an organisation by a recharge from its own bank account (RNE-8).")
class EnterpriseVerificationRechargeStartInput:
    organisation: OrganisationInput = strawberry.field(description="The organisation.")
    code: str | None = strawberry.field(
        default=None,
        description="The REMITTANCE_ACCOUNT code sent to the bound phone; needed once, to create the account's "
        "dedicated remittance account.",
    )
    agreement: VerificationAgreementInput = strawberry.field(description=AGREEMENT)
    change_id: strawberry.ID | None = strawberry.field(default=None, description=CHANGE)


@strawberry.input(
    description="Send the material a reviewer asked for (RNE-3, ORG-4, REV-4): a new authorisation letter, a new "
    "certificate image, or both; at least one (MATERIAL_MISSING otherwise)."
)
class EnterpriseVerificationMaterialAnswerInput:
    id: strawberry.ID = strawberry.field(description="The enterprise verification.")
    authorisation_letter_upload_id: strawberry.ID | None = strawberry.field(
        default=None, description=f"The new authorisation letter (RNE-3). {UPLOAD}"
    )
    certificate_upload_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The new image of the certificate named for the organisation's type, as ORG-4 asks for it "
        f"(see `OrganisationInput.certificateUploadId`). {UPLOAD}",
    )

    def to_service(self) -> MaterialAnswer:
        letter, certificate = self.authorisation_letter_upload_id, self.certificate_upload_id
        return MaterialAnswer(
            authorisation_document_id=None if letter is None else document_row_id(letter),
            certificate_document_id=None if certificate is None else document_row_id(certificate),
        )
