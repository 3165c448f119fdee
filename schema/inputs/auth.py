"""Inputs of sign-in, sessions, codes, step-up and recovery."""

from __future__ import annotations

import strawberry

from schema.enums import CodeSendPurpose, SecondFactor
from services.recovery.service import ByAccountId, ByIdentity, ByPhone, LookupCriteria


@strawberry.input(
    description="Send a one-time code (CODE-1..3). The purpose decides the destination: give `phone` for "
    "REGISTRATION, LOGIN, PHONE_CHANGE_NEW and BANK_CARD, `email` for EMAIL_BIND, neither for OPERATION and "
    "REMITTANCE_ACCOUNT (the bound phone); anything else is refused, every problem at once."
)
class VerificationCodeSendInput:
    purpose: CodeSendPurpose = strawberry.field(description="What the code is for; it decides the destination.")
    phone: str | None = strawberry.field(
        default=None, description="For REGISTRATION, LOGIN, PHONE_CHANGE_NEW and BANK_CARD: a mainland mobile number."
    )
    email: str | None = strawberry.field(default=None, description="For EMAIL_BIND: the address to bind.")
    change_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="For BANK_CARD inside a subject change (CHG-4, CHG-5): the change (`SubjectChange.id`) whose "
        "current step takes a bank card (the current person's identity proof, or CHG-5's new person).",
    )


CLIENT_MUTATION_ID = (
    "Any string you like; the payload echoes it as `clientMutationId` (Relay's convention). This mutation needs "
    "nothing else, so the whole input may be left out."
)


def echoed(client_mutation_id: str | None) -> str | None:
    """The `clientMutationId` a payload echoes: as sent, or null when it was left out."""
    return None if client_mutation_id is strawberry.UNSET else client_mutation_id


@strawberry.input(description="Sign in with a login name and password (AUTH-1, AUTH-2).")
class SessionCreateByPasswordInput:
    login_name: str = strawberry.field(
        description="Cloud accounts: the username only (AUTH-1). Portal accounts: username, phone or e-mail."
    )
    password: str = strawberry.field(description="The account's password.")


@strawberry.input(description="Sign in to (or create) the phone's portal account with an SMS code (REG-4, AUTH-2).")
class SessionCreateBySmsCodeInput:
    phone: str = strawberry.field(description="Mainland mobile number; its portal account is created if missing.")
    code: str = strawberry.field(description="The code sent to `phone` for LOGIN.")


@strawberry.input(description="Redeem a confirmed QR login ticket (AUTH-2).")
class SessionCreateByQrTicketInput:
    token: str = strawberry.field(description="The `token` returned by `qrLoginTicketCreate` to this client.")


@strawberry.input(description="Start a QR login (AUTH-2); nothing to send.")
class QrLoginTicketCreateInput:
    client_mutation_id: str | None = strawberry.field(default=strawberry.UNSET, description=CLIENT_MUTATION_ID)


@strawberry.input(description="Confirm, from a signed-in portal client, the QR code shown on another screen.")
class QrLoginTicketConfirmInput:
    code: str = strawberry.field(description="The content of the scanned QR code.")


@strawberry.input(description="Sign out (AUTH-4): the session is the one of the bearer token; nothing to send.")
class SessionDeleteInput:
    client_mutation_id: str | None = strawberry.field(default=strawberry.UNSET, description=CLIENT_MUTATION_ID)


@strawberry.input(description="End another of the viewer's sessions.")
class SessionRevokeInput:
    id: strawberry.ID = strawberry.field(
        description="A `Session` ID from `viewer.sessions`; an ID of anything else is answered as an unknown session."
    )


@strawberry.input(description="Pass a second factor to obtain a step-up grant (MFA-3).")
class OperationChallengeVerifyInput:
    factor: SecondFactor = strawberry.field(
        default=SecondFactor.SMS,
        description="SMS: the OPERATION code sent to the bound phone; TOTP: a code of the bound device; "
        "RECOVERY_CODE: an unused recovery code. TOTP and RECOVERY_CODE need operation protection to enable TOTP "
        "(FACTOR_NOT_ENABLED otherwise, nothing spent); a phone change always needs SMS (PROF-2).",
    )
    code: str = strawberry.field(description="The 6-digit code, or a recovery code (12345-67890).")


@strawberry.input(description="Start a password reset (REC-1).")
class PasswordResetStartInput:
    login_name: str = strawberry.field(description="Username, or a portal account's phone or e-mail.")
    bot_token: str = strawberry.field(
        description="The client token of the bot check (a Turnstile / hCaptcha / reCAPTCHA response, at most "
        "2048 characters; sandbox: `sandbox-pass`)."
    )


@strawberry.input(description="Finish a password reset (REC-1).")
class PasswordResetCompleteInput:
    ticket: str = strawberry.field(description="From `passwordResetStart`.")
    code: str = strawberry.field(
        description="The SMS code sent to the bound phone; checked before the new password is judged "
        "against the account."
    )
    new_password: str = strawberry.field(
        description="The REG-7 rules apply; refused after a right code, the code stays usable for another."
    )


@strawberry.input(description="Real-name information to look accounts up by (REC-2).")
class AccountRecoveryIdentityInput:
    name: str = strawberry.field(description="The name the accounts were verified with, as on the ID card.")
    id_number: str = strawberry.field(
        description="The mainland resident ID number the accounts were verified with (18 characters)."
    )

    def to_criteria(self) -> ByIdentity:
        return ByIdentity(name=self.name, id_number=self.id_number)


@strawberry.input(
    one_of=True,
    description="How to look accounts up (REC-2): exactly one of a phone, an account ID, or real-name information.",
)
class AccountRecoveryCriteriaInput:
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="A mainland mobile number: the accounts bound to it."
    )
    account_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="An account ID (16 digits): that account."
    )
    identity: AccountRecoveryIdentityInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="The verified name and ID number: the live accounts verified with them, most recently verified "
        "first (they may sit on several phones).",
    )

    def to_criteria(self) -> LookupCriteria:
        # @oneOf: the schema lets exactly one member through, and never as null.
        if isinstance(self.phone, str):
            return ByPhone(self.phone)
        if isinstance(self.account_id, str):
            return ByAccountId(self.account_id)
        assert isinstance(self.identity, AccountRecoveryIdentityInput)
        return self.identity.to_criteria()


@strawberry.input(description="Look accounts up (REC-2).")
class AccountRecoveryLookupInput:
    bot_token: str = strawberry.field(
        description="The client token of the bot check (a Turnstile / hCaptcha / reCAPTCHA response, at most "
        "2048 characters; sandbox: `sandbox-pass`)."
    )
    by: AccountRecoveryCriteriaInput = strawberry.field(
        description="What to look up by: exactly one of `phone`, `accountId` and `identity`."
    )


@strawberry.input(description="Reveal the login names found by `accountRecoveryLookup` (REC-2).")
class AccountRecoveryRevealInput:
    ticket: str = strawberry.field(description="From `accountRecoveryLookup`.")
    code: str = strawberry.field(description="The SMS code sent to the accounts' bound phone.")


# The default of the argument of the mutations that need nothing: clients may leave `input` out.
NO_QR_LOGIN_TICKET_CREATE_INPUT = QrLoginTicketCreateInput()
NO_SESSION_DELETE_INPUT = SessionDeleteInput()
