"""REV-2: the two queues as reviewers see them: sorted by due time, overdue and due-today marked,
filtered (kind, state, mine) and searched (account ID, phone), a page at a time.

One statement per page, whatever the page size: the queue index (queue_days, state, due_at, id)
serves the order, and keyset pagination on (due_at, id) keeps deep pages as fast as the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.calendar.service import local_date
from services.identifiers import mask_phone, normalize_phone
from services.review import repository as repo
from services.text import parse_row_id
from services.uow import Uow

OPEN_STATES = ("pending", "claimed", "waiting_user")
ALL_STATES = (*OPEN_STATES, "approved", "rejected", "withdrawn")
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class QueueFilter:
    queue_days: int
    kinds: tuple[str, ...] = ()
    states: tuple[str, ...] = OPEN_STATES
    mine: int | None = None  # a reviewer ID: only items this reviewer holds
    search: str = ""  # an account ID (16 digits) or a phone number


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    kind: str
    state: str
    submitted_at: datetime
    due_at: datetime
    account_id: int
    account_number: int | None
    phone_masked: str
    claimed_by: int | None
    claimed_by_name: str | None
    overdue: bool
    due_today: bool
    cancelled: bool = False  # CAN-6: the account was cancelled; nothing of the person is shown


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: tuple[datetime, int] | None  # pass back as `after` for the next page


@dataclass(frozen=True, slots=True)
class QueueCount:
    """REV-2: a queue's open items (pending, claimed, waiting for the user) and how many of them are overdue."""

    open: int = 0
    overdue: int = 0


async def counts(uow: Uow) -> dict[int, QueueCount]:
    """Every queue's open and overdue counts in one grouped statement, whatever the number of items; a
    queue without open items is absent (read it as `QueueCount()`). Overdue as `page` marks it."""
    rows = await repo.open_and_overdue_by_queue(uow, OPEN_STATES, uow.now())
    return {days: QueueCount(open_, overdue) for days, open_, overdue in rows}


def _query(f: QueueFilter) -> repo.QueueQuery:
    """The filter as the repository reads it: unknown states dropped, the search term read as a phone
    number, else as an account ID, else as matching nothing."""
    states = tuple(s for s in f.states if s in ALL_STATES) or OPEN_STATES
    phone, number, nothing = None, None, False
    term = f.search.strip()
    if term:
        phone = normalize_phone(term)
        if phone is None:
            number = parse_row_id(term)  # ASCII digits that fit the column
            nothing = number is None  # names arrive with real-name verification
    return repo.QueueQuery(
        queue_days=f.queue_days,
        states=states,
        kinds=f.kinds,
        claimed_by=f.mine,
        phone=phone,
        account_number=number,
        nothing=nothing,
    )


async def page(uow: Uow, f: QueueFilter, *, after: tuple[datetime, int] | None = None, limit: int = 50) -> QueuePage:
    limit = max(1, min(limit, MAX_PAGE))
    rows = await repo.queue_rows(uow, _query(f), after=after, limit=limit + 1)
    now = uow.now()
    today = local_date(now)
    out = [
        QueueRow(
            id=item.id,
            kind=item.kind,
            state=item.state,
            submitted_at=item.submitted_at,
            due_at=item.due_at,
            account_id=item.account_id,
            account_number=None if status == "cancelled" else number,
            phone_masked="" if status == "cancelled" or not phone else mask_phone(phone),
            claimed_by=item.claimed_by,
            claimed_by_name=name,
            overdue=item.state in OPEN_STATES and item.due_at < now,
            due_today=item.state in OPEN_STATES and item.due_at >= now and local_date(item.due_at) == today,
            cancelled=status == "cancelled",
        )
        for item, number, phone, name, status in rows[:limit]
    ]
    last = out[-1] if len(rows) > limit and out else None
    return QueuePage(out, (last.due_at, last.id) if last else None)
