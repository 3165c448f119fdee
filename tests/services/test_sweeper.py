"""`account-center sweep` expires what the clock has passed (AUTH-3 sessions, codes, tickets)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from models.accounts import Account
from models.auth import AuthSession, LoginThrottle
from models.codes import CodeAddressCount, CodeDailyCount, CodeNetworkCount, CodeSendWindow, OneTimeCode
from models.documents import DocumentDailyCount
from services.clock import shanghai_day
from services.database import run_write
from services.documents import repository as documents_repo
from services.sweeper import sweep
from tests.conftest import IS_PG
from tests.helpers import gql, mutate, registered_and_signed_in, send_code, sign_in


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


COUNTER_KEYS = [
    "code_send_windows_deleted",
    "code_daily_counts_deleted",
    "code_network_counts_deleted",
    "code_address_counts_deleted",
]


async def test_code_3_sweeper_drops_the_sending_counters_no_limit_reads_any_more(app, client, clock, db) -> None:
    # Given a code sent now (a 60 s window, a daily budget count and its network's share, an hour and a day
    # count for the address)
    await send_code(client, "LOGIN", phone="13700000001")
    counters = (CodeSendWindow, CodeDailyCount, CodeNetworkCount, CodeAddressCount)
    # When the sweeper runs a minute later, every counter stays
    clock.advance(minutes=1)
    first = await run_write(db, app.state.deps, sweep)
    assert [first[k] for k in COUNTER_KEYS] == [0, 0, 0, 0]
    # And two days later they are gone
    clock.advance(days=2)
    later = await run_write(db, app.state.deps, sweep)
    assert [later[k] for k in COUNTER_KEYS] == [1, 1, 1, 2]
    async with db.read_sessions() as s:
        assert [await s.scalar(select(func.count()).select_from(m)) for m in counters] == [0, 0, 0, 0]


async def test_auth_3_sweeper_ends_sessions_past_their_maximum_age_however_active(app, client, clock, db) -> None:
    # Given a session used every 50 minutes, and a second one signed in 11 h 40 min later
    token = await registered_and_signed_in(client)
    for _ in range(14):
        clock.advance(minutes=50)
        assert (await gql(client, "query { viewer { id } }", token=token))["viewer"] is not None
    later = await sign_in(client, "alice01")
    for _ in range(14):
        clock.advance(minutes=50)
        for used in (token, later):
            assert (await gql(client, "query { viewer { id } }", token=used))["viewer"] is not None
    # When the sweeper runs 24 hours after the first sign-in, 40 minutes after both were last used
    clock.advance(minutes=40)
    result = await run_write(db, app.state.deps, sweep)
    # Then only the first session has ended, for its age, not for idleness
    assert result["sessions_ended"] == 1
    async with db.read_sessions() as s:
        rows = list(await s.scalars(select(AuthSession).order_by(AuthSession.id)))
    assert [(r.end_reason, r.ended_at) for r in rows] == [("max_age", clock.now()), (None, None)]


async def test_auth_5_sweeper_forgets_throttle_counts_a_day_old(app, client, clock, db) -> None:
    # Given a login name locked by five wrong passwords, and a day later another name with one
    await registered_and_signed_in(client)
    for _ in range(5):
        await mutate(client, "sessionCreateByPassword", {"loginName": "ghost01", "password": "Wrong-1!"}, "__typename")
    clock.advance(days=1)
    await mutate(client, "sessionCreateByPassword", {"loginName": "ghost02", "password": "Wrong-1!"}, "__typename")
    async with db.read_sessions() as s:
        before = {t.key: t.failures for t in await s.scalars(select(LoginThrottle))}
    # When the sweeper runs
    result = await run_write(db, app.state.deps, sweep)
    # Then the rows whose window started over a day ago are gone (the lock has ended), the fresh ones stay
    async with db.read_sessions() as s:
        after = {t.key: t.failures for t in await s.scalars(select(LoginThrottle))}
    assert after == {k: v for k, v in before.items() if v == 1}
    assert result["throttles_deleted"] == len(before) - len(after) == 3


async def test_org_2_sweeper_drops_upload_counts_of_days_before_yesterday(app, client, clock, db) -> None:
    # Given upload counts for an account two days ago, yesterday and today (Asia/Shanghai days)
    await registered_and_signed_in(client)
    async with db.read_sessions() as s:
        account_id = await s.scalar(select(Account.id))
    days = [shanghai_day(clock.now() - timedelta(days=n)) for n in (2, 1, 0)]
    for day in days:
        await run_write(db, app.state.deps, documents_repo.take_upload_slot, account_id, day, 50)
    # When the sweeper runs
    result = await run_write(db, app.state.deps, sweep)
    # Then only the count of two days ago is gone: a slot reserved yesterday may still be given back
    assert result["upload_counts_deleted"] == 1
    async with db.read_sessions() as s:
        assert sorted(await s.scalars(select(DocumentDailyCount.day))) == days[1:]


async def test_auth_5_sweeper_skips_throttle_rows_a_sign_in_holds_instead_of_waiting(app, client, clock, db) -> None:
    # Given two settled throttle rows (a day old)
    for name in ("ghost01", "ghost02"):
        await mutate(client, "sessionCreateByPassword", {"loginName": name, "password": "Wrong-1!"}, "__typename")
    clock.advance(days=1, minutes=1)
    async with db.read_sessions() as s:
        keys = sorted(await s.scalars(select(LoginThrottle.key).where(LoginThrottle.key.like("name:%"))))
    if not IS_PG:  # SQLite has one writer at a time: nothing is held while the sweeper runs
        await run_write(db, app.state.deps, sweep)
        async with db.read_sessions() as s:
            assert not set(keys) & set(await s.scalars(select(LoginThrottle.key)))
        return
    # And one of them held by a transaction still running, as a sign-in holds its budgets one by one
    async with db.write_sessions() as holder:
        await holder.execute(update(LoginThrottle).where(LoginThrottle.key == keys[0]).values(failures=1))
        # When the sweeper runs meanwhile
        result = await asyncio.wait_for(run_write(db, app.state.deps, sweep), timeout=10)
        # Then it did not wait for the held row (a sign-in waiting on one it holds would deadlock): it left
        # that row and deleted the other
        async with db.read_sessions() as s:
            left = set(await s.scalars(select(LoginThrottle.key)))
        assert keys[0] in left
        assert keys[1] not in left
        assert result["throttles_deleted"] >= 1
        await holder.rollback()
