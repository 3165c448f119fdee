"""The write path (services/database.py): on SQLite this process's writers queue in arrival order."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from services.database import Database, run_write
from services.uow import Uow
from tests.conftest import IS_PG


async def test_sqlite_writers_enter_their_transactions_in_arrival_order(app, db: Database) -> None:
    # Given 30 write use cases started one after the other, each yielding while it holds its transaction
    entered: list[int] = []

    async def use_case(uow: Uow, n: int) -> int:
        await uow.session.execute(text("SELECT 1"))  # the transaction begins: BEGIN IMMEDIATE on SQLite
        entered.append(n)
        await asyncio.sleep(0)  # let the others run: none may enter meanwhile on SQLite
        await asyncio.sleep(0)
        return n

    # When they run at once
    results = await asyncio.gather(*(run_write(db, app.state.deps, use_case, n) for n in range(30)))
    # Then every one ran; on SQLite one at a time and in the order they arrived (no busy-wait lottery)
    assert results == list(range(30))
    if IS_PG:
        assert db.write_queue is None  # PostgreSQL locks rows, not the database: no queue
    else:
        assert entered == list(range(30))
