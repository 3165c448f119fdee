"""All SQL of the back office: review items and their audit trail (REV-1 to REV-5), the queues as
reviewers page through them (REV-2), and reviewers with their back-office sessions (REV-6).

The sign-in throttle is AUTH-5's (services/auth/throttle.py) under keys of its own (`staff:`, `staff-ip:`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update

from models.accounts import Account
from models.review import ReviewAuditEntry, Reviewer, ReviewerSession, ReviewItem
from services.uow import Uow

# --- review items and their audit trail (REV-1, REV-3, REV-4, REV-5) ---------------------------------


async def add_item(uow: Uow, item: ReviewItem) -> None:
    uow.session.add(item)
    await uow.session.flush()


async def item_afresh(uow: Uow, item_id: int) -> ReviewItem | None:
    """The item as the database holds it now (after a conditional update moved it)."""
    return await uow.session.get(ReviewItem, item_id, populate_existing=True)


async def claim_pending(uow: Uow, item_id: int, reviewer_id: int, now: datetime) -> bool:
    """REV-3: claim the item only if it is pending and unclaimed, atomically; False when it was not."""
    result = await uow.session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.state == "pending", ReviewItem.claimed_by.is_(None))
        .values(state="claimed", claimed_by=reviewer_id, claimed_at=now)
        .returning(ReviewItem.id)
    )
    return result.scalar_one_or_none() is not None


async def assign_open(uow: Uow, item_id: int, reviewer_id: int, now: datetime) -> bool:
    """REV-3: hand a pending or claimed item to the reviewer, atomically; False when it is neither."""
    result = await uow.session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.state.in_(("pending", "claimed")))
        .values(state="claimed", claimed_by=reviewer_id, claimed_at=now)
        .returning(ReviewItem.id)
    )
    return result.scalar_one_or_none() is not None


async def move_held(uow: Uow, item_id: int, reviewer_id: int, values: dict[str, object]) -> bool:
    """REV-3: change an item the reviewer holds, atomically; False when the claim was lost."""
    result = await uow.session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.state == "claimed", ReviewItem.claimed_by == reviewer_id)
        .values(**values)
        .returning(ReviewItem.id)
    )
    return result.scalar_one_or_none() is not None


async def resume_waiting(uow: Uow, item_id: int, due_at: datetime) -> bool:
    """REV-4: put an item that waits on the user back in its queue with its new due time, atomically;
    False when it no longer waits."""
    result = await uow.session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.state == "waiting_user")
        .values(state="pending", paused_at=None, due_at=due_at)
        .returning(ReviewItem.id)
    )
    return result.scalar_one_or_none() is not None


async def withdraw_open(uow: Uow, item_id: int, now: datetime, open_states: Sequence[str]) -> bool:
    """Take an open item out of its queue (the user withdrew what it is about), atomically; False when it
    was decided or withdrawn already."""
    result = await uow.session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.state.in_(list(open_states)))
        .values(state="withdrawn", decided_at=now, claimed_by=None, claimed_at=None, paused_at=None)
        .returning(ReviewItem.id)
    )
    return result.scalar_one_or_none() is not None


async def add_audit_entry(uow: Uow, entry: ReviewAuditEntry) -> None:
    """REV-5: the audit table is append-only (database triggers refuse updates and deletes)."""
    uow.session.add(entry)
    await uow.session.flush()


async def audit_entries(uow: Uow, item_id: int) -> list[ReviewAuditEntry]:
    rows = await uow.session.scalars(
        select(ReviewAuditEntry).where(ReviewAuditEntry.item_id == item_id).order_by(ReviewAuditEntry.id)
    )
    return list(rows)


async def account_of_item(uow: Uow, item: ReviewItem) -> Account | None:
    return await uow.session.get(Account, item.account_id)


async def other_items_of_account(uow: Uow, item: ReviewItem, limit: int) -> list[ReviewItem]:
    """The account's other review items, newest first."""
    rows = await uow.session.scalars(
        select(ReviewItem)
        .where(ReviewItem.account_id == item.account_id, ReviewItem.id != item.id)
        .order_by(ReviewItem.id.desc())
        .limit(limit)
    )
    return list(rows)


async def active_reviewers(uow: Uow) -> list[Reviewer]:
    return list(await uow.session.scalars(select(Reviewer).where(Reviewer.active.is_(True)).order_by(Reviewer.id)))


# --- the queues (REV-2) ------------------------------------------------------------------------------


async def open_and_overdue_by_queue(uow: Uow, open_states: Sequence[str], now: datetime) -> list[tuple[int, int, int]]:
    """(queue days, open items, overdue items) of every queue with open items, in one grouped statement."""
    rows = await uow.session.execute(
        select(
            ReviewItem.queue_days,
            func.count(ReviewItem.id),
            func.coalesce(func.sum(case((ReviewItem.due_at < now, 1), else_=0)), 0),
        )
        .where(ReviewItem.state.in_(open_states))
        .group_by(ReviewItem.queue_days)
    )
    return [(int(days), int(open_), int(overdue)) for days, open_, overdue in rows.all()]


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """Which items a queue page holds, with the filter already read: every criterion given is ANDed."""

    queue_days: int
    states: tuple[str, ...]
    kinds: tuple[str, ...] = ()
    claimed_by: int | None = None
    phone: str | None = None  # the account's phone, normalised
    account_number: int | None = None
    nothing: bool = False  # a search that can match no item


# item, account number, phone, holder's name, account status (CAN-6: a cancelled account's shows no phone)
QueueRowData = tuple[ReviewItem, int | None, str, str | None, str]


async def queue_rows(uow: Uow, q: QueueQuery, *, after: tuple[datetime, int] | None, limit: int) -> list[QueueRowData]:
    """Up to `limit` items in due order, after the (due time, ID) key `after`: one statement, served by
    the queue index (queue_days, state, due_at, id); the keyset keeps deep pages as fast as the first."""
    stmt = (
        select(ReviewItem, Account.account_number, Account.phone, Reviewer.display_name, Account.status)
        .join(Account, Account.id == ReviewItem.account_id)
        .outerjoin(Reviewer, Reviewer.id == ReviewItem.claimed_by)
        .where(ReviewItem.queue_days == q.queue_days, ReviewItem.state.in_(q.states))
    )
    if q.kinds:
        stmt = stmt.where(ReviewItem.kind.in_(q.kinds))
    if q.claimed_by is not None:
        stmt = stmt.where(ReviewItem.claimed_by == q.claimed_by)
    if q.phone is not None:
        stmt = stmt.where(Account.phone == q.phone)
    elif q.account_number is not None:
        stmt = stmt.where(Account.account_number == q.account_number)
    elif q.nothing:
        stmt = stmt.where(ReviewItem.id == -1)
    if after is not None:
        due, item_id = after
        stmt = stmt.where(or_(ReviewItem.due_at > due, and_(ReviewItem.due_at == due, ReviewItem.id > item_id)))
    rows = await uow.session.execute(stmt.order_by(ReviewItem.due_at, ReviewItem.id).limit(limit))
    return [(item, number, phone, name, status) for item, number, phone, name, status in rows.all()]


# --- reviewers and their sessions (REV-6) ------------------------------------------------------------


async def reviewer_by_username(uow: Uow, username: str) -> Reviewer | None:
    return await uow.session.scalar(select(Reviewer).where(Reviewer.username == username))


async def reviewer_by_id(uow: Uow, reviewer_id: int) -> Reviewer | None:
    return await uow.session.get(Reviewer, reviewer_id)


async def accept_totp_step(uow: Uow, reviewer_id: int, password_hash: str, step: int) -> bool:
    """MFA-5 for reviewers: move the last accepted time step forward, atomically, so a code is accepted
    once; only while the reviewer is active and still has the password hash that was checked."""
    result = await uow.session.execute(
        update(Reviewer)
        .where(
            Reviewer.id == reviewer_id,
            Reviewer.active.is_(True),
            Reviewer.password_hash == password_hash,
            Reviewer.totp_last_step < step,
        )
        .values(totp_last_step=step)
        .returning(Reviewer.id)
    )
    return result.scalar_one_or_none() is not None


async def add_session(uow: Uow, session: ReviewerSession) -> None:
    uow.session.add(session)
    await uow.session.flush()


async def username_taken(uow: Uow, username: str) -> bool:
    return await uow.session.scalar(select(Reviewer.id).where(Reviewer.username == username)) is not None


async def add_reviewer(uow: Uow, reviewer: Reviewer) -> None:
    uow.session.add(reviewer)
    await uow.session.flush()


async def live_session(uow: Uow, token_digest: str) -> tuple[Reviewer, int, str, datetime, datetime] | None:
    """(reviewer, session id, CSRF token, created, last activity) of a session not ended."""
    row = (
        await uow.session.execute(
            select(
                Reviewer,
                ReviewerSession.id,
                ReviewerSession.csrf_token,
                ReviewerSession.created_at,
                ReviewerSession.last_seen_at,
            )
            .join(ReviewerSession, ReviewerSession.reviewer_id == Reviewer.id)
            .where(ReviewerSession.token_hash == token_digest, ReviewerSession.ended_at.is_(None))
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


async def touch_session(uow: Uow, session_id: int, now: datetime) -> None:
    await uow.session.execute(update(ReviewerSession).where(ReviewerSession.id == session_id).values(last_seen_at=now))


async def end_session(uow: Uow, session_id: int, now: datetime) -> None:
    await uow.session.execute(update(ReviewerSession).where(ReviewerSession.id == session_id).values(ended_at=now))
