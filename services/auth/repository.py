"""All SQL of sessions, throttles, QR tickets and login challenges."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Table, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy import cast as sql_cast

from models.accounts import Account
from models.auth import AuthSession, LoginThrottle, QrLoginTicket
from models.mfa import LoginChallenge
from services.sql import ListCount, count_list, epoch_us, insert, to_epoch_us
from services.uow import Uow


async def add_session(uow: Uow, session: AuthSession) -> AuthSession:
    uow.session.add(session)
    await uow.session.flush()
    return session


# The hottest statement of the service (every authenticated request): built once, compiled once.
_LIVE_SESSION = (
    select(Account, AuthSession.id, AuthSession.last_seen_at, AuthSession.created_at)
    .join(AuthSession, AuthSession.account_id == Account.id)
    .where(AuthSession.token_hash == bindparam("token_hash"), AuthSession.ended_at.is_(None))
)


async def live_session(uow: Uow, token_digest: str) -> tuple[Account, int, datetime, datetime] | None:
    """(account, session id, last activity, creation) of a session that has not been ended."""
    row = (await uow.session.execute(_LIVE_SESSION, {"token_hash": token_digest})).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


async def touch(uow: Uow, session_id: int, now: datetime) -> None:
    await uow.session.execute(update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now))


async def end_session(uow: Uow, session_id: int, account_id: int, now: datetime, reason: str) -> bool:
    result = await uow.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.account_id == account_id, AuthSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .returning(AuthSession.id)
    )
    return result.scalar_one_or_none() is not None


async def end_all_sessions(
    uow: Uow, account_id: int, now: datetime, reason: str, except_session_id: int | None = None
) -> int:
    stmt = (
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if except_session_id is not None:
        stmt = stmt.where(AuthSession.id != except_session_id)
    result = await uow.session.execute(stmt.returning(AuthSession.id))
    return len(result.all())


async def end_idle_sessions(uow: Uow, account_id: int, idle_cutoff: datetime, now: datetime) -> int:
    """AUTH-3: mark ended the account's sessions whose last activity is at or before `idle_cutoff`."""
    result = await uow.session.execute(
        update(AuthSession)
        .where(
            AuthSession.account_id == account_id,
            AuthSession.ended_at.is_(None),
            AuthSession.last_seen_at <= idle_cutoff,
        )
        .values(ended_at=now, end_reason="idle")
        .returning(AuthSession.id)
    )
    return len(result.all())


# AUTH-3: the sweeper ends sessions with one UPDATE per deadline, whatever their number. A session ends at
# the earlier of its two deadlines (services/auth/service.session_deadlines): the idle one (last activity +
# its account's idle timeout) and the absolute one (sign-in + the maximum age); a tie counts as idle. The
# deadlines are compared as microseconds since the epoch (`epoch_us`), the same on SQLite and PostgreSQL.
_US_PER_MINUTE = 60_000_000
_IDLE_DEADLINE_US = epoch_us(AuthSession.last_seen_at) + sql_cast(
    select(Account.idle_timeout_minutes).where(Account.id == AuthSession.account_id).scalar_subquery(), BigInteger
) * bindparam("us_per_minute", _US_PER_MINUTE, type_=BigInteger)


async def end_sessions_past_max_age(uow: Uow, now: datetime, max_age: timedelta) -> int:
    """AUTH-3: end the live sessions whose absolute deadline has passed and came before their idle deadline
    (reason `max_age`): one statement."""
    absolute_deadline_us = epoch_us(AuthSession.created_at) + bindparam(
        "max_age_us", max_age // timedelta(microseconds=1), type_=BigInteger
    )
    stmt = (
        update(AuthSession)
        .where(
            AuthSession.ended_at.is_(None),
            AuthSession.created_at <= now - max_age,
            absolute_deadline_us < _IDLE_DEADLINE_US,
        )
        .values(ended_at=now, end_reason="max_age")
        # Nothing of these rows is loaded in the sweeper's unit of work: no identity map to keep in step.
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await uow.session.execute(stmt))


async def end_sessions_idle_past_timeout(uow: Uow, now: datetime, min_idle: timedelta) -> int:
    """AUTH-3: end the live sessions idle past their account's timeout (reason `idle`): one statement.
    `min_idle` (the shortest timeout any account can have) narrows the rows looked at; run after
    `end_sessions_past_max_age`, so every session left past its absolute deadline reached its idle one
    first or at the same time."""
    stmt = (
        update(AuthSession)
        .where(
            AuthSession.ended_at.is_(None),
            AuthSession.last_seen_at <= now - min_idle,
            bindparam("now_us", to_epoch_us(now), type_=BigInteger) >= _IDLE_DEADLINE_US,
        )
        .values(ended_at=now, end_reason="idle")
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await uow.session.execute(stmt))


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _live(account_id: int, idle_cutoff: datetime, created_cutoff: datetime) -> list[ColumnElement[bool]]:
    return [
        AuthSession.account_id == account_id,
        AuthSession.ended_at.is_(None),
        AuthSession.last_seen_at > idle_cutoff,
        AuthSession.created_at > created_cutoff,
    ]


async def live_sessions(
    uow: Uow, account_id: int, idle_cutoff: datetime, created_cutoff: datetime, limit: int, after_id: int | None
) -> tuple[list[AuthSession], ListCount]:
    """The account's sessions used after `idle_cutoff` and created after `created_cutoff`, newest first, and
    how many there are: two statements."""
    live = _live(account_id, idle_cutoff, created_cutoff)
    counted = await count_list(uow, AuthSession.id, live, after_id)
    page = select(AuthSession).where(*live).order_by(AuthSession.id.desc()).limit(limit)
    if after_id is not None:
        page = page.where(AuthSession.id < after_id)
    rows = await uow.session.scalars(page)
    return list(rows), counted


async def live_sessions_by_ids(
    uow: Uow, account_id: int, idle_cutoff: datetime, created_cutoff: datetime, ids: list[int]
) -> list[AuthSession]:
    """Those of `ids` that are the account's live sessions (as `live_sessions` counts them): one statement."""
    if not ids:
        return []
    live = _live(account_id, idle_cutoff, created_cutoff)
    return list(await uow.session.scalars(select(AuthSession).where(AuthSession.id.in_(ids), *live)))


# --- AUTH-5 throttling -------------------------------------------------------------------------
# Core statements on the table: these run on every sign-in, and the ORM's UPDATE/INSERT machinery
# (synchronising the identity map) costs more than the statements themselves.
_THROTTLES = cast(Table, LoginThrottle.__table__)
# One row per budget key (a login name, a client address, an account): the tries counted in the current
# window, and the end of a lock. Every change is one conditional statement, so a limit holds however
# many requests race for it.


def _not_locked(now: datetime) -> ColumnElement[bool]:
    return or_(_THROTTLES.c.locked_until.is_(None), _THROTTLES.c.locked_until <= now)


async def locked_until(uow: Uow, keys: list[str], now: datetime) -> datetime | None:
    """The latest end of a running lock among `keys`, or None when none is locked."""
    return await uow.session.scalar(
        select(func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    )


async def reserve_try(uow: Uow, key: str, now: datetime, *, limit: int, window: timedelta) -> int | None:
    """Count one try against `key` before the password is judged, atomically: the try's number in the
    window (1..limit), or None when the key is locked or its `limit` tries are already counted (nothing
    changes then, so tries while locked neither count nor extend the lock).

    A window that started `window` ago or more, or whose lock has ended, starts again at this try.
    """
    c = _THROTTLES.c
    not_locked = _not_locked(now)
    fresh = and_(not_locked, or_(c.window_started_at <= now - window, c.locked_until.is_not(None)))
    stmt = insert(uow, _THROTTLES).values(key=key, failures=1, window_started_at=now, locked_until=None)
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.key],
        set_={
            "failures": case((fresh, 1), else_=c.failures + 1),
            "window_started_at": case((fresh, now), else_=c.window_started_at),
            "locked_until": case((fresh, None), else_=c.locked_until),
        },
        where=or_(fresh, and_(not_locked, c.failures < limit)),
    ).returning(c.failures)
    taken = (await uow.session.execute(stmt)).scalar_one_or_none()
    return None if taken is None else int(taken)


async def window_started_at(uow: Uow, key: str) -> datetime | None:
    return await uow.session.scalar(select(LoginThrottle.window_started_at).where(LoginThrottle.key == key))


async def give_back_try(uow: Uow, key: str) -> None:
    """Un-count one reserved try (it turned out not to be a wrong password)."""
    await uow.session.execute(
        update(_THROTTLES)
        .where(_THROTTLES.c.key == key, _THROTTLES.c.failures > 0)
        .values(failures=_THROTTLES.c.failures - 1)
    )


async def clear_if_unlocked(uow: Uow, key: str, now: datetime) -> bool:
    """Set the count of `key` back to 0 unless it is locked (a lock set meanwhile by a racing request is
    seen: the statement waits for that row and re-checks). False when it is locked or has no row."""
    result = await uow.session.execute(
        update(_THROTTLES)
        .where(_THROTTLES.c.key == key, _not_locked(now))
        .values(failures=0, locked_until=None)
        .returning(_THROTTLES.c.key)
    )
    return result.scalar_one_or_none() is not None


async def set_lock(uow: Uow, key: str, until: datetime, now: datetime) -> datetime:
    """Lock `key` until `until`, keeping its count (so the budget stays spent while locked); a running
    lock is not extended. Returns the lock's end."""
    await uow.session.execute(
        update(_THROTTLES).where(_THROTTLES.c.key == key, _not_locked(now)).values(locked_until=until)
    )
    return await locked_until(uow, [key], now) or until


async def delete_settled_throttles(uow: Uow, window_started_by: datetime, now: datetime) -> int:
    """Forget budgets whose window started at or before `window_started_by` and that are not locked (their
    counts would start again at the next try anyway)."""
    # Rows a sign-in holds are skipped, never waited for: a sign-in locks its budgets one by one, so a
    # sweep that waited on one while holding another could deadlock it (PostgreSQL; SQLite ignores it).
    settled = (
        select(LoginThrottle.key)
        .where(LoginThrottle.window_started_at <= window_started_by, _not_locked(now))
        .with_for_update(skip_locked=True)
    )
    result = await uow.session.execute(
        delete(LoginThrottle).where(LoginThrottle.key.in_(settled)).returning(LoginThrottle.key)
    )
    return len(result.all())


async def record_failure(uow: Uow, key: str, now: datetime, window: timedelta) -> int:
    """One more failure in the current window, atomically; returns the failures in the window."""
    table = LoginThrottle.__table__
    stale = table.c.window_started_at <= now - window
    stmt = insert(uow, LoginThrottle).values(key=key, failures=1, window_started_at=now, locked_until=None)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": case((stale, 1), else_=table.c.failures + 1),
            "window_started_at": case((stale, now), else_=table.c.window_started_at),
        },
    ).returning(LoginThrottle.failures)
    result = await uow.session.execute(stmt)
    return int(result.scalar_one())


async def lock(uow: Uow, key: str, until: datetime, now: datetime) -> None:
    await uow.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(locked_until=until, failures=0, window_started_at=now)
    )


async def clear(uow: Uow, key: str) -> None:
    await uow.session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(failures=0, locked_until=None)
    )


# --- QR login ------------------------------------------------------------------------------------


async def add_qr_ticket(uow: Uow, ticket: QrLoginTicket) -> None:
    uow.session.add(ticket)
    await uow.session.flush()


async def qr_ticket_by_code(uow: Uow, code_digest: str) -> QrLoginTicket | None:
    return await uow.session.scalar(select(QrLoginTicket).where(QrLoginTicket.code_hash == code_digest))


async def qr_ticket_by_token(uow: Uow, token_digest: str) -> QrLoginTicket | None:
    return await uow.session.scalar(select(QrLoginTicket).where(QrLoginTicket.token_hash == token_digest))


async def confirm_qr_ticket(uow: Uow, ticket_id: int, account_id: int, now: datetime) -> bool:
    result = await uow.session.execute(
        update(QrLoginTicket)
        .where(
            QrLoginTicket.id == ticket_id,
            QrLoginTicket.confirmed_at.is_(None),
            QrLoginTicket.expires_at > now,
        )
        .values(confirmed_account_id=account_id, confirmed_at=now)
        .returning(QrLoginTicket.id)
    )
    return result.scalar_one_or_none() is not None


async def redeem_qr_ticket(uow: Uow, ticket_id: int, now: datetime) -> bool:
    result = await uow.session.execute(
        update(QrLoginTicket)
        .where(
            QrLoginTicket.id == ticket_id,
            QrLoginTicket.confirmed_at.is_not(None),
            QrLoginTicket.redeemed_at.is_(None),
            QrLoginTicket.expires_at > now,
        )
        .values(redeemed_at=now)
        .returning(QrLoginTicket.id)
    )
    return result.scalar_one_or_none() is not None


# --- login challenges (AUTH-6) -------------------------------------------------------------------


async def add_challenge(uow: Uow, challenge: LoginChallenge) -> None:
    uow.session.add(challenge)
    await uow.session.flush()


async def challenge_by_hash(uow: Uow, token_digest: str) -> LoginChallenge | None:
    """The login challenge with this token hash, live or not (the caller decides)."""
    return await uow.session.scalar(select(LoginChallenge).where(LoginChallenge.token_hash == token_digest))


async def count_wrong_challenge_answer(uow: Uow, challenge_id: int, limit: int) -> int | None:
    """AUTH-6: count one more wrong factor on the challenge, atomically, never past `limit`; the new count,
    or None when it had reached `limit`."""
    counted = await uow.session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge_id, LoginChallenge.attempts < limit)
        .values(attempts=LoginChallenge.attempts + 1)
        .returning(LoginChallenge.attempts)
    )
    return counted.scalar_one_or_none()


async def consume_challenge(uow: Uow, challenge_id: int, now: datetime) -> bool:
    """AUTH-6: use the challenge once, atomically: of two right answers racing, one passes. Whether this
    caller did."""
    consumed = await uow.session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge_id, LoginChallenge.consumed_at.is_(None))
        .values(consumed_at=now)
        .returning(LoginChallenge.id)
    )
    return consumed.scalar_one_or_none() is not None
