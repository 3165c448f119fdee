"""`account-center seed-demo` creates the demo accounts, reviewers and a queued appeal, once."""

from __future__ import annotations

from sqlalchemy import func, select

from models.accounts import Account
from models.review import Reviewer, ReviewItem
from services.demo import seed


async def test_seed_demo_is_idempotent_and_fills_the_back_office(run, db) -> None:
    first = await run(seed)
    second = await run(seed)
    assert any("back office lead" in line for line in first)
    assert any("5-day queue" in line for line in first)
    assert not any("5-day queue" in line for line in second)
    async with db.read_sessions() as s:
        counts = [await s.scalar(select(func.count()).select_from(m)) for m in (Account, Reviewer, ReviewItem)]
    assert counts == [2, 2, 1]
