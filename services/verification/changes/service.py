"""Subject changes: the start (CHG-1, CHG-6, MFA-2), withdrawal (CHG-7), the acceptance agreement, what the
API reads (deadlines enforced when read) and the sweeper. Each kind's own steps live in their modules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from models.changes import SubjectChange
from services.accounts import repository as accounts_repo
from services.accounts.agreements import CURRENT, AgreementKind
from services.client import ClientInfo
from services.errors import ServiceError
from services.mfa import service as mfa
from services.providers.errors import ProviderUnavailable
from services.review import service as review
from services.uow import Uow
from services.verification import repository as verification_repo
from services.verification.changes import repository as repo
from services.verification.changes.errors import ChangeErrorCode as Code
from services.verification.changes.states import (
    CHANGE_INTERVAL,
    ENDED_STATES,
    FIRST_STATE,
    FROM_SUBJECT,
    LIMITED_METHODS,
    NEW_PERSON_SUBMIT_WITHIN,
    OPEN_STATES,
    TIMEOUTS,
    Kind,
    State,
    check_move,
)
from services.verification.steps import PROVIDER_RETRY_AFTER
from services.viewer import Viewer

WITHDRAWN_BY_USER = "WITHDRAWN_BY_USER"
TIMED_OUT_REASONS = frozenset(reason for _, _, reason in TIMEOUTS.values())
CHANGE_FIELD = "changeId"


def check_agreement(version: str, kind: AgreementKind, field: str) -> str:
    """CHG-2..5: the change agreement `kind` in its current version."""
    current = CURRENT[kind]
    if version != current.version:
        raise ServiceError(
            Code.AGREEMENT_VERSION_OUTDATED, f"Accept version {current.version} of the {current.title}.", field
        )
    return current.version


def not_found() -> ServiceError:
    return ServiceError(Code.CHANGE_NOT_FOUND, "No such subject change of this account.", CHANGE_FIELD)


def ended(change: SubjectChange) -> ServiceError:
    if change.reason in TIMED_OUT_REASONS:  # CHG-3: 9 days; CHG-5: 1 day
        return ServiceError(
            Code.CHANGE_EXPIRED,
            f"This subject change ran out of time ({change.reason}); start a new one.",
            CHANGE_FIELD,
        )
    return ServiceError(Code.CHANGE_ENDED, f"This subject change has ended ({change.state}).", CHANGE_FIELD)


def not_current(change: SubjectChange) -> ServiceError:
    return ServiceError(
        Code.CHANGE_STEP_NOT_CURRENT, f"This subject change is at another step ({change.state}).", CHANGE_FIELD
    )


async def start(
    uow: Uow, viewer: Viewer, kind: Kind, application_version: str, step_up_token: str | None
) -> SubjectChange:
    """Open a change of `kind` with the application agreement accepted (CHG-2..5)."""
    version = check_agreement(
        application_version, AgreementKind.SUBJECT_CHANGE_APPLICATION, "applicationAgreement.version"
    )
    account = viewer.account
    await accounts_repo.lock_account(uow, account.id)
    await expire_overdue(uow, account.id)  # an open change past its deadline no longer stands in the way
    verification = await verification_repo.verification_of(uow, account.id)
    if verification is None:
        raise ServiceError(Code.VERIFICATION_REQUIRED, "Only a verified account can change its subject.", None)
    if verification.subject_type != FROM_SUBJECT[kind]:
        if verification.subject_type == "enterprise":  # CHG-1
            raise ServiceError(
                Code.CHANGE_NOT_SUPPORTED,
                "企业认证不支持变更为个人认证 / An enterprise-verified account cannot change to a person (CHG-1).",
                "kind",
            )
        raise ServiceError(
            Code.CHANGE_NOT_SUPPORTED, "This kind of change starts from an enterprise-verified account.", "kind"
        )
    if await repo.open_change_id(uow, account.id) is not None:
        raise _in_progress()
    now = uow.now()
    last = await repo.last_completed_at(uow, account.id)
    if last is not None and now < last + CHANGE_INTERVAL:  # CHG-6
        available = last + CHANGE_INTERVAL
        raise ServiceError(
            Code.CHANGE_TOO_SOON,
            f"At most one completed change per 30 days; the next may start at {available.isoformat()}.",
            None,
            retry_after=int((available - now).total_seconds()) + 1,
        )
    if kind is Kind.ENTERPRISE:  # CHG-3: only accounts eligible for an online change
        await _check_online_eligibility(uow, verification.document_masked, verification.name)
    # MFA-2: a protected operation. The rules above tell the owner only about their own account, so they answer
    # first (CHG-1 "before anything is asked"); the grant is used in the transaction that opens the change.
    await mfa.require_step_up(uow, account, viewer.session_id, step_up_token)
    change = SubjectChange(
        account_id=account.id,
        open_account_id=account.id,
        kind=kind.value,
        state=FIRST_STATE[kind].value,
        from_subject_type=verification.subject_type,
        from_name=verification.name,
        from_document_type=verification.document_type,
        from_document_masked=verification.document_masked,
        from_organisation_type=verification.organisation_type,
        from_method=verification.method,
        from_attempt_id=verification.attempt_id,
        application_version=version,
        # CHG-5: the new person's verification must be submitted within 1 day of the start.
        expires_at=now + NEW_PERSON_SUBMIT_WITHIN if kind is Kind.PERSON_TO_PERSON else None,
        created_at=now,
        updated_at=now,
    )
    if not await repo.add_open(uow, change):
        raise _in_progress()
    return change


async def _check_online_eligibility(uow: Uow, uscc: str, name: str) -> None:
    """CHG-3: the account-management system says whether this organisation may change online (the enterprise
    verification keeps its USCC as `document_masked`, unmasked)."""
    try:
        async with asyncio.timeout(uow.deps.providers.timeout_seconds):
            allowed = await uow.deps.providers.change_eligibility.online_change_allowed(uscc=uscc, name=name)
    except (ProviderUnavailable, TimeoutError):
        raise ServiceError(
            Code.PROVIDER_UNAVAILABLE,
            "The eligibility check did not answer; nothing was started. Try again shortly.",
            None,
            retry_after=PROVIDER_RETRY_AFTER,
        ) from None
    if not allowed:
        raise ServiceError(
            Code.CHANGE_NOT_ELIGIBLE_ONLINE,
            "不支持在线变更，请联系客户经理或提交工单 / Not eligible for an online change; contact your account "
            "manager or open a ticket (CHG-3).",
            "kind",
        )


def _in_progress() -> ServiceError:
    return ServiceError(
        Code.CHANGE_IN_PROGRESS,
        "A subject change of this account is in progress; withdraw it or finish it first.",
        None,
    )


async def open_of_account(uow: Uow, account_id: int, change_id: int) -> SubjectChange:
    """The account's change, with the account locked and run-out deadlines applied; refused unless open."""
    await accounts_repo.lock_account(uow, account_id)
    await expire_overdue(uow, account_id)
    change = await repo.change_of_account(uow, account_id, change_id)
    if change is None:
        raise not_found()
    if change.state in ENDED_STATES:
        raise ended(change)
    return change


async def move(
    uow: Uow, change: SubjectChange, to: State, client: ClientInfo | None = None, **values: object
) -> SubjectChange:
    """Move `change` (read with its account locked) to `to`, checked against `MOVES`; the row is re-read."""
    check_move(change.state, to)
    moved = await repo.move(
        uow, change.id, [change.state], to.value, dict(values), ends=to in ENDED_STATES, now=uow.now(), client=client
    )
    if not moved:  # its account is locked, so only a bug gets here
        raise RuntimeError("a subject change moved under a lock")
    refreshed = await repo.get(uow, change.id)
    assert refreshed is not None
    return refreshed


async def withdraw(uow: Uow, account_id: int, change_id: int, client: ClientInfo | None = None) -> SubjectChange:
    """CHG-7: the user withdraws an open change at any step; what runs inside it can no longer complete it."""
    change = await open_of_account(uow, account_id, change_id)
    withdrawn = await move(uow, change, State.WITHDRAWN, client, reason=WITHDRAWN_BY_USER, expires_at=None)
    if change.review_item_id is not None:  # in review or waiting on the user: the item leaves the queue
        await review.withdraw(uow, change.review_item_id)
    return withdrawn


async def accept_acceptance(uow: Uow, account_id: int, change_id: int, version: str) -> SubjectChange:
    """CHG-3..5: the acceptance agreement, after which the new subject verifies."""
    accepted = check_agreement(version, AgreementKind.SUBJECT_CHANGE_ACCEPTANCE, "acceptanceAgreement.version")
    change = await open_of_account(uow, account_id, change_id)
    if change.state != State.ACCEPTANCE_PENDING:
        raise not_current(change)
    return await move(
        uow, change, State.NEW_SUBJECT_PENDING, acceptance_version=accepted, acceptance_accepted_at=uow.now()
    )


# --- reads and the sweeper -----------------------------------------------------------------------------


def timed_out(change: SubjectChange, now: datetime) -> tuple[State, str] | None:
    """How the change ends when its step has run out (CHG-3, CHG-5), else None."""
    rule = TIMEOUTS.get(Kind(change.kind))
    if rule is None or change.expires_at is None or change.expires_at > now:
        return None
    states, to, reason = rule
    return (to, reason) if change.state in states else None


def shown_state(change: SubjectChange, now: datetime) -> str:
    """A step that ran out reads as it will end, before the sweeper gets to it."""
    ending = timed_out(change, now)
    return change.state if ending is None else ending[0].value


def shown_reason(change: SubjectChange, now: datetime) -> str | None:
    ending = timed_out(change, now)
    return change.reason if ending is None else ending[1]


@dataclass(frozen=True, slots=True)
class MethodAttempts:
    method: str
    limit: int
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def attempts(change: SubjectChange, counted: dict[tuple[int, str], int]) -> list[MethodAttempts]:
    """CHG-4, CHG-5: the limited methods of the change's kind, with what is used (`counted` from
    `repository.attempts_of`, read once for a page of changes)."""
    limits = LIMITED_METHODS.get(Kind(change.kind), {})
    return [MethodAttempts(m, limit, counted.get((change.id, m), 0)) for m, limit in limits.items()]


async def expire_overdue(uow: Uow, account_id: int | None = None) -> int:
    """End every change whose step ran out (of one account, or all): one statement per kind with a deadline."""
    now = uow.now()
    total = 0
    for kind, (states, to, reason) in TIMEOUTS.items():
        total += await repo.end_overdue(uow, kind.value, [s.value for s in states], to.value, reason, now, account_id)
    return total


async def sweep(uow: Uow) -> dict[str, int]:
    return {"subject_changes_ended": await expire_overdue(uow)}


def is_open(change: SubjectChange) -> bool:
    return change.state in OPEN_STATES


def next_change_at(change: SubjectChange) -> datetime | None:
    """CHG-6: a completed change lets the next one complete 30 days later."""
    return None if change.completed_at is None else change.completed_at + CHANGE_INTERVAL


async def of_account(
    uow: Uow, account_id: int, ids: list[int]
) -> tuple[list[repo.ChangeRow], dict[tuple[int, str], int]]:
    """The account's changes among `ids` with their attempts: two statements, whatever the number."""
    rows = await repo.changes_by_ids(uow, account_id, ids)
    return rows, await repo.attempts_of(uow, [c.id for c, _ in rows])


async def page_for(
    uow: Uow, account_id: int, first: int, after_id: int | None
) -> tuple[list[repo.ChangeRow], repo.ListCount, dict[tuple[int, str], int]]:
    """A page of the account's changes, the list's size and the page's attempts: three statements."""
    rows, counted = await repo.page_for(uow, account_id, first, after_id)
    return rows, counted, await repo.attempts_of(uow, [c.id for c, _ in rows])
