"""`account-center sweep` expires what the clock has passed (AUTH-3 sessions, codes, tickets)."""

from __future__ import annotations

import asyncio
import secrets
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


# (created, last seen) before now, and the end reason the sweeper gives with a 60-minute idle timeout and
# the default 24-hour maximum age: the deadline that came first, a tie counting as idle (AUTH-3).
SESSION_CASES = [
    (timedelta(hours=2), timedelta(minutes=61), "idle"),
    (timedelta(hours=24, seconds=1), timedelta(minutes=1), "max_age"),
    (timedelta(hours=25), timedelta(hours=23), "idle"),  # idle at now - 22 h, aged at now - 1 h
    (timedelta(hours=30), timedelta(hours=5, minutes=30), "max_age"),  # aged at now - 6 h, idle at now - 4.5 h
    (timedelta(hours=25), timedelta(hours=2), "idle"),  # both deadlines at now - 1 h: a tie is idle
    (timedelta(hours=24, microseconds=-1), timedelta(minutes=59, microseconds=999_999), None),  # live by 1 µs
    (timedelta(hours=3), timedelta(hours=2), None),  # live: the second account's timeout is 23 h 59 min
]


async def _add_sessions(db, account_ids, now, copies) -> list[int]:
    ids = []
    async with db.write_sessions() as s, s.begin():
        for _ in range(copies):
            for i, (age, idle, _reason) in enumerate(SESSION_CASES):
                account_id = account_ids[1] if i == len(SESSION_CASES) - 1 else account_ids[0]
                row = AuthSession(
                    account_id=account_id,
                    token_hash=secrets.token_hex(32),
                    method="password",
                    created_at=now - age,
                    last_seen_at=now - idle,
                )
                s.add(row)
                await s.flush()
                ids.append(row.id)
    return ids


async def test_auth_3_sweeper_ends_sessions_set_based_whatever_their_number(app, client, clock, db, sql) -> None:
    # Given two accounts, the second with the longest idle timeout, and no session yet
    await registered_and_signed_in(client)
    await registered_and_signed_in(client, "bob00001", "13700000002")
    async with db.write_sessions() as s, s.begin():
        await s.execute(update(AuthSession).values(ended_at=clock.now(), end_reason="signed_out"))
        await s.execute(update(Account).where(Account.username == "bob00001").values(idle_timeout_minutes=1439))
        account_ids = list(await s.scalars(select(Account.id).order_by(Account.id)))
    expected = [reason for _age, _idle, reason in SESSION_CASES]
    # (a first round clears what registering left behind, so the rounds below differ only by sessions)
    clock.advance(days=3)
    await run_write(db, app.state.deps, sweep)
    # When the sweeper runs over one session of each case
    first = await _add_sessions(db, account_ids, clock.now(), copies=1)
    sql.reset()
    result = await run_write(db, app.state.deps, sweep)
    one = sql.count
    # Then each ended for the deadline it reached first
    assert result["sessions_ended"] == 5
    # And over ten times as many sessions, the sweeper runs as many statements
    many = await _add_sessions(db, account_ids, clock.now(), copies=10)
    sql.reset()
    result = await run_write(db, app.state.deps, sweep)
    assert sql.count == one
    assert result["sessions_ended"] == 50
    async with db.read_sessions() as s:
        rows = {r.id: r for r in await s.scalars(select(AuthSession))}
    for sid, reason in zip(first + many, expected * 11, strict=True):
        assert (rows[sid].end_reason, rows[sid].ended_at) == (reason, None if reason is None else clock.now())
