"""SQL of reviewers and their back-office sessions (REV-6): the reviewer row, the TOTP step, sessions.

The sign-in throttle is AUTH-5's (services/auth/throttle.py) under keys of its own (`staff:`, `staff-ip:`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from models.review import Reviewer, ReviewerSession
from services.uow import Uow


async def reviewer_by_username(uow: Uow, username: str) -> Reviewer | None:
    return await uow.session.scalar(select(Reviewer).where(Reviewer.username == username))


async def reviewer_by_id(uow: Uow, reviewer_id: int) -> Reviewer | None:
    return await uow.session.get(Reviewer, reviewer_id)


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


async def username_taken(uow: Uow, username: str) -> bool:
    return await uow.session.scalar(select(Reviewer.id).where(Reviewer.username == username)) is not None


async def add_reviewer(uow: Uow, reviewer: Reviewer) -> None:
    uow.session.add(reviewer)
    await uow.session.flush()


async def live_session(uow: Uow, token_digest: str) -> tuple[Reviewer, int, str, datetime, datetime] | None:
    """(reviewer, session id, CSRF token, created, last activity) of a session not ended."""
    row = (
        await uow.session.execute(
            select(
                Reviewer,
                ReviewerSession.id,
                ReviewerSession.csrf_token,
                ReviewerSession.created_at,
                ReviewerSession.last_seen_at,
            )
            .join(ReviewerSession, ReviewerSession.reviewer_id == Reviewer.id)
            .where(ReviewerSession.token_hash == token_digest, ReviewerSession.ended_at.is_(None))
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


async def touch_session(uow: Uow, session_id: int, now: datetime) -> None:
    await uow.session.execute(update(ReviewerSession).where(ReviewerSession.id == session_id).values(last_seen_at=now))


async def end_session(uow: Uow, session_id: int, now: datetime) -> None:
    await uow.session.execute(update(ReviewerSession).where(ReviewerSession.id == session_id).values(ended_at=now))
