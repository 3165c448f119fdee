"""Mutation payloads: the result fields (null on failure) and `errors` (empty on success)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.enums import AccountKind, CodePurpose, QrLoginTicketStatus, SecondFactor
from schema.errors import UserError
from schema.types.account import AccountType, SessionType
from schema.types.appeals import AppealType
from schema.types.enterprise import EnterpriseVerification
from schema.types.mfa import LoginChallenge
from schema.types.students import StudentStatusType
from schema.types.verification import FaceCheck, PersonalVerification, VerificationAttemptType

ERRORS = "Expected failures, each with `code`, `message` and `path`; empty on success."
ACCOUNT = "The account after the change; null when `errors` is not empty."


@strawberry.type(description="Result of `verificationCodeSend`.")
class VerificationCodeSendPayload:
    purpose: CodePurpose | None = strawberry.field(default=None, description="What the code is for.")
    sent_to: str | None = strawberry.field(default=None, description="The destination, masked.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the code expires (SMS 5 minutes, e-mail 30; CODE-1)."
    )
    resend_available_at: datetime | None = strawberry.field(
        default=None, description="The earliest time a new code can be requested (60 s; CODE-3)."
    )
    daily_remaining: int | None = strawberry.field(
        default=None,
        description="Codes of this kind (registration, sign-in, binding, own phone) this destination may still "
        "receive today (CODE-3); for sign-in codes, no more than requests from this network may still have sent.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountRegister`.")
class AccountRegisterPayload:
    account: AccountType | None = strawberry.field(default=None, description="The new cloud account; sign in next.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of a mutation that changes the viewer's account.")
class AccountUpdatePayload:
    account: AccountType | None = strawberry.field(default=None, description=ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountPasswordChange`.")
class AccountPasswordChangePayload:
    account: AccountType | None = strawberry.field(default=None, description=ACCOUNT)
    ended_session_count: int | None = strawberry.field(
        default=None, description="Other sessions that were ended (AUTH-4)."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="A new session. Send `token` as `Authorization: Bearer <token>`.")
class SessionCreatePayload:
    token: str | None = strawberry.field(default=None, description="The bearer token; shown once, stored hashed.")
    session: SessionType | None = strawberry.field(default=None, description="The new session.")
    account: AccountType | None = strawberry.field(default=None, description="The account signed in to.")
    account_created: bool | None = strawberry.field(
        default=None, description="True when SMS sign-in created the phone's portal account (REG-4)."
    )
    challenge: LoginChallenge | None = strawberry.field(
        default=None,
        description="Login protection is on (AUTH-6): the password was right but no session yet; pass a second "
        "factor with `sessionCreateByChallenge`. `token` and `session` are null then.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of a session operation.")
class SessionEndPayload:
    ended: bool = strawberry.field(description="True when a session was ended.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="A QR login ticket for a signed-out client (AUTH-2).")
class QrLoginTicket:
    code: str = strawberry.field(description="Render this string as the QR code; the signed-in phone confirms it.")
    token: str = strawberry.field(
        description="Keep this secret on the creating client: poll `qrLoginTicket(token:)`, then redeem it."
    )
    expires_at: datetime = strawberry.field(description="Tickets live 2 minutes.")


@strawberry.type(description="Result of `qrLoginTicketCreate`.")
class QrLoginTicketCreatePayload:
    ticket: QrLoginTicket | None = strawberry.field(default=None, description="The new ticket.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `qrLoginTicketConfirm`.")
class QrLoginTicketConfirmPayload:
    confirmed: bool = strawberry.field(description="True when the other client may now redeem the ticket.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Where a QR login ticket stands.")
class QrLoginTicketState:
    status: QrLoginTicketStatus = strawberry.field(description="Where the ticket stands.")
    expires_at: datetime = strawberry.field(description="When the ticket expires (2 minutes after creation).")


@strawberry.type(description="Result of `operationChallengeVerify`: a single-use grant for one sensitive operation.")
class OperationChallengeVerifyPayload:
    step_up_token: str | None = strawberry.field(
        default=None, description="Pass as `stepUpToken` to one protected mutation of this session."
    )
    factor: SecondFactor | None = strawberry.field(default=None, description="The factor that was passed.")
    expires_at: datetime | None = strawberry.field(default=None, description="Grants live 5 minutes.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `passwordResetStart`. The same shape whether or not the account exists.")
class PasswordResetStartPayload:
    ticket: str | None = strawberry.field(default=None, description="Pass to `passwordResetComplete`.")
    phone_masked: str | None = strawberry.field(
        default=None, description="Where the code went, masked (`138****0000`)."
    )
    expires_at: datetime | None = strawberry.field(default=None, description="The ticket lives 15 minutes.")
    code_expires_at: datetime | None = strawberry.field(default=None, description="When the SMS code expires.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `passwordResetComplete`. All sessions of the account were ended (AUTH-4).")
class PasswordResetCompletePayload:
    success: bool = strawberry.field(description="True when the new password is set.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="An account found by `accountRecoveryLookup` (REC-2).")
class RecoveredAccount:
    kind: AccountKind = strawberry.field(description="Cloud or portal account.")
    login_name_masked: str = strawberry.field(description="The login name, masked (`al***01`).")
    login_name: str | None = strawberry.field(default=None, description="In full, only after `accountRecoveryReveal`.")
    phone_masked: str = strawberry.field(description="The bound phone, masked.")
    email_masked: str | None = strawberry.field(description="The bound e-mail address, masked, if any.")


@strawberry.type(
    description="Result of `accountRecoveryLookup`. A code goes to the bound phone when accounts are found."
)
class AccountRecoveryLookupPayload:
    ticket: str | None = strawberry.field(default=None, description="Pass to `accountRecoveryReveal`.")
    accounts: list[RecoveredAccount] = strawberry.field(
        default_factory=list, description="The accounts found, masked; empty when none."
    )
    code_expires_at: datetime | None = strawberry.field(default=None, description="When the SMS code expires.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountRecoveryReveal`.")
class AccountRecoveryRevealPayload:
    accounts: list[RecoveredAccount] = strawberry.field(
        default_factory=list, description="The accounts with their login names in full."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of an appeal mutation.")
class AppealPayload:
    appeal: AppealType | None = strawberry.field(
        default=None, description="The appeal as filed or answered; null exactly when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


VERIFICATION_ACCOUNT = (
    "The viewer's account after the step (its verification, entitlements, verification methods and attempts); null "
    "exactly when `errors` is not empty."
)


@strawberry.type(description="A started personal face check: its attempt and the QR code to open on a phone (RNP-2).")
class PersonalFaceCheckStart:
    attempt: VerificationAttemptType = strawberry.field(
        description="The pending attempt; poll it with `node(id)` (or `viewer.verificationAttempts`) for the outcome."
    )
    face_check: FaceCheck = strawberry.field(
        description="The URL and QR code the user opens on a phone; shown only here, once."
    )


@strawberry.type(description="Result of `personalVerificationFaceStart`.")
class PersonalVerificationFaceStartPayload:
    face_check_start: PersonalFaceCheckStart | None = strawberry.field(
        default=None, description="The started face check; null exactly when `errors` is not empty."
    )
    account: AccountType | None = strawberry.field(default=None, description=VERIFICATION_ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `personalVerificationBankCardSubmit`.")
class PersonalVerificationBankCardSubmitPayload:
    verification: PersonalVerification | None = strawberry.field(
        default=None,
        description="The account's verification: the card matched. Null exactly when `errors` is not empty (a refused "
        "attempt is in `viewer.verificationAttempts`).",
    )
    account: AccountType | None = strawberry.field(default=None, description=VERIFICATION_ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `studentStatusApply` and `studentStatusConfirm`.")
class StudentStatusPayload:
    student_status: StudentStatusType | None = strawberry.field(
        default=None, description="The application or verification; null exactly when `errors` is not empty."
    )
    account: AccountType | None = strawberry.field(
        default=None,
        description="The viewer's account after the step (its `studentStatus`, and the accepted agreements on "
        "confirmation); null exactly when `errors` is not empty.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="A started enterprise face check: the verification and the QR code for the person doing it "
    "(RNE-2, RNE-3, RNE-4)."
)
class EnterpriseFaceCheckStart:
    enterprise_verification: EnterpriseVerification = strawberry.field(
        description="The new verification, FACE_CHECK_PENDING."
    )
    face_check: FaceCheck = strawberry.field(
        description="The URL and QR code for the face check; shown only here, once."
    )


@strawberry.type(description="Result of starting an enterprise verification with a face check.")
class EnterpriseVerificationStartPayload:
    face_check_start: EnterpriseFaceCheckStart | None = strawberry.field(
        default=None, description="The started face check; null exactly when `errors` is not empty."
    )
    account: AccountType | None = strawberry.field(default=None, description=VERIFICATION_ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of an enterprise verification step.")
class EnterpriseVerificationPayload:
    enterprise_verification: EnterpriseVerification | None = strawberry.field(
        default=None, description="The verification after the step; null exactly when `errors` is not empty."
    )
    account: AccountType | None = strawberry.field(default=None, description=VERIFICATION_ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)
