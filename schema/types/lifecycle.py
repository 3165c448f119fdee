"""The data export (issue 15 item 3) and the cancellation flow (CAN-1..5) as the API shows them."""

from __future__ import annotations

import base64
from datetime import datetime
from enum import Enum

import strawberry

from schema.errors import UserError
from schema.types.payloads import ERRORS, REFUSED
from services.lifecycle import cancellation as cancel
from services.lifecycle import export

CANCELLATION_TYPE = "Cancellation"


def cancellation_global_id(row_id: int) -> str:
    return base64.b64encode(f"{CANCELLATION_TYPE}:{row_id}".encode()).decode()


@strawberry.type(description="A copy of the account's data, downloadable by its owner until `expiresAt`.")
class DataExportType:
    download_url: str = strawberry.field(
        description="`GET` it with `Authorization: Bearer <session token>`: a JSON document (attachment). Another "
        "account's, or an expired one, answers 404 EXPORT_NOT_FOUND."
    )
    expires_at: datetime = strawberry.field(
        description=f"When it is deleted ({int(export.EXPORT_TTL.total_seconds() // 3600)} hours after it was made)."
    )
    size_bytes: int = strawberry.field(description="The document's size.")


@strawberry.type(description="Result of `accountDataExportCreate`.")
class AccountDataExportCreatePayload:
    export: DataExportType | None = strawberry.field(default=None, description=f"The copy prepared; {REFUSED}")
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.enum(description="CAN-4: the step a cancellation is at.")
class CancellationStep(Enum):
    STARTED = strawberry.enum_value("started", description="Agreement accepted; run the pre-check next.")
    PRECHECKED = strawberry.enum_value(
        "prechecked", description="Pre-check run; acknowledge the forfeiture next (if every item passed)."
    )
    ACKNOWLEDGED = strawberry.enum_value("acknowledged", description="Forfeiture acknowledged; confirm next.")
    CONFIRMED = strawberry.enum_value("confirmed", description="The account is cancelled (CAN-5).")


@strawberry.enum(description="An item of the cancellation pre-check: blockers (CAN-2), then what is forfeited (CAN-3).")
class CancellationPrecheckItemKind(Enum):
    UNFINISHED_ORDERS = strawberry.enum_value("unfinished_orders", description="Blocker: unfinished orders.")
    UNFINISHED_SERVICES = strawberry.enum_value("unfinished_services", description="Blocker: unfinished services.")
    ARREARS = strawberry.enum_value("arrears", description="Blocker: unpaid amounts (`amount` in fen).")
    OPEN_COMPLAINTS = strawberry.enum_value(
        "open_complaints", description="Blocker: open complaints or reports by or against the account."
    )
    ORGANISATION_SETTINGS = strawberry.enum_value(
        "organisation_settings", description="Blocker: enterprise-organisation settings still tied to the account."
    )
    CASH_BALANCE = strawberry.enum_value(
        "cash_balance", description="Forfeited, not a blocker: the cash balance (`amount` in fen)."
    )
    VOUCHERS = strawberry.enum_value("vouchers", description="Forfeited, not a blocker: vouchers (a count).")
    RESOURCES_IN_USE = strawberry.enum_value(
        "resources_in_use", description="Forfeited, not a blocker: resources in use (a count)."
    )


@strawberry.type(description="One item of the pre-check.")
class CancellationPrecheckItem:
    kind: CancellationPrecheckItemKind = strawberry.field(description="What is checked.")
    passed: bool = strawberry.field(description="Whether it stands in the way: a forfeited item always passes.")
    blocker: bool = strawberry.field(description="Whether the item can block cancellation (CAN-2).")
    amount: int = strawberry.field(description="A count, or fen for ARREARS and CASH_BALANCE.")
    resolve_at: str | None = strawberry.field(
        description="Where to resolve an unmet item (the finance page, the organisation page, ...); null otherwise."
    )

    @classmethod
    def of(cls, item: cancel.PrecheckItem) -> CancellationPrecheckItem:
        return cls(
            kind=CancellationPrecheckItemKind(item.item.value),
            passed=item.passed,
            blocker=item.blocker,
            amount=item.amount,
            resolve_at=item.resolve_at,
        )


@strawberry.type(description="An account cancellation in progress (CAN-4).")
class CancellationType:
    id: strawberry.ID = strawberry.field(description="Pass it to the next steps.")
    step: CancellationStep = strawberry.field(description="The step reached.")
    notes: str = strawberry.field(
        description="CAN-1: cancellation is irreversible; back up the account's data first (`exportMutation`)."
    )
    export_mutation: str = strawberry.field(description="The mutation that prepares a copy of the data to keep.")
    precheck_passed: bool | None = strawberry.field(description="Whether every pre-check item passed; null before it.")
    precheck: list[CancellationPrecheckItem] | None = strawberry.field(
        description="The pre-check's items, in the answer of the step that ran it (precheck, confirm); else null."
    )

    @classmethod
    def of(cls, flow: cancel.Flow) -> CancellationType:
        row = flow.cancellation
        return cls(
            id=strawberry.ID(cancellation_global_id(row.id)),
            step=CancellationStep(row.state),
            notes=cancel.NOTES,
            export_mutation=cancel.EXPORT_MUTATION,
            precheck_passed=None if row.prechecked_at is None else row.precheck_passed,
            precheck=None if flow.precheck is None else [CancellationPrecheckItem.of(i) for i in flow.precheck.items],
        )


@strawberry.type(description="Result of a cancellation step (CAN-4).")
class AccountCancellationPayload:
    cancellation: CancellationType | None = strawberry.field(default=None, description=f"The flow; {REFUSED}")
    confirmation: str | None = strawberry.field(
        default=None,
        description="From `accountCancellationAcknowledge` only: the token of the second confirmation.",
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)
