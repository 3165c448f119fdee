"""REV-1, REV-3, REV-4, REV-5: the review machinery every kind of manual review plugs into."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models.accounts import Account
from models.codes import OutboxMessage
from models.review import Reviewer, ReviewItem
from services.clock import SHANGHAI, ManualClock
from services.database import Database
from services.errors import ServiceError
from services.review import kinds
from services.review import service as review
from services.review.kinds import RejectReason
from services.uow import Uow

KIND = "test_subject"


class RecordingHandler:
    label = "测试申请 / test application"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    async def approved(self, uow: Uow, item: ReviewItem) -> None:
        self.calls.append(("approved", item.subject_id, ""))

    async def rejected(self, uow: Uow, item: ReviewItem, reason: RejectReason, text: str) -> None:
        self.calls.append(("rejected", item.subject_id, f"{reason.value}:{text}"))

    async def more_material_requested(self, uow: Uow, item: ReviewItem, message: str) -> None:
        self.calls.append(("more", item.subject_id, message))

    async def materials(self, uow: Uow, item: ReviewItem) -> list[kinds.ReviewMaterial]:
        return []

    async def facts(self, uow: Uow, item: ReviewItem) -> list[tuple[str, str]]:
        return [("Subject", str(item.subject_id))]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def handler() -> RecordingHandler:
    h = RecordingHandler()
    kinds.register(KIND, h)
    return h


async def _seed(db: Database, clock: ManualClock, reviewers: int = 2) -> tuple[int, list[Reviewer]]:
    async with db.write_sessions() as s:
        account = Account(
            kind="cloud", status="active", phone="+8613700000001", idle_timeout_minutes=60,
            op_protection_sms=True, op_protection_totp=False, login_protection_sms=False,
            login_protection_totp=False, created_at=clock.now(),
        )  # fmt: skip
        staff = [
            Reviewer(username=f"rev{i}", display_name=f"Reviewer {i}", role="lead" if i == 0 else "reviewer",
                     active=True, password_hash="x", totp_secret="x", totp_last_step=0, created_at=clock.now())
            for i in range(reviewers)
        ]  # fmt: skip
        s.add_all([account, *staff])
        await s.commit()
        return account.id, staff


async def _items(db: Database) -> list[ReviewItem]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(ReviewItem)))


async def test_rev_1_item_is_due_at_the_end_of_the_nth_working_day(db, clock, run, handler) -> None:
    # Given a submission on 2026-09-30 at 10:00 in Shanghai
    clock.set(local(2026, 9, 30, 10, 0))
    account_id, _ = await _seed(db, clock)
    # When it enters the 2-working-day queue
    item = await run(review.submit, kind=KIND, subject_id=7, account_id=account_id, queue_days=2)
    # Then it is pending and due at the end of 2026-10-09 (after National Day)
    assert (item.state, item.due_at) == ("pending", local(2026, 10, 9, 23, 59, 59))
    assert [e.action for e in await run(review.audit_trail, item.id)] == ["submit"]


async def test_rev_1_unknown_kind_or_queue_is_refused_and_nothing_is_written(db, clock, run, handler) -> None:
    account_id, _ = await _seed(db, clock)
    with pytest.raises(ServiceError) as unknown:
        await run(review.submit, kind="nobody_handles_this", subject_id=1, account_id=account_id, queue_days=2)
    with pytest.raises(ServiceError) as queue:
        await run(review.submit, kind=KIND, subject_id=1, account_id=account_id, queue_days=3)
    assert (unknown.value.code.value, queue.value.code.value) == ("UNKNOWN_KIND", "INVALID_QUEUE")
    assert await _items(db) == []


async def test_rev_3_ten_simultaneous_claims_have_one_winner(db, clock, run, handler) -> None:
    # Given one pending item and ten reviewers
    account_id, staff = await _seed(db, clock, reviewers=10)
    item = await run(review.submit, kind=KIND, subject_id=1, account_id=account_id, queue_days=2)
    # When all ten claim it at once
    results = await asyncio.gather(
        *[run(review.claim, reviewer, item.id) for reviewer in staff], return_exceptions=True
    )
    # Then exactly one holds it and the nine others are told it is taken
    winners = [r for r in results if isinstance(r, ReviewItem)]
    losers = [r for r in results if isinstance(r, ServiceError)]
    assert len(winners) == 1
    assert [e.code.value for e in losers] == ["ALREADY_CLAIMED"] * 9
    [stored] = await _items(db)
    assert (stored.state, stored.claimed_by) == ("claimed", winners[0].claimed_by)
    assert [e.action for e in await run(review.audit_trail, item.id)] == ["submit", "claim"]


async def test_rev_3_only_the_claim_holder_decides(db, clock, run, handler) -> None:
    # Given an item claimed by one reviewer
    account_id, (lead, other) = await _seed(db, clock)
    item = await run(review.submit, kind=KIND, subject_id=1, account_id=account_id, queue_days=5)
    await run(review.claim, lead, item.id)
    # When another reviewer tries to approve it, or to approve an unclaimed one
    with pytest.raises(ServiceError) as refused:
        await run(review.approve, other, item.id)
    # Then it is refused and nothing happened to the item or its subject
    assert refused.value.code.value == "NOT_CLAIM_HOLDER"
    [stored] = await _items(db)
    assert (stored.state, stored.claimed_by) == ("claimed", lead.id)
    assert handler.calls == []


async def test_rev_3_release_and_lead_reassign(db, clock, run, handler) -> None:
    account_id, (lead, reviewer) = await _seed(db, clock)
    item = await run(review.submit, kind=KIND, subject_id=1, account_id=account_id, queue_days=2)
    await run(review.claim, reviewer, item.id)
    # A claim can be released
    released = await run(review.release, reviewer, item.id)
    assert (released.state, released.claimed_by) == ("pending", None)
    # Only a lead reassigns
    with pytest.raises(ServiceError) as not_lead:
        await run(review.reassign, reviewer, item.id, reviewer.id)
    assert not_lead.value.code.value == "LEAD_ONLY"
    moved = await run(review.reassign, lead, item.id, reviewer.id)
    assert (moved.state, moved.claimed_by) == ("claimed", reviewer.id)
    actions = [e.action for e in await run(review.audit_trail, item.id)]
    assert actions == ["submit", "claim", "release", "reassign"]


async def test_rev_4_reject_needs_a_reason_from_the_list(db, clock, run, handler) -> None:
    account_id, (lead, _) = await _seed(db, clock)
    item = await run(review.submit, kind=KIND, subject_id=3, account_id=account_id, queue_days=2)
    await run(review.claim, lead, item.id)
    with pytest.raises(ServiceError) as no_reason:
        await run(review.reject, lead, item.id, None, "blurry")
    assert no_reason.value.code.value == "REASON_REQUIRED"
    assert (await _items(db))[0].state == "claimed"
    rejected = await run(review.reject, lead, item.id, RejectReason.MATERIAL_UNCLEAR, "the ID photo is blurry")
    assert rejected.state == "rejected"
    assert handler.calls == [("rejected", 3, "MATERIAL_UNCLEAR:the ID photo is blurry")]
    last = (await run(review.audit_trail, item.id))[-1]
    assert (last.action, last.reason, last.text, last.reviewer_id) == (
        "reject",
        "MATERIAL_UNCLEAR",
        "the ID photo is blurry",
        lead.id,
    )


async def test_rev_4_more_material_stops_the_clock_until_the_user_answers(db, clock, run, handler) -> None:
    # Given an item due at the end of 2026-10-09, sent back for material on 09-30 at 10:00
    clock.set(local(2026, 9, 30, 9, 0))
    account_id, (lead, _) = await _seed(db, clock)
    item = await run(review.submit, kind=KIND, subject_id=4, account_id=account_id, queue_days=2)
    await run(review.claim, lead, item.id)
    clock.set(local(2026, 9, 30, 10, 0))
    waiting = await run(review.request_more, lead, item.id, "Please upload the stamped letter.")
    assert (waiting.state, waiting.claimed_by) == ("waiting_user", None)
    # When the user answers on Monday 10-12 at 09:00
    clock.set(local(2026, 10, 12, 9, 0))
    resumed = await run(review.user_answered, item.id)
    # Then it is back in the queue, due later by exactly the working time it was waiting
    assert resumed.state == "pending"
    assert resumed.due_at == local(2026, 10, 14, 22, 59, 59)
    assert handler.calls == [("more", 4, "Please upload the stamped letter.")]


async def test_rev_4_answering_an_item_that_does_not_wait_is_refused(db, clock, run, handler) -> None:
    account_id, _ = await _seed(db, clock)
    item = await run(review.submit, kind=KIND, subject_id=4, account_id=account_id, queue_days=2)
    with pytest.raises(ServiceError) as refused:
        await run(review.user_answered, item.id)
    assert refused.value.code.value == "NOT_WAITING_FOR_USER"
    assert (await _items(db))[0].due_at == item.due_at


async def test_rev_5_decisions_notify_the_user_and_the_audit_trail_is_append_only(db, clock, run, handler) -> None:
    # Given an approved item
    account_id, (lead, _) = await _seed(db, clock)
    item = await run(review.submit, kind=KIND, subject_id=5, account_id=account_id, queue_days=5)
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id, "all material in order")
    # Then the account holder got an SMS and the audit names reviewer, decision and time
    async with db.read_sessions() as s:
        [message] = list(await s.scalars(select(OutboxMessage)))
    assert (message.destination, message.channel) == ("+8613700000001", "sms")
    assert "approved" in message.text
    last = (await run(review.audit_trail, item.id))[-1]
    assert (last.action, last.reviewer_id, last.created_at) == ("approve", lead.id, clock.now())
    # And the database itself refuses to change or delete audit entries
    for statement in ("UPDATE review_audit SET action = 'forged'", "DELETE FROM review_audit"):
        with pytest.raises(DBAPIError):
            async with db.engine.begin() as conn:
                await conn.execute(text(statement))
    assert [e.action for e in await run(review.audit_trail, item.id)] == ["submit", "claim", "approve"]
