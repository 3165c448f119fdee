"""Inputs of the real-name verification mutations."""

from __future__ import annotations

import strawberry

from schema.enums import DocumentType
from schema.inputs.accounts import AgreementAcceptanceInput

AGREEMENT = "The REAL_NAME_VERIFICATION agreement with the version from `agreements` (RN-6)."


@strawberry.input(description="Start a face verification (RNP-2): document, name and number, then a liveness check.")
class PersonalVerificationFaceStartInput:
    document_type: DocumentType = strawberry.field(description="One of the four documents of RNP-2.")
    name: str = strawberry.field(description="The name as on the document, 1 to 64 characters.")
    document_number: str = strawberry.field(
        description="The document number. A mainland ID number must pass the GB 11643 check (RNP-6) and show an "
        "age of at least 14 (RN-4); a failed local check is never sent to the registry and never counted."
    )
    agreement: AgreementAcceptanceInput | None = strawberry.field(default=None, description=AGREEMENT)


@strawberry.input(description="Verify by bank card (RNP-4): four elements and the SMS code sent to the reserved phone.")
class PersonalVerificationBankCardSubmitInput:
    name: str = strawberry.field(description="The cardholder's name, 1 to 64 characters.")
    id_number: str = strawberry.field(description="Mainland resident ID number, 18 characters (RNP-6, RN-4).")
    card_number: str = strawberry.field(
        description="A UnionPay card number (starting with 62) passing the Luhn check (RNP-4, RNP-6); spaces allowed."
    )
    reserved_phone: str = strawberry.field(description="The mobile number reserved at the bank for this card.")
    code: str = strawberry.field(
        description="The BANK_CARD code sent to `reservedPhone` with `verificationCodeSend` (RNP-4)."
    )
    agreement: AgreementAcceptanceInput | None = strawberry.field(default=None, description=AGREEMENT)
    document_type: DocumentType = strawberry.field(
        default=DocumentType.MAINLAND_ID_CARD,
        description="Always MAINLAND_ID_CARD: bank-card verification takes no other document (RNP-4).",
    )
