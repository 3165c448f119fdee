"""`account-center sweep` expires what the clock has passed (AUTH-3 sessions, codes, tickets)."""

from __future__ import annotations

from sqlalchemy import func, select

from models.auth import AuthSession
from models.codes import CodeAddressCount, CodeDailyCount, CodeSendWindow, OneTimeCode
from services.database import run_write
from services.sweeper import sweep
from tests.helpers import registered_and_signed_in, send_code


async def test_auth_3_sweeper_ends_sessions_idle_past_the_timeout_and_deletes_old_codes(app, client, clock, db) -> None:
    # Given a session and a spent code
    await registered_and_signed_in(client)
    await send_code(client, "LOGIN", phone="13700000001")
    # When the sweeper runs before the idle timeout, nothing ends
    clock.advance(minutes=59)
    assert (await run_write(db, app.state.deps, sweep))["sessions_ended"] == 0
    # And after 60 idle minutes and a day, the session ends as idle and the codes are gone
    clock.advance(days=1)
    result = await run_write(db, app.state.deps, sweep)
    assert result["sessions_ended"] == 1
    assert result["codes_deleted"] == 2
    async with db.read_sessions() as s:
        [session] = list(await s.scalars(select(AuthSession)))
        assert (session.end_reason, session.ended_at) == ("idle", clock.now())
        assert await s.scalar(select(func.count()).select_from(OneTimeCode)) == 0


COUNTER_KEYS = ["code_send_windows_deleted", "code_daily_counts_deleted", "code_address_counts_deleted"]


async def test_code_3_sweeper_drops_the_sending_counters_no_limit_reads_any_more(app, client, clock, db) -> None:
    # Given a code sent now (a 60 s window, a daily budget count, an hour and a day count for the address)
    await send_code(client, "LOGIN", phone="13700000001")
    counters = (CodeSendWindow, CodeDailyCount, CodeAddressCount)
    # When the sweeper runs a minute later, every counter stays
    clock.advance(minutes=1)
    first = await run_write(db, app.state.deps, sweep)
    assert [first[k] for k in COUNTER_KEYS] == [0, 0, 0]
    # And two days later they are gone
    clock.advance(days=2)
    later = await run_write(db, app.state.deps, sweep)
    assert [later[k] for k in COUNTER_KEYS] == [1, 1, 2]
    async with db.read_sessions() as s:
        assert [await s.scalar(select(func.count()).select_from(m)) for m in counters] == [0, 0, 0]
