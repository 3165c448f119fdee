"""One sweeper at a time across instances (issue 16): on PostgreSQL a round holds an advisory lock and a
round started meanwhile skips; on SQLite (one file, serialised writers) every round sweeps."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from services import sweeper
from services.sweeper import SKIPPED, sweep_round, sweeper_lock
from tests.conftest import IS_PG

ROOT = Path(__file__).resolve().parents[2]


async def test_two_concurrent_sweep_rounds_on_postgresql_one_sweeps_and_one_skips(app, db, monkeypatch) -> None:
    # Given a round that has started (it holds the lock while it asks the bank about payouts)
    entered, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def slow_first_call(tx: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            entered.set()
            await release.wait()
        return 0

    monkeypatch.setattr(sweeper.enterprise_transfer, "resolve_payouts", slow_first_call)
    first = asyncio.create_task(sweep_round(db, app.state.deps))
    await entered.wait()
    # When a second round starts meanwhile
    second = await sweep_round(db, app.state.deps)
    release.set()
    first_result = await first
    # Then the first sweeps; the second skips on PostgreSQL, and sweeps too on SQLite (no lock there)
    assert "sessions_ended" in first_result
    if IS_PG:
        assert second == SKIPPED
        assert calls == 1
    else:
        assert "sessions_ended" in second
        assert calls == 2
    # And once the first round is over, the next one sweeps
    assert "sessions_ended" in await sweep_round(db, app.state.deps)


async def test_account_center_sweep_says_it_skipped_and_exits_0_while_another_round_holds_the_lock(
    db, settings, tmp_path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ENVIRONMENT": "test",
    }
    async with sweeper_lock(db) as held:
        assert held
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "cli.py"),
            "sweep",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    if IS_PG:
        assert out.decode().strip() == str(SKIPPED)
        assert "sweep skipped: another instance holds the sweeper lock" in err.decode()
    else:
        assert "sessions_ended" in out.decode()
        assert "skipped" not in err.decode()
