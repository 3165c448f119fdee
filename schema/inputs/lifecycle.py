"""Inputs of the data export (issue 15 item 3) and of the cancellation flow (CAN-1..5)."""

from __future__ import annotations

import strawberry

from schema.inputs.mfa import STEP_UP

CANCELLATION_ID = "The `cancellation.id` from `accountCancellationStart`."


@strawberry.input(description="Prepare a copy of the account's data; protected (MFA-2).")
class AccountDataExportCreateInput:
    step_up_token: str | None = strawberry.field(default=None, description=STEP_UP)


@strawberry.input(description="The cancellation agreement as accepted (CAN-4).")
class AccountCancellationAgreementInput:
    version: str = strawberry.field(
        description="The ACCOUNT_CANCELLATION version from `agreements` (an older one is AGREEMENT_VERSION_OUTDATED)."
    )


@strawberry.input(description="CAN-4 step 1: the notes were read; the cancellation agreement is accepted.")
class AccountCancellationStartInput:
    agreement: AccountCancellationAgreementInput = strawberry.field(description="The ACCOUNT_CANCELLATION agreement.")


@strawberry.input(description="CAN-4 steps 2 and 3: operation protection (MFA-2), then the pre-check (CAN-2, CAN-3).")
class AccountCancellationPrecheckInput:
    cancellation_id: strawberry.ID = strawberry.field(description=CANCELLATION_ID)
    step_up_token: str | None = strawberry.field(default=None, description=STEP_UP)


@strawberry.input(description="CAN-3 / CAN-4 step 4: acknowledge that what the pre-check lists as forfeited is lost.")
class AccountCancellationAcknowledgeInput:
    cancellation_id: strawberry.ID = strawberry.field(description=CANCELLATION_ID)
    forfeiture_acknowledged: bool = strawberry.field(
        description="true: the cash balance, vouchers and resources in use listed are forfeited and cannot be "
        "recovered (false is FORFEITURE_NOT_ACKNOWLEDGED)."
    )


@strawberry.input(description="CAN-4 step 5: the second confirmation; the account is cancelled (CAN-5).")
class AccountCancellationConfirmInput:
    cancellation_id: strawberry.ID = strawberry.field(description=CANCELLATION_ID)
    confirmation: str = strawberry.field(
        description="The `confirmation` token from `accountCancellationAcknowledge` (a token of an earlier pre-check, "
        "or one issued before the account's standing changed, is CONFIRMATION_STALE)."
    )
