"""Inputs of the account mutations."""

from __future__ import annotations

import strawberry

from schema.enums import AgreementKind
from services.accounts.agreements import Acceptance
from services.accounts.service import ProfileChanges, RegisterCommand


@strawberry.input(description="One accepted agreement: its kind and the version shown to the user.")
class AgreementAcceptanceInput:
    kind: AgreementKind = strawberry.field(description="Which agreement.")
    version: str = strawberry.field(description="The version from the `agreements` query.")

    def to_acceptance(self) -> Acceptance:
        return Acceptance(kind=self.kind, version=self.version)


@strawberry.input(description="Register a cloud account (REG-2, REG-3, REG-5, REG-7).")
class AccountRegisterInput:
    username: str = strawberry.field(
        description="4 to 32 characters, a letter first; unique case-insensitively, forever (REG-2)."
    )
    password: str = strawberry.field(
        description="8 to 128 characters, not the username or phone, and hard to guess: a zxcvbn score of at "
        "least 3 with the username and phone counted as known words (REG-7)."
    )
    phone: str = strawberry.field(description="Mainland mobile number; at most 10 cloud accounts each (REG-3).")
    code: str = strawberry.field(
        description="The 6-digit code sent to `phone` for REGISTRATION (REG-5). It is checked before the "
        "username and the phone's quota; each USERNAME_TAKEN or PHONE_QUOTA_REACHED after it costs one of "
        "its 5 tries (CODE-2)."
    )
    agreements: list[AgreementAcceptanceInput] = strawberry.field(
        description="The three sign-up agreements of the `agreements` query (USER_SERVICE, ONLINE_ORDERING, "
        "PRIVACY_POLICY), current versions (REG-5)."
    )

    def to_command(self) -> RegisterCommand:
        return RegisterCommand(
            username=self.username,
            password=self.password,
            phone=self.phone,
            code=self.code,
            agreements=[a.to_acceptance() for a in self.agreements],
        )


@strawberry.input(
    description="Basic information (PROF-1): each field one line of text (no control characters); omitted fields "
    "stay as they are, an empty string clears one."
)
class AccountProfileInput:
    contact_name: str | None = strawberry.field(default=None, description="At most 64 characters.")
    company_name: str | None = strawberry.field(default=None, description="At most 128 characters.")
    industry: str | None = strawberry.field(default=None, description="At most 64 characters.")
    address: str | None = strawberry.field(default=None, description="At most 256 characters.")

    def to_changes(self) -> ProfileChanges:
        return ProfileChanges(
            contact_name=self.contact_name,
            company_name=self.company_name,
            industry=self.industry,
            address=self.address,
        )


@strawberry.input(
    description="Edit the basic information (PROF-1): omitted fields stay as they are, an empty string clears one. "
    "Every field's problem comes back at once."
)
class AccountProfileUpdateInput(AccountProfileInput):
    pass


@strawberry.input(description="Activate a portal account on first entry to the console (REG-6).")
class AccountActivateInput:
    agreements: list[AgreementAcceptanceInput] = strawberry.field(
        description="The three sign-up agreements, current versions."
    )
    profile: AccountProfileInput | None = strawberry.field(
        default=None, description="Basic information given at activation (PROF-1)."
    )


@strawberry.input(description="Set the idle timeout of sessions (AUTH-3).")
class AccountIdleTimeoutSetInput:
    minutes: int = strawberry.field(description="15 to 1439 (23 h 59 min).")


@strawberry.input(
    description="Choose or change a portal account's username: the first choice at any time, a change at most once a "
    "year (PROF-5). A cloud account's username never changes (PROF-4)."
)
class AccountUsernameSetInput:
    username: str = strawberry.field(description="4 to 32 characters, a letter first; unique (REG-2).")


@strawberry.input(description="Change (or, for a portal account without one, set) the password.")
class AccountPasswordChangeInput:
    current_password: str | None = strawberry.field(
        default=None, description="Required when the account has a password."
    )
    new_password: str = strawberry.field(description="The REG-7 rules apply.")
    step_up_token: str | None = strawberry.field(
        default=None, description="From `operationChallengeVerify`, when operation protection is on (MFA-3)."
    )


@strawberry.input(description="Change the bound phone (PROF-2).")
class AccountPhoneChangeInput:
    step_up_token: str = strawberry.field(
        description="The grant's token from `operationChallengeVerify` with an SMS code sent to the current phone "
        "(PROF-2, MFA-3): always required, whatever the protection settings."
    )
    new_phone: str = strawberry.field(description="The mainland mobile number to bind.")
    new_phone_code: str = strawberry.field(
        description="The code sent to `newPhone` for PHONE_CHANGE_NEW. It is checked before the new phone's "
        "accounts are; each PHONE_QUOTA_REACHED or PHONE_PORTAL_QUOTA_REACHED after it costs one of its 5 tries "
        "(CODE-2), and the step-up grant is used only by a change that happens."
    )


@strawberry.input(description="Bind or change the e-mail address (PROF-3).")
class AccountEmailBindInput:
    email: str = strawberry.field(description="The address to bind; unique across accounts.")
    code: str = strawberry.field(
        description="The code sent to `email` for EMAIL_BIND (valid 30 minutes). It is checked before whether "
        "another account has the address; each EMAIL_TAKEN after it costs one of its 5 tries (CODE-2)."
    )
    step_up_token: str | None = strawberry.field(
        default=None, description="From `operationChallengeVerify`, when operation protection is on (MFA-3)."
    )
