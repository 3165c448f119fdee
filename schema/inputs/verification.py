"""Inputs of the real-name verification mutations."""

from __future__ import annotations

import strawberry

from schema.enums import DocumentType

AGREEMENT = "The REAL_NAME_VERIFICATION agreement, accepted with this submission (RN-6)."


@strawberry.input(
    description="The real-name verification agreement (REAL_NAME_VERIFICATION) the user accepted (RN-6); it is "
    "recorded with the verification it leads to."
)
class VerificationAgreementInput:
    version: str = strawberry.field(
        description="The version shown to the user: the current one from `agreements` (an older one is "
        "AGREEMENT_VERSION_OUTDATED)."
    )


@strawberry.input(description="Start a face verification (RNP-2): document, name and number, then a liveness check.")
class PersonalVerificationFaceStartInput:
    document_type: DocumentType = strawberry.field(description="One of the four documents of RNP-2.")
    name: str = strawberry.field(description="The name as on the document, 1 to 64 characters.")
    document_number: str = strawberry.field(
        description="The document number. A mainland ID number must pass the GB 11643 check (RNP-6) and show an "
        "age of at least 14 (RN-4); a failed local check is never sent to the registry and never counted."
    )
    agreement: VerificationAgreementInput = strawberry.field(description=AGREEMENT)
    change_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="CHG-5: the subject change (`SubjectChange.id`, at NEW_SUBJECT_PENDING) whose new person this "
        "verifies; the person must be another than the account's current one (SAME_PERSON). Leave out otherwise.",
    )


@strawberry.input(
    description="Verify by bank card (RNP-4): four elements and the SMS code sent to the reserved phone. The "
    "document is always a mainland resident ID card (RNP-4); other documents verify by face."
)
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
    agreement: VerificationAgreementInput = strawberry.field(description=AGREEMENT)
    change_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="CHG-5: the subject change (`SubjectChange.id`, at NEW_SUBJECT_PENDING) whose new person this "
        "verifies; the person must be another than the account's current one (SAME_PERSON). Leave out otherwise.",
    )
