"""REV-2: queues sorted by due time with overdue / due-today marks, filters, search and keyset pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from models.accounts import Account
from models.review import Reviewer, ReviewItem
from services.clock import SHANGHAI, ManualClock
from services.database import Database, run_read
from services.review.queues import QueueFilter, page


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
async def seeded(db: Database, clock: ManualClock) -> dict[str, int]:
    """Two accounts, a reviewer, and items in both queues with known due times.

    Now is 2026-11-26 10:00 in Shanghai."""
    clock.set(local(2026, 11, 26, 10, 0))
    async with db.write_sessions() as s:
        alice = Account(kind="cloud", status="active", account_number=1000000000000011, phone="+8613700000001",
                        idle_timeout_minutes=60, op_protection_sms=True, op_protection_totp=False,
                        login_protection_sms=False, login_protection_totp=False, created_at=clock.now())  # fmt: skip
        bob = Account(kind="portal", status="active", account_number=1000000000000022, phone="+8613900000009",
                      idle_timeout_minutes=60, op_protection_sms=True, op_protection_totp=False,
                      login_protection_sms=False, login_protection_totp=False, created_at=clock.now())  # fmt: skip
        lin = Reviewer(username="lin", display_name="Lin", role="reviewer", active=True, password_hash="x",
                       totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add_all([alice, bob, lin])
        await s.flush()

        def item(account: Account, kind: str, state: str, due: datetime, queue: int = 2, by: int | None = None):
            return ReviewItem(kind=kind, subject_id=1, account_id=account.id, queue_days=queue, state=state,
                              submitted_at=due - timedelta(days=3), due_at=due, claimed_by=by)  # fmt: skip

        s.add_all(
            [
                item(alice, "org_face", "pending", local(2026, 11, 27, 23, 59, 59)),  # due tomorrow
                item(bob, "name_change", "claimed", local(2026, 11, 26, 23, 59, 59), by=lin.id),  # due today
                item(alice, "org_face", "pending", local(2026, 11, 25, 23, 59, 59)),  # overdue
                item(bob, "org_face", "waiting_user", local(2026, 12, 1, 23, 59, 59)),
                item(alice, "org_face", "approved", local(2026, 11, 20, 23, 59, 59)),  # decided: not shown
                item(alice, "phone_rebind", "pending", local(2026, 11, 24, 23, 59, 59), queue=5),  # other queue
            ]
        )
        await s.commit()
        return {"lin": lin.id}


async def _page(app, db, f: QueueFilter, **kw):
    return await run_read(db, app.state.deps, page, f, **kw)


async def test_rev_2_queue_is_sorted_by_due_time_with_overdue_and_due_today_marked(app, db, seeded) -> None:
    result = await _page(app, db, QueueFilter(queue_days=2))
    assert [(r.kind, r.state, r.overdue, r.due_today) for r in result.rows] == [
        ("org_face", "pending", True, False),
        ("name_change", "claimed", False, True),
        ("org_face", "pending", False, False),
        ("org_face", "waiting_user", False, False),
    ]
    assert result.rows[1].claimed_by_name == "Lin"
    assert result.rows[0].phone_masked == "137****0001"
    assert result.next_after is None


async def test_rev_2_filters_and_search(app, db, seeded) -> None:
    kinds = await _page(app, db, QueueFilter(queue_days=2, kinds=("name_change",)))
    assert [r.kind for r in kinds.rows] == ["name_change"]
    mine = await _page(app, db, QueueFilter(queue_days=2, mine=seeded["lin"]))
    assert [r.claimed_by for r in mine.rows] == [seeded["lin"]]
    decided = await _page(app, db, QueueFilter(queue_days=2, states=("approved",)))
    assert [r.state for r in decided.rows] == ["approved"]
    by_phone = await _page(app, db, QueueFilter(queue_days=2, search="139 0000 0009"))
    assert {r.account_number for r in by_phone.rows} == {1000000000000022}
    by_id = await _page(app, db, QueueFilter(queue_days=2, search="1000000000000011"))
    assert {r.account_number for r in by_id.rows} == {1000000000000011}
    five = await _page(app, db, QueueFilter(queue_days=5))
    assert [r.kind for r in five.rows] == ["phone_rebind"]


async def test_rev_2_keyset_pages_cover_the_queue_once_with_one_statement_each(app, db, seeded) -> None:
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        statements.clear()
        result = await _page(app, db, QueueFilter(queue_days=2), after=after, limit=1)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
        seen += [r.id for r in result.rows]
        pages += 1
        if result.next_after is None:
            break
        after = result.next_after
    assert pages == 4
    assert len(seen) == len(set(seen)) == 4
