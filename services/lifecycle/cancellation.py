"""Account cancellation (CAN-1..5), in the order CAN-4 sets:

1. `start`: the user has read the notes (CAN-1: irreversible; back up first, with a link to the data export)
   and accepts the cancellation agreement;
2. operation protection, where on (MFA-2): the step-up grant is checked and used at the pre-check;
3. `precheck`: the outside systems are asked through one interface (services/providers/standing.py);
   each item passes or not, an unmet blocker naming where to resolve it (CAN-2); balance, vouchers and
   resources in use are listed with their amounts as forfeited (CAN-3);
4. `acknowledge`: the user acknowledges the forfeiture, always (whatever is listed, even nothing: the same
   step also acknowledges that cancellation is final), and gets the confirmation token;
5. `confirm`: the second confirmation, with that token; the pre-check runs again inside it, and a
   standing that changed since makes the token stale.

Every refusal has its own code and changes nothing. The confirmation locks the account, so two
simultaneous confirmations make one cancellation. Its effects (CAN-5) happen in the same transaction,
then every hook of `AFTER_CANCELLATION`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from models.accounts import Account
from models.lifecycle import Cancellation
from services.accounts import repository as accounts
from services.accounts.agreements import CURRENT, Acceptance, AcceptanceContext, AgreementKind
from services.accounts.erasure import erase_personal_data
from services.accounts.service import record_acceptances
from services.appeals.repository import OPEN as OPEN_APPEAL_STATES
from services.auth import repository as auth_repo
from services.errors import ServiceError
from services.lifecycle import repository as repo
from services.lifecycle.errors import LifecycleErrorCode as Code
from services.mfa.service import require_step_up
from services.providers.errors import ProviderUnavailable
from services.providers.standing import AccountStanding
from services.review import service as review
from services.security import new_token, token_hash
from services.uow import Uow
from services.verification.changes import service as subject_changes
from services.verification.enterprise import applications as enterprise
from services.verification.enterprise.states import OPEN_STATES as ENTERPRISE_OPEN
from services.verification.enterprise.states import State as EnterpriseState
from services.verification.errors import AttemptReason
from services.viewer import Viewer
from services.webhooks import events as webhook_events
from services.webhooks.events import EventType

# CAN-1: what the user reads first. The export is `accountDataExportCreate` (issue 15 item 3).
NOTES = (
    "Cancelling the account is irreversible (CAN-1): you can no longer sign in, your username can never be "
    "registered again, and your personal data is erased. Back up your data first: accountDataExportCreate "
    "prepares a copy of everything this service holds about the account, downloadable for 24 hours. Before "
    "cancelling, finish or end your orders and services, pay what is owed, close open complaints and release "
    "enterprise-organisation settings (the pre-check lists each). Cash balance, vouchers and resources in use "
    "are forfeited and cannot be recovered (CAN-3)."
)
EXPORT_MUTATION = "accountDataExportCreate"
CANCELLATION_FIELD = "cancellationId"
CANCELLATION_REASON = "cancelled"  # the sessions' end reason (CAN-5)

# CAN-5 / CAN-6: run inside the confirmation's transaction, after the account is cancelled, in order: the
# erasure of its personal data (CAN-6).
AFTER_CANCELLATION: list[Callable[[Uow, int], Awaitable[None]]] = [erase_personal_data]


class Step(StrEnum):
    STARTED = "started"
    PRECHECKED = "prechecked"
    ACKNOWLEDGED = "acknowledged"
    CONFIRMED = "confirmed"


class Item(StrEnum):
    """The pre-check's items: blockers (CAN-2), then what is forfeited (CAN-3)."""

    UNFINISHED_ORDERS = "unfinished_orders"
    UNFINISHED_SERVICES = "unfinished_services"
    ARREARS = "arrears"
    OPEN_COMPLAINTS = "open_complaints"
    ORGANISATION_SETTINGS = "organisation_settings"
    CASH_BALANCE = "cash_balance"
    VOUCHERS = "vouchers"
    RESOURCES_IN_USE = "resources_in_use"


# CAN-2: where an unmet blocker is resolved.
RESOLVE_AT: dict[Item, str] = {
    Item.UNFINISHED_ORDERS: "orders page",
    Item.UNFINISHED_SERVICES: "orders page",
    Item.ARREARS: "finance page",
    Item.OPEN_COMPLAINTS: "complaints page",
    Item.ORGANISATION_SETTINGS: "organisation page",
}


@dataclass(frozen=True, slots=True)
class PrecheckItem:
    item: Item
    passed: bool  # a forfeited item always passes (CAN-3)
    blocker: bool
    amount: int  # a count, or fen for ARREARS and CASH_BALANCE
    resolve_at: str | None  # unmet blockers only


@dataclass(frozen=True, slots=True)
class Precheck:
    items: list[PrecheckItem]
    digest: str

    @property
    def passed(self) -> bool:
        return all(i.passed for i in self.items)


@dataclass(frozen=True, slots=True)
class Flow:
    cancellation: Cancellation
    precheck: Precheck | None = None
    confirmation: str | None = None  # the token, only in acknowledge's answer


def not_found() -> ServiceError:
    return ServiceError(Code.CANCELLATION_NOT_FOUND, "No such cancellation of this account.", CANCELLATION_FIELD)


def not_current(cancellation: Cancellation, wanted: str) -> ServiceError:
    return ServiceError(
        Code.CANCELLATION_STEP_NOT_CURRENT,
        f"This cancellation is at step {cancellation.state}; {wanted} first (CAN-4).",
        CANCELLATION_FIELD,
    )


async def _of_account(uow: Uow, account_id: int, cancellation_id: int | None) -> Cancellation:
    found = await repo.cancellation_of(uow, account_id, cancellation_id)
    if found is None or found.state == Step.CONFIRMED:
        raise not_found()
    return found


async def start(uow: Uow, viewer: Viewer, agreement_version: str) -> Flow:
    """CAN-4 step 1: the notes are read and the cancellation agreement accepted; a new start replaces an
    earlier flow of the account."""
    current = CURRENT[AgreementKind.ACCOUNT_CANCELLATION]
    if agreement_version != current.version:
        raise ServiceError(
            Code.AGREEMENT_VERSION_OUTDATED, f"Accept version {current.version} of the {current.title}.", "agreement"
        )
    account_id = viewer.account.id
    await accounts.lock_account(uow, account_id)
    row = Cancellation(
        account_id=account_id, state=Step.STARTED, agreement_version=current.version, started_at=uow.now()
    )
    await repo.replace_cancellation(uow, row)
    await record_acceptances(
        uow,
        account_id,
        [Acceptance(AgreementKind.ACCOUNT_CANCELLATION, current.version)],
        AcceptanceContext.CANCELLATION.value,
    )
    await uow.session.flush()
    return Flow(row)


async def run_precheck(uow: Uow, account: Account) -> Precheck:
    """CAN-2, CAN-3: ask the outside systems (one interface, by the public account ID) and read the ledger."""
    account_id = account.id
    try:
        standing: AccountStanding = await uow.deps.providers.standing.standing(account_id=account.account_number)
    except ProviderUnavailable:
        raise ServiceError(
            Code.PROVIDER_UNAVAILABLE, "The pre-check could not ask the orders and billing systems; try again later."
        ) from None
    balance = await repo.balance_fen(uow, account_id)
    blockers = [
        (Item.UNFINISHED_ORDERS, standing.unfinished_orders),
        (Item.UNFINISHED_SERVICES, standing.unfinished_services),
        (Item.ARREARS, standing.arrears_fen),
        (Item.OPEN_COMPLAINTS, standing.open_complaints),
        (Item.ORGANISATION_SETTINGS, standing.organisation_settings),
    ]
    forfeited = [
        (Item.CASH_BALANCE, max(balance, 0)),
        (Item.VOUCHERS, standing.vouchers),
        (Item.RESOURCES_IN_USE, standing.resources_in_use),
    ]
    items = [
        PrecheckItem(item, amount <= 0, True, amount, RESOLVE_AT[item] if amount > 0 else None)
        for item, amount in blockers
    ]
    items += [PrecheckItem(item, True, False, amount, None) for item, amount in forfeited]
    text = ";".join(f"{i.item.value}={i.amount}" for i in items)
    return Precheck(items, hashlib.sha256(text.encode()).hexdigest())


async def precheck(uow: Uow, viewer: Viewer, cancellation_id: int | None, step_up_token: str | None) -> Flow:
    """CAN-4 steps 2 and 3: operation protection (MFA-2), then the pre-check. May run again (the standing
    changed): each run voids the confirmation token of an earlier one."""
    cancellation = await _of_account(uow, viewer.account.id, cancellation_id)
    await require_step_up(uow, viewer.account, viewer.session_id, step_up_token)
    found = await run_precheck(uow, viewer.account)
    cancellation.state = Step.PRECHECKED
    cancellation.prechecked_at = uow.now()
    cancellation.precheck_passed = found.passed
    cancellation.standing_digest = found.digest
    cancellation.acknowledged_at = None
    cancellation.confirmation_hash = None
    await uow.session.flush()
    return Flow(cancellation, found)


def _unmet(found: Precheck) -> ServiceError:
    unmet = ", ".join(f"{i.item.value} ({i.resolve_at})" for i in found.items if not i.passed)
    return ServiceError(
        Code.PRECHECK_UNMET, f"The pre-check is not passed: resolve {unmet} (CAN-2).", CANCELLATION_FIELD
    )


async def acknowledge(uow: Uow, viewer: Viewer, cancellation_id: int | None, acknowledged: bool) -> Flow:
    """CAN-3 / CAN-4 step 4: after a passed pre-check, the forfeiture is acknowledged; answers the token of
    the second confirmation."""
    cancellation = await _of_account(uow, viewer.account.id, cancellation_id)
    if cancellation.state == Step.STARTED:
        raise not_current(cancellation, "run the pre-check")
    if not cancellation.precheck_passed:
        raise ServiceError(
            Code.PRECHECK_UNMET,
            "The pre-check is not passed: resolve its unmet items and run it again (CAN-2).",
            CANCELLATION_FIELD,
        )
    if not acknowledged:
        raise ServiceError(
            Code.FORFEITURE_NOT_ACKNOWLEDGED,
            "Acknowledge that the cash balance, vouchers and resources in use are forfeited (CAN-3).",
            "forfeitureAcknowledged",
        )
    token = new_token("cnc")
    cancellation.state = Step.ACKNOWLEDGED
    cancellation.acknowledged_at = uow.now()
    cancellation.confirmation_hash = token_hash(token)
    await uow.session.flush()
    return Flow(cancellation, confirmation=token)


async def confirm(uow: Uow, viewer: Viewer, cancellation_id: int | None, confirmation: str) -> Flow:
    """CAN-4 step 5, the second confirmation; then CAN-5. The account is locked first: a second
    simultaneous confirmation waits, then finds the flow confirmed (or its session ended) and is refused."""
    account_id = viewer.account.id
    account = await accounts.get_for_update(uow, account_id)
    if account is None or account.status != "active":
        raise not_found()
    cancellation = await _of_account(uow, account_id, cancellation_id)  # read afresh, under the lock
    if cancellation.state == Step.STARTED:
        raise not_current(cancellation, "run the pre-check")
    if cancellation.state == Step.PRECHECKED and cancellation.precheck_passed:
        raise ServiceError(
            Code.FORFEITURE_NOT_ACKNOWLEDGED,
            "Acknowledge the forfeiture first (CAN-3): accountCancellationAcknowledge.",
            CANCELLATION_FIELD,
        )
    found = await run_precheck(uow, account)  # CAN-4: the pre-check runs again
    if not found.passed:
        raise _unmet(found)
    if (
        cancellation.state != Step.ACKNOWLEDGED
        or cancellation.confirmation_hash != token_hash(confirmation)
        or cancellation.standing_digest != found.digest
    ):
        raise ServiceError(
            Code.CONFIRMATION_STALE,
            "This confirmation is no longer valid (a later pre-check, or the standing changed since): run the "
            "pre-check again.",
            "confirmation",
        )
    now = uow.now()
    cancellation.state = Step.CONFIRMED
    cancellation.confirmed_at = now
    cancellation.confirmation_hash = None
    await _cancel(uow, account)
    # WH-1: integrators hear of the cancellation (the account's ID only: its data is being erased, CAN-6).
    await webhook_events.emit(
        uow,
        EventType.ACCOUNT_CANCELLED,
        account_id,
        {"cancellationId": webhook_events.api_id("Cancellation", cancellation.id)},
    )
    for hook in AFTER_CANCELLATION:
        await hook(uow, account_id)
    await uow.session.flush()
    return Flow(cancellation, found)


async def _cancel(uow: Uow, account: Account) -> None:
    """CAN-5: the account can no longer sign in or be used; everything open of it ends."""
    now, account_id = uow.now(), account.id
    account.status = "cancelled"
    if account.username_key is not None:  # REG-2: never registrable again
        await accounts.retire_username(uow, account.username_key, now)
    await auth_repo.end_all_sessions(uow, account_id, now, CANCELLATION_REASON)
    await repo.use_up_grants(uow, account_id, now)
    # Open subject changes (CHG-7's withdrawal: the review item leaves the queue); one at most.
    for change_id in await repo.open_change_ids(uow, account_id):
        await subject_changes.withdraw(uow, account_id, change_id)
    # Open appeals: withdrawn, their review items out of the queue (one per kind at most).
    for appeal in await repo.open_appeals(uow, account_id, OPEN_APPEAL_STATES):
        appeal.state = "withdrawn"
        appeal.decided_at = now
        if appeal.review_item_id is not None:
            await review.withdraw(uow, appeal.review_item_id)
    # Open verifications: an enterprise application ends (its review item out of the queue); a personal
    # attempt still pending (a face check) ends as expired.
    open_states = tuple(s for s in ENTERPRISE_OPEN if s is not EnterpriseState.DECIDING)
    for application in await repo.open_applications(uow, account_id, [s.value for s in open_states]):
        item_id = application.review_item_id
        await enterprise.end(uow, application.id, open_states, EnterpriseState.EXPIRED, AttemptReason.ACCOUNT_CANCELLED)
        if item_id is not None:
            await review.withdraw(uow, item_id)
    await repo.expire_pending_attempts(uow, account_id, AttemptReason.ACCOUNT_CANCELLED.value, now)
    # The data export goes with the personal data (CAN-6's erasure, an AFTER_CANCELLATION hook).


async def flow_of(uow: Uow, account_id: int) -> Cancellation | None:
    return await repo.flow_of(uow, account_id)
