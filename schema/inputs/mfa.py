"""Inputs of the second-factor mutations (MFA-2, MFA-4, MFA-6, AUTH-6)."""

from __future__ import annotations

import strawberry

from schema.enums import SecondFactor

STEP_UP = "The `stepUpToken` from `operationChallengeVerify`: this is a protected operation (MFA-2)."


@strawberry.input(description="Bind the pending virtual MFA device with two consecutive codes (MFA-4).")
class MfaDeviceBindInput:
    first_code: str = strawberry.field(description="The code the app shows now.")
    second_code: str = strawberry.field(description="The next code, after the first one changes (30 s later).")


@strawberry.input(description="Unbind the virtual MFA device (MFA-6).")
class MfaDeviceUnbindInput:
    code: str = strawberry.field(description="A current code from the device. Lost it? File an MFA-unbind appeal.")
    step_up_token: str | None = strawberry.field(default=None, description=STEP_UP)


@strawberry.input(description="A protection's factors; both off switches it off.")
class ProtectionInput:
    sms: bool = strawberry.field(description="SMS code to the bound phone.")
    totp: bool = strawberry.field(description="Virtual MFA device; needs a bound device (MFA-4).")


@strawberry.input(description="Set login and operation protection (MFA-2).")
class SecurityProtectionsSetInput:
    login_protection: ProtectionInput = strawberry.field(description="Asked after the password (AUTH-6).")
    operation_protection: ProtectionInput = strawberry.field(
        description="Asked before sensitive operations (MFA-2); on with SMS for new accounts (MFA-3)."
    )
    step_up_token: str | None = strawberry.field(default=None, description=STEP_UP)


@strawberry.input(description="Replace the recovery codes (a protected operation).")
class MfaRecoveryCodesRegenerateInput:
    step_up_token: str | None = strawberry.field(default=None, description=STEP_UP)


@strawberry.input(description="Ask for the SMS code of a pending sign-in (AUTH-6).")
class LoginChallengeCodeSendInput:
    token: str = strawberry.field(description="The `challenge.token` from `sessionCreateByPassword`.")


@strawberry.input(description="Finish a protected sign-in with a second factor (AUTH-6).")
class SessionCreateByChallengeInput:
    token: str = strawberry.field(description="The `challenge.token` from `sessionCreateByPassword`.")
    factor: SecondFactor = strawberry.field(description="One of `challenge.factors`.")
    code: str = strawberry.field(description="The SMS code, the TOTP code, or a recovery code (12345-67890).")
