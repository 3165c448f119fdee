"""Inputs of the enterprise verification mutations (RNE-2..8)."""

from __future__ import annotations

import strawberry

from schema.enums import FaceBy, OrganisationType
from schema.inputs.accounts import AgreementAcceptanceInput
from services.verification import enterprise

AGREEMENT = "The REAL_NAME_VERIFICATION agreement with the version from `agreements` (RN-6)."


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
    legal_representative_name: str = strawberry.field(description="The legal representative as registered.")

    def to_service(self) -> enterprise.OrganisationInput:
        return enterprise.OrganisationInput(
            name=self.name,
            uscc=self.uscc,
            organisation_type=self.organisation_type,
            legal_rep_name=self.legal_representative_name,
        )


@strawberry.input(description="Verify an organisation by its legal representative's face (RNE-2, RNE-3).")
class EnterpriseVerificationLegalRepFaceStartInput:
    organisation: OrganisationInput = strawberry.field(description="The organisation.")
    legal_representative_id_number: str | None = strawberry.field(
        default=None,
        description="LEGAL_REPRESENTATIVE: the legal representative's mainland ID number (RNP-6 check); not used when "
        "an authorised employee does the face check.",
    )
    face_by: FaceBy = strawberry.field(
        default=FaceBy.LEGAL_REPRESENTATIVE,
        description="Who does the face check; AUTHORISED_EMPLOYEE for other organisations only (RNE-3).",
    )
    employee_name: str | None = strawberry.field(default=None, description="AUTHORISED_EMPLOYEE: the employee's name.")
    employee_id_number: str | None = strawberry.field(
        default=None, description="AUTHORISED_EMPLOYEE: the employee's mainland ID number."
    )
    authorisation_letter_upload_id: str | None = strawberry.field(
        default=None,
        description="AUTHORISED_EMPLOYEE: the signed and stamped authorisation letter (template at "
        "`/downloads/authorisation-letter`), uploaded with `POST /uploads` (ORG-2).",
    )
    agreement: AgreementAcceptanceInput | None = strawberry.field(default=None, description=AGREEMENT)


@strawberry.input(description="Verify an organisation by a corporate bank transfer (RNE-4).")
class EnterpriseVerificationBankTransferStartInput:
    organisation: OrganisationInput = strawberry.field(description="The organisation.")
    bank_name: str = strawberry.field(description="The opening bank, one of `banks`.")
    account_number: str = strawberry.field(description="The corporate account number.")
    handler_name: str = strawberry.field(description="The person handling it, who does the face check first.")
    handler_id_number: str = strawberry.field(description="The handler's mainland ID number.")
    agreement: AgreementAcceptanceInput | None = strawberry.field(default=None, description=AGREEMENT)


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
    agreement: AgreementAcceptanceInput | None = strawberry.field(default=None, description=AGREEMENT)


@strawberry.input(description="Send the material a reviewer asked for (RNE-3, REV-4).")
class EnterpriseVerificationMaterialAnswerInput:
    id: strawberry.ID = strawberry.field(description="The enterprise verification.")
    authorisation_letter_upload_id: str = strawberry.field(description="The new upload from `POST /uploads`.")
