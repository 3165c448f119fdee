"""Mutation payloads: the result fields (null on failure) and `errors` (empty on success)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.enums import AccountKind, CodeSendPurpose, QrLoginTicketStatus, SecondFactor
from schema.errors import UserError
from schema.types.account import AccountType, SessionType
from schema.types.appeals import AppealTokenType, AppealType
from schema.types.changes import SubjectChangeType
from schema.types.enterprise import EnterpriseVerification
from schema.types.mfa import LoginChallenge
from schema.types.students import StudentStatusType
from schema.types.verification import FaceCheck, PersonalVerification, VerificationAttemptType
from services.codes import service as codes
from services.identifiers import mask_email, mask_phone

ERRORS = "Expected failures, each with `code`, `message` and `path`; empty on success."
REFUSED = "null exactly when `errors` is not empty."
ACCOUNT = f"The viewer after the change; {REFUSED}"


@strawberry.type(description="A one-time code that was sent (CODE-1..3).")
class SentCode:
    purpose: CodeSendPurpose = strawberry.field(description="What the code is for.")
    sent_to: str = strawberry.field(description="The destination, masked (`137****0001`, `a***@example.com`).")
    expires_at: datetime = strawberry.field(description="When the code expires (SMS 5 minutes, e-mail 30; CODE-1).")
    resend_available_at: datetime = strawberry.field(
        description="The earliest time a new code can be requested (60 s; CODE-3)."
    )
    daily_remaining: int = strawberry.field(
        description="Codes of this kind (registration, sign-in, binding, own phone) this destination may still "
        "receive today (CODE-3); for sign-in codes, no more than requests from this network may still have sent."
    )

    @classmethod
    def of(cls, purpose: CodeSendPurpose, sent: codes.SentCode) -> SentCode:
        """The code `services.codes` sent, its destination masked for its channel."""
        masked = mask_phone(sent.destination) if sent.channel == "sms" else mask_email(sent.destination)
        return cls(
            purpose=purpose,
            sent_to=masked,
            expires_at=sent.expires_at,
            resend_available_at=sent.resend_available_at,
            daily_remaining=sent.daily_remaining,
        )


@strawberry.type(description="Result of `verificationCodeSend`.")
class VerificationCodeSendPayload:
    sent_code: SentCode | None = strawberry.field(default=None, description=f"The code sent; {REFUSED}")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="A cloud account just registered: what its registrant may see before signing in (REG-6). Sign in "
    "with `sessionCreateByPassword` to read it as the `viewer`."
)
class RegisteredAccount:
    account_id: str = strawberry.field(description="The 16-digit account ID, bound for life (REG-6).")
    username: str = strawberry.field(description="The username to sign in with; it never changes (PROF-4).")


@strawberry.type(description="Result of `accountRegister`.")
class AccountRegisterPayload:
    account: RegisteredAccount | None = strawberry.field(default=None, description=f"The new cloud account; {REFUSED}")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountActivate`.")
class AccountActivatePayload:
    account: AccountType | None = strawberry.field(
        default=None, description=f"The viewer after the activation, with its `accountId`; {REFUSED}"
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountProfileUpdate`.")
class AccountProfileUpdatePayload:
    account: AccountType | None = strawberry.field(default=None, description=ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountIdleTimeoutSet`.")
class AccountIdleTimeoutSetPayload:
    account: AccountType | None = strawberry.field(default=None, description=ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountUsernameSet`.")
class AccountUsernameSetPayload:
    account: AccountType | None = strawberry.field(default=None, description=ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountPasswordChange`.")
class AccountPasswordChangePayload:
    account: AccountType | None = strawberry.field(
        default=None, description=f"The viewer after the change (`hasPassword` is true); {REFUSED}"
    )
    ended_session_count: int | None = strawberry.field(
        default=None, description=f"How many other sessions the change ended (AUTH-4); {REFUSED}"
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountPhoneChange`.")
class AccountPhoneChangePayload:
    account: AccountType | None = strawberry.field(
        default=None, description=f"The viewer with its new bound phone; {REFUSED}"
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `accountEmailBind`.")
class AccountEmailBindPayload:
    account: AccountType | None = strawberry.field(
        default=None, description=f"The viewer with its new e-mail address; {REFUSED}"
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="A new session. Send `token` as `Authorization: Bearer <token>`.")
class SignedIn:
    token: str = strawberry.field(description="The bearer token; shown once, stored hashed.")
    session: SessionType = strawberry.field(description="The new session (`current` is true in it).")
    account: AccountType = strawberry.field(description="The account signed in to: the new viewer.")
    account_created: bool = strawberry.field(
        description="True when this SMS sign-in created the phone's portal account (REG-4); false otherwise."
    )


SignInResult = Annotated[
    SignedIn | LoginChallenge,
    strawberry.union(
        "SignInResult",
        description="What a sign-in that was not refused answers: a session, or a login challenge. Select "
        "`__typename` and switch on it. `SignedIn`: keep `token` and send it as `Authorization: Bearer <token>`; "
        "`account` is the new viewer. `LoginChallenge`: the password (or the SMS code) was right, but login "
        "protection asks for a second factor first (AUTH-6): offer one of `factors` and finish with "
        "`sessionCreateByChallenge` and the challenge's `token` (for SMS, have the code sent with "
        "`loginChallengeCodeSend` first), from the same client within 5 minutes. `sessionCreateByPassword` and "
        "`sessionCreateBySmsCode` answer either; `sessionCreateByQrTicket` and `sessionCreateByChallenge` always "
        "answer `SignedIn`. A refused sign-in has no result, only `errors`.",
    ),
]


@strawberry.type(
    description="Result of a sign-in (`sessionCreateBy...`): `result` on success, `errors` on refusal, never both."
)
class SessionCreatePayload:
    result: SignInResult | None = strawberry.field(
        default=None,
        description="A session (`SignedIn`) or a second-factor step (`LoginChallenge`); switch on `__typename`. "
        "Null exactly when `errors` is not empty.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="Result of `sessionDelete` (sign-out). Signed out when `errors` is empty; the token no longer "
    "reads anything, so nothing else comes back."
)
class SessionDeletePayload:
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's `clientMutationId`, as sent (null when none was sent)."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `sessionRevoke`.")
class SessionRevokePayload:
    account: AccountType | None = strawberry.field(
        default=None,
        description="The viewer after the change: its `sessions` no longer list the revoked one. Null when "
        "`errors` is not empty.",
    )
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
    ticket: QrLoginTicket | None = strawberry.field(
        default=None, description="The new ticket; null when `errors` is not empty."
    )
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's `clientMutationId`, as sent (null when none was sent)."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Where a QR login ticket stands.")
class QrLoginTicketState:
    status: QrLoginTicketStatus = strawberry.field(description="Where the ticket stands.")
    expires_at: datetime = strawberry.field(description="When the ticket expires (2 minutes after creation).")


@strawberry.type(description="Result of `qrLoginTicketConfirm`.")
class QrLoginTicketConfirmPayload:
    ticket: QrLoginTicketState | None = strawberry.field(
        default=None,
        description="The ticket after the confirmation (CONFIRMED): the other client may redeem it until "
        "`expiresAt`. Null when `errors` is not empty.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="A single-use grant for one protected operation of this session (MFA-2, MFA-3).")
class StepUpGrant:
    token: str = strawberry.field(
        description="Send it as `stepUpToken` to one protected mutation, from the session that obtained it."
    )
    factor: SecondFactor = strawberry.field(description="The factor that was passed.")
    expires_at: datetime = strawberry.field(description="Grants live 5 minutes.")


@strawberry.type(description="Result of `operationChallengeVerify`.")
class OperationChallengeVerifyPayload:
    step_up_grant: StepUpGrant | None = strawberry.field(
        default=None, description="The grant; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="A started password reset (REC-1). It looks the same whether or not the account exists: an unknown "
    "login name gets a made-up masked phone, and no code."
)
class PasswordReset:
    ticket: str = strawberry.field(description="Pass to `passwordResetComplete` with the code.")
    phone_masked: str = strawberry.field(description="Where the code went, masked (`138****0000`).")
    expires_at: datetime = strawberry.field(description="The ticket lives 15 minutes.")
    code_expires_at: datetime = strawberry.field(description="When the SMS code expires (5 minutes; CODE-1).")


@strawberry.type(description="Result of `passwordResetStart`.")
class PasswordResetStartPayload:
    password_reset: PasswordReset | None = strawberry.field(default=None, description=f"The reset; {REFUSED}")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="Result of `passwordResetComplete`: the new password is set when `errors` is empty, and every "
    "session of the account has ended (AUTH-4); sign in with it. Nothing else comes back to a signed-out client."
)
class PasswordResetCompletePayload:
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="An account found by `accountRecoveryLookup`, masked (REC-2).")
class RecoveredAccount:
    kind: AccountKind = strawberry.field(description="Cloud or portal account.")
    login_names_masked: list[str] = strawberry.field(
        description="The account's login names, masked (`al***01`, `ca***@example.com`, `138****0000`): a cloud "
        "account's username; a portal account's username, e-mail and, when the phone holds the account (REG-4), its "
        "phone. Nothing else of the account is shown (REC-2); `accountRecoveryReveal` shows them in full."
    )


@strawberry.type(description="The code `accountRecoveryLookup` sent to reveal the accounts found (REC-2).")
class AccountRevealTicket:
    ticket: str = strawberry.field(description="Pass to `accountRecoveryReveal` with the code (valid 15 minutes).")
    phone_masked: str = strawberry.field(
        description="The bound phone the code went to, masked: the phone of the first account found. The code "
        "reveals the accounts bound to it."
    )
    code_expires_at: datetime = strawberry.field(description="When the SMS code expires (5 minutes; CODE-1).")


@strawberry.type(description="What `accountRecoveryLookup` found (REC-2).")
class AccountRecoveryLookup:
    accounts: list[RecoveredAccount] = strawberry.field(
        description="The accounts found, masked; empty when none (by real-name information: most recently "
        "verified first)."
    )
    reveal: AccountRevealTicket | None = strawberry.field(
        description="The code sent to reveal the login names in full; null exactly when no account was found "
        "(then no code was sent)."
    )


@strawberry.type(description="Result of `accountRecoveryLookup`.")
class AccountRecoveryLookupPayload:
    lookup: AccountRecoveryLookup | None = strawberry.field(default=None, description=f"What was found; {REFUSED}")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="An account revealed by `accountRecoveryReveal`, its login name in full (REC-2).")
class RevealedAccount:
    kind: AccountKind = strawberry.field(description="Cloud or portal account.")
    login_names: list[str] = strawberry.field(
        description="The login names to sign in with, in full: a cloud account's username; a portal account's "
        "username, e-mail and, when the phone holds the account (REG-4), its phone (national form)."
    )


@strawberry.type(description="Result of `accountRecoveryReveal`.")
class AccountRecoveryRevealPayload:
    accounts: list[RevealedAccount] | None = strawberry.field(
        default=None, description=f"The accounts bound to the phone the code went to; {REFUSED}"
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of an appeal mutation.")
class AppealPayload:
    appeal: AppealType | None = strawberry.field(
        default=None,
        description="The appeal as filed or answered, with its `dueAt`; null exactly when `errors` is not empty.",
    )
    appeal_token: AppealTokenType | None = strawberry.field(
        default=None,
        description="Filed with a login challenge (no session): the token that reads this appeal and answers "
        "its requests for material (`appealByToken`, `appealAnswerByToken`), shown only here. Null otherwise.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `phoneRebindAppealStart`.")
class PhoneRebindAppealStartPayload:
    appeal_token: AppealTokenType | None = strawberry.field(
        default=None,
        description="The draft's token, shown only here: upload the materials with it, then file with "
        f"`phoneRebindAppealSubmit` before `expiresAt`; {REFUSED}",
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


@strawberry.type(description="Result of a subject-change step (CHG-1..7).")
class SubjectChangePayload:
    subject_change: SubjectChangeType | None = strawberry.field(
        default=None, description="The change after the step; null exactly when `errors` is not empty."
    )
    account: AccountType | None = strawberry.field(default=None, description=VERIFICATION_ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)
