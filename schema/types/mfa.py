"""Second factors as the account's owner sees them: the device binding, recovery codes, login challenges."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.enums import SecondFactor
from schema.errors import UserError
from schema.types.account import AccountType

ERRORS = "Expected failures, each with `code`, `message` and `path`; empty on success."


@strawberry.type(description="A started binding (MFA-4): add the secret to an authenticator app, then bind.")
class MfaDeviceBinding:
    secret: str = strawberry.field(description="The TOTP secret (Base32), for typing by hand.")
    otpauth_uri: str = strawberry.field(
        description="The `otpauth://totp/...` URI with issuer and account label, for the QR code."
    )
    qr_code_svg: str = strawberry.field(
        description="`otpauthUri` as a QR code: an SVG image as a `data:` URI, ready for `<img src>`."
    )


@strawberry.type(description="Result of `mfaDeviceBindingStart`.")
class MfaDeviceBindingStartPayload:
    binding: MfaDeviceBinding | None = strawberry.field(
        default=None,
        description="The pending device's secret; bind it with `mfaDeviceBind`. Null when `errors` is not empty.",
    )
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's `clientMutationId`, as sent (null when none was sent)."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of `mfaDeviceBind` and `mfaRecoveryCodesRegenerate`.")
class MfaRecoveryCodesPayload:
    recovery_codes: list[str] | None = strawberry.field(
        default=None,
        description="Ten single-use recovery codes, shown only now: each passes as a second factor once instead of "
        "a TOTP code. Regenerating replaces all of them. Null when `errors` is not empty.",
    )
    account: AccountType | None = strawberry.field(
        default=None,
        description="The account after the change (`security.recoveryCodesLeft` is 10, and after binding "
        "`security.mfaDeviceBoundAt` is set). Null when `errors` is not empty.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of a change to second-factor settings.")
class MfaAccountPayload:
    account: AccountType | None = strawberry.field(
        default=None, description="The account after the change; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(
    description="A pending sign-in (AUTH-6): the password (or the SMS code) was right, and login protection asks "
    "for a second factor before a session starts."
)
class LoginChallenge:
    token: str = strawberry.field(
        description="Send it to `sessionCreateByChallenge` (and `loginChallengeCodeSend` for SMS) from this client. "
        "It is no session token (`viewer` is null with it); only the MFA-unbind appeal path takes it as the bearer "
        "token (APL-1)."
    )
    factors: list[SecondFactor] = strawberry.field(
        description="The factors login protection accepts; either passes (MFA-1). RECOVERY_CODE stands for TOTP."
    )
    phone_masked: str = strawberry.field(description="Where an SMS code would go, masked.")
    expires_at: datetime = strawberry.field(description="The challenge lives 5 minutes.")
    attempts_remaining: int = strawberry.field(description="Wrong codes allowed before the challenge ends (5 in all).")


@strawberry.type(description="The SMS code of a pending sign-in, sent (AUTH-6).")
class LoginChallengeSentCode:
    sent_to: str = strawberry.field(description="The bound phone, masked (`137****0001`).")
    expires_at: datetime = strawberry.field(description="When the code expires (5 minutes; CODE-1).")
    resend_available_at: datetime = strawberry.field(
        description="The earliest time another code can be sent (60 s; CODE-3)."
    )


@strawberry.type(description="Result of `loginChallengeCodeSend`.")
class LoginChallengeCodeSendPayload:
    sent_code: LoginChallengeSentCode | None = strawberry.field(
        default=None, description="Where and until when the code was sent; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)
