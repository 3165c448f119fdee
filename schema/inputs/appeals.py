"""Inputs of the appeal mutations."""

from __future__ import annotations

import strawberry

from schema.types.appeals import AppealMaterialRole


@strawberry.input(description="One material: its role and the upload ID from `POST /uploads`.")
class AppealMaterialInput:
    role: AppealMaterialRole = strawberry.field(description="Which material this upload is.")
    upload_id: str = strawberry.field(description="The `id` answered by `POST /uploads` (ORG-2).")


@strawberry.input(description="File a phone-rebind appeal because the bound phone is lost (APL-2, PROF-2).")
class PhoneRebindAppealFileInput:
    new_phone: str = strawberry.field(description="The phone to bind.")
    new_phone_code: str = strawberry.field(
        description="The PHONE_CHANGE_NEW code sent to `newPhone`. It is checked before the new phone's accounts "
        "are; each PHONE_QUOTA_REACHED or PHONE_HAS_PORTAL_ACCOUNT after it costs one of its 5 tries (CODE-2)."
    )
    materials: list[AppealMaterialInput] = strawberry.field(
        description="Every material of the account's set: ID_CARD_IN_HAND, APPLICATION_LETTER and PAYMENT_PROOF for "
        "a person (or an unverified account); LEGAL_REP_ID_CARD, BUSINESS_LICENCE and STAMPED_APPLICATION_LETTER "
        "for an enterprise."
    )


@strawberry.input(description="File an MFA-unbind appeal because the virtual MFA device is lost (APL-1, MFA-6).")
class MfaUnbindAppealFileInput:
    materials: list[AppealMaterialInput] = strawberry.field(
        description="Every material of the account's set: ID_CARD_IN_HAND (both sides of the verified ID card held "
        "in hand), APPLICATION_LETTER (the filled-in and signed unbind application letter) and PAYMENT_PROOF for a "
        "person (or an unverified account); LEGAL_REP_ID_CARD, BUSINESS_LICENCE and STAMPED_APPLICATION_LETTER for "
        "an enterprise."
    )


@strawberry.input(description="Send the material a reviewer asked for (REV-4).")
class AppealAnswerInput:
    id: strawberry.ID = strawberry.field(description="The appeal.")
    materials: list[AppealMaterialInput] = strawberry.field(description="The new or replacing materials.")
