"""SQL of reviewers' sign-in (REV-6): the reviewer row, the TOTP step, sessions and the sign-in throttle.

The throttle shares the `login_throttles` table with account sign-in (AUTH-5) under keys of its own
(`staff:` and `staff-ip:`), with its own statements: a try is reserved before its hash is computed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select, update

from models.auth import LoginThrottle
from models.review import Reviewer, ReviewerSession
from services.sql import insert
from services.uow import Uow


async def reviewer_by_username(uow: Uow, username: str) -> Reviewer | None:
    return await uow.session.scalar(select(Reviewer).where(Reviewer.username == username))


async def accept_totp_step(uow: Uow, reviewer_id: int, password_hash: str, step: int) -> bool:
    """MFA-5 for reviewers: move the last accepted time step forward, atomically, so a code is accepted
    once; only while the reviewer is active and still has the password hash that was checked."""
    result = await uow.session.execute(
        update(Reviewer)
        .where(
            Reviewer.id == reviewer_id,
            Reviewer.active.is_(True),
            Reviewer.password_hash == password_hash,
            Reviewer.totp_last_step < step,
        )
        .values(totp_last_step=step)
        .returning(Reviewer.id)
    )
    return result.scalar_one_or_none() is not None


async def add_session(uow: Uow, session: ReviewerSession) -> None:
    uow.session.add(session)
    await uow.session.flush()


# --- the sign-in throttle ------------------------------------------------------------------------

_T = LoginThrottle.__table__


async def reserve_try(uow: Uow, key: str, limit: int, now: datetime, window: timedelta) -> int | None:
    """Count one more try under `key`, atomically, unless the key is locked or has had `limit` tries in
    its current window (a window older than `window` starts again at this try). One conditional upsert,
    so simultaneous tries cannot pass the limit: the tries in the window with this one, or None when
    this try is refused."""
    stale = _T.c.window_started_at <= now - window
    stmt = insert(uow, LoginThrottle).values(key=key, failures=1, window_started_at=now, locked_until=None)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": case((stale, 1), else_=_T.c.failures + 1),
            "window_started_at": case((stale, now), else_=_T.c.window_started_at),
            "locked_until": None,
        },
        where=and_(
            or_(_T.c.locked_until.is_(None), _T.c.locked_until <= now),
            or_(stale, _T.c.failures < limit),
        ),
    ).returning(LoginThrottle.failures)
    tries: int | None = (await uow.session.execute(stmt)).scalar_one_or_none()
    return tries


async def refused_until(uow: Uow, key: str, now: datetime, window: timedelta) -> datetime:
    """When a refused key takes tries again: at the end of its lock, else of its current window."""
    row = (
        await uow.session.execute(
            select(LoginThrottle.window_started_at, LoginThrottle.locked_until).where(LoginThrottle.key == key)
        )
    ).first()
    if row is None:
        return now
    started, until = row
    return until if until is not None and until > now else started + window


async def lock_if_reached(uow: Uow, key: str, limit: int, until: datetime, now: datetime, window: timedelta) -> None:
    """Lock the key until `until` once its current window holds `limit` judged failures."""
    await uow.session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.key == key,
            LoginThrottle.failures >= limit,
            LoginThrottle.window_started_at > now - window,
        )
        .values(locked_until=until)
    )


async def clear(uow: Uow, key: str) -> None:
    await uow.session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(failures=0, locked_until=None)
    )


async def give_back_try(uow: Uow, key: str) -> None:
    """A try that succeeded is not a failure: return its reservation."""
    await uow.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )
