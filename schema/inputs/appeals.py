"""Inputs of the appeal mutations."""

from __future__ import annotations

import strawberry

from schema.types.appeals import AppealMaterialRole

MATERIALS = (
    "Each material once, by role. A person (or an unverified account) sends ID_CARD_IN_HAND (both sides of the "
    "verified ID card held in hand), APPLICATION_LETTER (the filled-in and signed application letter) and "
    "PAYMENT_PROOF; an enterprise sends LEGAL_REP_ID_CARD, BUSINESS_LICENCE and STAMPED_APPLICATION_LETTER "
    "(`Appeal.requiredMaterials`). Errors point at `materials.<index>`."
)


@strawberry.input(description="One material: its role and the upload from `POST /uploads`.")
class AppealMaterialInput:
    role: AppealMaterialRole = strawberry.field(description="Which material this upload is.")
    upload_id: strawberry.ID = strawberry.field(
        description="The `id` of an `UploadedDocument` answered by `POST /uploads` (ORG-2)."
    )


@strawberry.input(description="File a phone-rebind appeal because the bound phone is lost (APL-2, PROF-2).")
class PhoneRebindAppealFileInput:
    new_phone: str = strawberry.field(description="The phone to bind.")
    new_phone_code: str = strawberry.field(
        description="The PHONE_CHANGE_NEW code sent to `newPhone`. It is checked before the new phone's accounts "
        "are; each PHONE_QUOTA_REACHED or PHONE_PORTAL_QUOTA_REACHED after it costs one of its 5 tries (CODE-2)."
    )
    materials: list[AppealMaterialInput] = strawberry.field(
        description=f"Every material of the account's set. {MATERIALS}"
    )


@strawberry.input(description="File an MFA-unbind appeal because the virtual MFA device is lost (APL-1, MFA-6).")
class MfaUnbindAppealFileInput:
    materials: list[AppealMaterialInput] = strawberry.field(
        description=f"Every material of the account's set. {MATERIALS}"
    )


@strawberry.input(description="Send the material a reviewer asked for (REV-4).")
class AppealAnswerInput:
    id: strawberry.ID = strawberry.field(description="The appeal.")
    materials: list[AppealMaterialInput] = strawberry.field(
        description="The new or replacing materials: at least one, each role once, of the appeal's set."
    )
