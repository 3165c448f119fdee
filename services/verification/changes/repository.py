"""Queries and conditional updates of subject changes (CHG-1..7). The rules are the callers'; each write
here is one atomic statement whose row count says whether this caller won."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from models.changes import SubjectChange, SubjectChangeAttempt, SubjectChangeDocument
from models.review import ReviewItem
from models.students import StudentStatus
from models.verification import IdentityDocumentUse
from services.client import ClientInfo
from services.history import service as history
from services.history.service import EventKind
from services.sql import ListCount, count_list, take_counted_slot
from services.webhooks import events as webhook_events
from services.webhooks.events import EventType

__all__ = ["ChangeRow", "ListCount"]
from services.uow import Uow

ChangeRow = tuple[SubjectChange, ReviewItem | None]


async def open_change_id(uow: Uow, account_id: int) -> int | None:
    return await uow.session.scalar(select(SubjectChange.id).where(SubjectChange.open_account_id == account_id))


async def last_completed_at(uow: Uow, account_id: int) -> datetime | None:
    """CHG-6: when the account's latest completed change completed."""
    return await uow.session.scalar(
        select(func.max(SubjectChange.completed_at)).where(SubjectChange.account_id == account_id)
    )


async def add_open(uow: Uow, change: SubjectChange) -> bool:
    """Insert an open change; False when the account has one already (the unique `open_account_id`, so
    racing starts on either engine leave exactly one)."""
    try:
        async with uow.session.begin_nested():
            uow.session.add(change)
    except IntegrityError:
        return False
    return True


async def change_of_account(uow: Uow, account_id: int, change_id: int) -> SubjectChange | None:
    """The account's change, read afresh; another account's is as unknown as a made-up ID."""
    change = await uow.session.get(SubjectChange, change_id, populate_existing=True)
    return change if change is not None and change.account_id == account_id else None


async def get(uow: Uow, change_id: int) -> SubjectChange | None:
    return await uow.session.get(SubjectChange, change_id, populate_existing=True)


async def move(
    uow: Uow,
    change_id: int,
    from_states: Collection[str],
    to: str,
    values: dict[str, object],
    *,
    ends: bool,
    now: datetime,
    client: ClientInfo | None = None,
) -> bool:
    """Move the change to `to` with `values`, only while it is in one of `from_states`: whether it moved.
    A move to an end (`ends`) also frees the account's open-change slot and records when it ended."""
    extra: dict[str, object] = (
        {"open_account_id": None, "ended_at": now, "ended_step": SubjectChange.state} if ends else {}
    )
    moved = await uow.session.execute(
        update(SubjectChange)
        .where(SubjectChange.id == change_id, SubjectChange.state.in_(list(from_states)))
        .values(state=to, updated_at=now, **values, **extra)
        .returning(SubjectChange.account_id)
    )
    account_id = moved.scalar_one_or_none()
    if account_id is not None and ends:
        await _record_end(uow, change_id, account_id, to, client)
    return account_id is not None


# HIST-1: every way a change ends is a security event of its account, recorded by the statement that ends it.
_END_EVENTS = {
    "completed": EventKind.SUBJECT_CHANGE_COMPLETED,
    "withdrawn": EventKind.SUBJECT_CHANGE_WITHDRAWN,
    "rejected": EventKind.SUBJECT_CHANGE_REJECTED,
    "lapsed": EventKind.SUBJECT_CHANGE_LAPSED,
}


async def _record_end(
    uow: Uow, change_id: int, account_id: int, state: str, client: ClientInfo | None, detail: str | None = None
) -> None:
    await history.record(uow, account_id, _END_EVENTS[state], client, detail)
    # WH-1: the change's end, to the webhooks subscribed to it.
    await webhook_events.emit(
        uow,
        EventType.SUBJECT_CHANGE_DECIDED,
        account_id,
        {"subjectChangeId": webhook_events.api_id("SubjectChange", change_id), "state": state, "reason": detail},
    )


async def end_overdue(
    uow: Uow, kind: str, states: Sequence[str], to: str, reason: str, now: datetime, account_id: int | None = None
) -> int:
    """End every change of `kind` in `states` whose step ran out, in one statement: how many ended."""
    conditions = [
        SubjectChange.kind == kind,
        SubjectChange.state.in_(list(states)),
        SubjectChange.expires_at <= now,
    ]
    if account_id is not None:
        conditions.append(SubjectChange.account_id == account_id)
    ended = await uow.session.execute(
        update(SubjectChange)
        .where(and_(*conditions))
        .values(
            state=to,
            reason=reason,
            ended_step=SubjectChange.state,
            open_account_id=None,
            ended_at=now,
            updated_at=now,
            expires_at=None,
        )
        .returning(SubjectChange.id, SubjectChange.account_id)
    )
    rows = ended.all()
    for ended_id, ended_account_id in rows:  # no client: a deadline passed
        await _record_end(uow, ended_id, ended_account_id, to, None, "timed_out")
    return len(rows)


async def page_for(uow: Uow, account_id: int, first: int, after_id: int | None) -> tuple[list[ChangeRow], ListCount]:
    """The account's changes, newest first, each with its review item: two statements, whatever the page."""
    stmt = (
        select(SubjectChange, ReviewItem)
        .outerjoin(ReviewItem, ReviewItem.id == SubjectChange.review_item_id)
        .where(SubjectChange.account_id == account_id)
        .order_by(SubjectChange.id.desc())
        .limit(first)
    )
    if after_id is not None:
        stmt = stmt.where(SubjectChange.id < after_id)
    rows: list[ChangeRow] = [(c, i) for c, i in (await uow.session.execute(stmt)).all()]
    counted = await count_list(uow, SubjectChange.id, [SubjectChange.account_id == account_id], after_id)
    return rows, counted


async def changes_by_ids(uow: Uow, account_id: int, ids: list[int]) -> list[ChangeRow]:
    rows = await uow.session.execute(
        select(SubjectChange, ReviewItem)
        .outerjoin(ReviewItem, ReviewItem.id == SubjectChange.review_item_id)
        .where(SubjectChange.account_id == account_id, SubjectChange.id.in_(ids))
    )
    return [(c, i) for c, i in rows.all()]


async def attempts_of(uow: Uow, change_ids: Collection[int]) -> dict[tuple[int, str], int]:
    """The attempts counted inside each of the changes, by method: one statement for any number of changes."""
    if not change_ids:
        return {}
    rows = await uow.session.execute(
        select(SubjectChangeAttempt.change_id, SubjectChangeAttempt.method, SubjectChangeAttempt.count).where(
            SubjectChangeAttempt.change_id.in_(list(change_ids))
        )
    )
    return {(c, m): n for c, m, n in rows.all()}


async def take_attempt(uow: Uow, change_id: int, method: str, cap: int) -> int | None:
    """CHG-4, CHG-5: one more attempt of `method` inside the change, atomically, unless `cap` are used."""
    return await take_counted_slot(uow, SubjectChangeAttempt, {"change_id": change_id, "method": method}, cap)


async def give_back_attempt(uow: Uow, change_id: int, method: str) -> None:
    """A provider failure decided nothing: the attempt it counted is given back."""
    await uow.session.execute(
        update(SubjectChangeAttempt)
        .where(
            SubjectChangeAttempt.change_id == change_id,
            SubjectChangeAttempt.method == method,
            SubjectChangeAttempt.count > 0,
        )
        .values(count=SubjectChangeAttempt.count - 1)
    )


async def release_document_slot(uow: Uow, document_key: str) -> None:
    """RN-3: the previous subject's document no longer counts for this account once the change completes."""
    await uow.session.execute(
        update(IdentityDocumentUse)
        .where(IdentityDocumentUse.document_key == document_key, IdentityDocumentUse.accounts > 0)
        .values(accounts=IdentityDocumentUse.accounts - 1)
    )
    await uow.session.execute(
        delete(IdentityDocumentUse).where(
            IdentityDocumentUse.document_key == document_key, IdentityDocumentUse.accounts == 0
        )
    )


async def end_student_statuses(uow: Uow, account_id: int, now: datetime) -> int:
    """STU: a student status belongs to the person verified when it was granted; it ends with a change."""
    ended = await uow.session.execute(
        update(StudentStatus)
        .where(StudentStatus.account_id == account_id, StudentStatus.state.in_(("pending", "verified")))
        .values(state="ended", ended_at=now)
        .returning(StudentStatus.id)
    )
    return len(ended.all())


async def add_documents(uow: Uow, change_id: int, role: str, document_ids: Collection[int], now: datetime) -> None:
    """REV-4: uploads the user sent for the change, in the order sent."""
    uow.session.add_all(
        [SubjectChangeDocument(change_id=change_id, role=role, document_id=d, created_at=now) for d in document_ids]
    )
    await uow.session.flush()


async def document_ids(uow: Uow, change_id: int) -> list[int]:
    """The uploads sent for the change (REV-4), oldest first."""
    rows = await uow.session.scalars(
        select(SubjectChangeDocument.document_id)
        .where(SubjectChangeDocument.change_id == change_id)
        .order_by(SubjectChangeDocument.id)
    )
    return list(rows)
