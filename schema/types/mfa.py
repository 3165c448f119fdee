"""Second factors as the account's owner sees them: the device binding, recovery codes, login challenges."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.enums import SecondFactor
from schema.errors import UserError
from schema.types.account import AccountType

ERRORS = "Expected failures, each with `code`, `message` and `path`; empty on success."


@strawberry.type(description="A started binding (MFA-4): add the secret to an authenticator app, then bind.")
class MfaDeviceBindingStartPayload:
    secret: str | None = strawberry.field(default=None, description="The TOTP secret (Base32), for typing by hand.")
    otpauth_uri: str | None = strawberry.field(
        default=None, description="The `otpauth://totp/...` URI with issuer and account label, for the QR code."
    )
    qr_code_svg: str | None = strawberry.field(
        default=None, description="`otpauthUri` as a QR code: an SVG image as a `data:` URI, ready for `<img src>`."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `mfaDeviceBind` and `mfaRecoveryCodesRegenerate`.")
class MfaRecoveryCodesPayload:
    recovery_codes: list[str] | None = strawberry.field(
        default=None,
        description="Ten single-use recovery codes, shown only now: each passes as a second factor once instead of "
        "a TOTP code. Regenerating replaces all of them.",
    )
    account: AccountType | None = strawberry.field(default=None, description="The account after the change.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of a change to second-factor settings.")
class MfaAccountPayload:
    account: AccountType | None = strawberry.field(default=None, description="The account after the change.")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="A pending sign-in (AUTH-6): the password was right; a second factor is asked.")
class LoginChallenge:
    token: str = strawberry.field(
        description="Send it to `sessionCreateByChallenge` (and `loginChallengeCodeSend` for SMS) from this client."
    )
    factors: list[SecondFactor] = strawberry.field(
        description="The factors login protection accepts; either passes (MFA-1). RECOVERY_CODE stands for TOTP."
    )
    phone_masked: str = strawberry.field(description="Where an SMS code would go, masked.")
    expires_at: datetime = strawberry.field(description="The challenge lives 5 minutes.")
    attempts_remaining: int = strawberry.field(description="Wrong codes allowed before the challenge ends (5 in all).")


@strawberry.type(description="Result of `loginChallengeCodeSend`.")
class LoginChallengeCodeSendPayload:
    sent_to: str | None = strawberry.field(default=None, description="The bound phone, masked.")
    expires_at: datetime | None = strawberry.field(default=None, description="When the code expires (5 minutes).")
    resend_available_at: datetime | None = strawberry.field(default=None, description="The earliest next send (60 s).")
    errors: list[UserError] = strawberry.field(description=ERRORS)
