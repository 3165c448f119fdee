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
REBIND_MATERIALS = (
    "Each material once, by role (APL-2). A person sends ID_CARD_IN_HAND (the ID card photos held in hand, "
    "showing the upper body), APPLICATION_LETTER (the signed rebind application letter) and PAYMENT_PROOF; an "
    "enterprise sends LEGAL_REP_ID_CARD_IN_HAND (the legal representative's ID card photos, held in hand showing "
    "the upper body) and BUSINESS_LICENCE. Errors point at `materials.<index>`."
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
        description=f"Every material of the account's set. {REBIND_MATERIALS}"
    )


@strawberry.input(description="Send a code to the new phone of a signed-out phone-rebind appeal (APL-2).")
class PhoneRebindAppealCodeSendInput:
    new_phone: str = strawberry.field(description="The phone to bind (a mainland mobile number).")
    bot_token: str = strawberry.field(description="The bot check's token (sandbox: `sandbox-pass`).")


@strawberry.input(description="Open a signed-out phone-rebind appeal for an account (APL-2).")
class PhoneRebindAppealStartInput:
    login_name: str = strawberry.field(description="The account's username, e-mail address or phone number.")
    new_phone: str = strawberry.field(description="The phone to bind: the one `phoneRebindAppealCodeSend` sent to.")
    new_phone_code: str = strawberry.field(
        description="The PHONE_CHANGE_NEW code sent to `newPhone`. It is checked (a wrong one counted, CODE-2) "
        "before anything about `loginName` is answered; each refusal after it (ACCOUNT_NOT_FOUND, PHONE_UNCHANGED, "
        "PHONE_QUOTA_REACHED, PHONE_PORTAL_QUOTA_REACHED, OWN_LOGIN_NAME_REQUIRED, APPEAL_ALREADY_OPEN) costs one of "
        "its 5 tries."
    )


@strawberry.input(description="File the signed-out phone-rebind appeal of an appeal token (APL-2).")
class PhoneRebindAppealSubmitInput:
    appeal_token: str = strawberry.field(description="The draft's `AppealToken.token` from `phoneRebindAppealStart`.")
    materials: list[AppealMaterialInput] = strawberry.field(
        description="A person's or an enterprise's complete set, each uploaded with this token (`POST /uploads` "
        f"with it as the bearer token). {REBIND_MATERIALS}"
    )


@strawberry.input(description="Send the material a reviewer asked for, with an appeal token (REV-4, APL-2).")
class AppealAnswerByTokenInput:
    appeal_token: str = strawberry.field(description="The appeal's `AppealToken.token`.")
    materials: list[AppealMaterialInput] = strawberry.field(
        description="The new or replacing materials, each uploaded with this token: at least one, each role "
        "once, of the appeal's set (`Appeal.requiredMaterials`)."
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
