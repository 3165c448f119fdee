"""Inputs of the second-factor mutations (MFA-2, MFA-4, MFA-6, AUTH-6)."""

from __future__ import annotations

import strawberry

from schema.enums import SecondFactor
from schema.inputs.auth import CLIENT_MUTATION_ID

STEP_UP = (
    "The `stepUpGrant.token` from `operationChallengeVerify`, needed while operation protection is on: this is a "
    "protected operation (MFA-2)."
)


@strawberry.input(description="Start binding a virtual MFA device (MFA-4); nothing to send.")
class MfaDeviceBindingStartInput:
    client_mutation_id: str | None = strawberry.field(default=strawberry.UNSET, description=CLIENT_MUTATION_ID)


@strawberry.input(description="Bind the pending virtual MFA device with two consecutive codes (MFA-4).")
class MfaDeviceBindInput:
    first_code: str = strawberry.field(description="The code the app shows now (6 digits).")
    second_code: str = strawberry.field(
        description="The next code, after the first one changes (30 s later; 6 digits). Both codes' formats are "
        "checked together."
    )


@strawberry.input(description="Unbind the virtual MFA device (MFA-6).")
class MfaDeviceUnbindInput:
    code: str = strawberry.field(
        description="A current code from the device (6 digits), or an unused recovery code (12345-67890). Lost both? "
        "File an MFA-unbind appeal."
    )
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
    token: str = strawberry.field(description="The `token` of the `LoginChallenge` a sign-in answered.")


@strawberry.input(description="Finish a protected sign-in with a second factor (AUTH-6).")
class SessionCreateByChallengeInput:
    token: str = strawberry.field(description="The `token` of the `LoginChallenge` a sign-in answered.")
    factor: SecondFactor = strawberry.field(description="One of the challenge's `factors`.")
    code: str = strawberry.field(
        description="The SMS code or the TOTP code (6 digits), or a recovery code (12345-67890), as `factor` says."
    )


# The default of `mfaDeviceBindingStart`'s argument: clients may leave `input` out.
NO_MFA_DEVICE_BINDING_START_INPUT = MfaDeviceBindingStartInput()
