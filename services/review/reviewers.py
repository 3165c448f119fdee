"""REV-6: reviewers sign in to the back office with a password and a TOTP code; server-side sessions.

Account holders' bearer tokens give no access: reviewers are a table and a session store of their
own. A TOTP code is accepted once (the last accepted time step is stored and compared atomically);
codes from the previous and the next 30-second step are accepted for clock drift. Wrong passwords
and codes are throttled like account sign-ins (AUTH-5's policy).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import select, update

from models.review import Reviewer, ReviewerSession
from services.auth import policy
from services.auth import repository as throttle
from services.errors import ServiceError
from services.review.errors import ReviewErrorCode
from services.secretbox import open_sealed, seal
from services.security import new_token, token_hash
from services.text import has_control_characters
from services.uow import Uow

ROLES = ("reviewer", "lead")
SESSION_IDLE = timedelta(minutes=30)
TOTP_ISSUER = "Account Center Back Office"
USERNAME = re.compile(r"^[a-z][a-z0-9_.\-]{2,31}$")


@dataclass(frozen=True, slots=True)
class NewReviewer:
    reviewer: Reviewer
    provisioning_uri: str


async def add_reviewer(uow: Uow, *, username: str, display_name: str, role: str, password: str) -> NewReviewer:
    if not USERNAME.match(username):
        raise ServiceError(
            ReviewErrorCode.INVALID_USERNAME, "3 to 32 lower-case letters, digits, '_', '-', '.'.", "username"
        )
    if role not in ROLES:
        raise ServiceError(ReviewErrorCode.INVALID_ROLE, "The role is reviewer or lead.", "role")
    if len(password) < 12:
        raise ServiceError(
            ReviewErrorCode.PASSWORD_TOO_SHORT, "Staff passwords have at least 12 characters.", "password"
        )
    if await uow.session.scalar(select(Reviewer.id).where(Reviewer.username == username)) is not None:
        raise ServiceError(ReviewErrorCode.USERNAME_TAKEN, "This reviewer exists already.", "username")
    secret = pyotp.random_base32()
    reviewer = Reviewer(
        username=username,
        display_name=display_name.strip() or username,
        role=role,
        active=True,
        password_hash=await uow.deps.hasher.hash(password),
        totp_secret=seal(uow.settings.secret_key, secret),
        totp_last_step=0,
        created_at=uow.now(),
    )
    uow.session.add(reviewer)
    await uow.session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)
    return NewReviewer(reviewer, uri)


def totp_secret(uow: Uow, reviewer: Reviewer) -> str:
    return open_sealed(uow.settings.secret_key, reviewer.totp_secret)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


@dataclass(frozen=True, slots=True)
class ReviewerSignIn:
    token: str
    csrf_token: str
    reviewer: Reviewer


def _refused() -> ServiceError:
    return ServiceError(
        ReviewErrorCode.INVALID_CREDENTIALS, "The username, password or code is wrong.", None, persist=True
    )


async def sign_in(uow: Uow, username: str, password: str, code: str) -> ReviewerSignIn:
    if has_control_characters(username or ""):  # names no reviewer; PostgreSQL refuses NUL outright
        raise ServiceError(ReviewErrorCode.INVALID_CREDENTIALS, "The username, password or code is wrong.", None)
    now = uow.now()
    key = f"reviewer:{(username or '').strip().lower()[:64]}"
    until = await throttle.locked_until(uow, [key], now)
    if until is not None:
        raise ServiceError(
            ReviewErrorCode.TOO_MANY_ATTEMPTS,
            "Too many failed sign-ins; try again later.",
            None,
            retry_after=policy.retry_after_seconds((until - now).total_seconds()),
        )
    reviewer = await uow.session.scalar(select(Reviewer).where(Reviewer.username == (username or "").strip().lower()))
    password_ok = await uow.deps.hasher.verify(reviewer.password_hash if reviewer else None, password or "")
    step = _matching_step(totp_secret(uow, reviewer), (code or "").strip(), now) if reviewer and password_ok else None
    accepted = False
    if reviewer is not None and reviewer.active and step is not None:
        # A code is accepted once: the stored step only moves forward, atomically.
        result = await uow.session.execute(
            update(Reviewer)
            .where(Reviewer.id == reviewer.id, Reviewer.totp_last_step < step)
            .values(totp_last_step=step)
            .returning(Reviewer.id)
        )
        accepted = result.scalar_one_or_none() is not None
    if not accepted or reviewer is None:
        failures = await throttle.record_failure(uow, key, now, policy.THROTTLE_WINDOW)
        if failures >= policy.ACCOUNT_MAX_FAILURES:
            await throttle.lock(uow, key, now + policy.ACCOUNT_LOCK, now)
        raise _refused()
    await throttle.clear(uow, key)
    token, csrf = new_token("rvs"), new_token("csrf", 24)
    uow.session.add(
        ReviewerSession(
            reviewer_id=reviewer.id, token_hash=token_hash(token), csrf_token=csrf, created_at=now, last_seen_at=now
        )
    )
    await uow.session.flush()
    return ReviewerSignIn(token, csrf, reviewer)


@dataclass(frozen=True, slots=True)
class StaffViewer:
    reviewer: Reviewer
    session_id: int
    csrf_token: str
    needs_touch: bool = False


async def authenticate(uow: Uow, token: str | None) -> StaffViewer | None:
    """The reviewer behind a back-office cookie, if the session is live. An account token never matches."""
    if not token:
        return None
    row = (
        await uow.session.execute(
            select(Reviewer, ReviewerSession.id, ReviewerSession.csrf_token, ReviewerSession.last_seen_at)
            .join(ReviewerSession, ReviewerSession.reviewer_id == Reviewer.id)
            .where(ReviewerSession.token_hash == token_hash(token), ReviewerSession.ended_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    reviewer, session_id, csrf, last_seen = row
    now = uow.now()
    if not reviewer.active or last_seen + SESSION_IDLE <= now:
        return None
    return StaffViewer(reviewer, session_id, csrf, needs_touch=now - last_seen >= timedelta(seconds=60))


async def touch(uow: Uow, session_id: int) -> None:
    """Record activity (at most once a minute, so page views stay reads)."""
    await uow.session.execute(
        update(ReviewerSession).where(ReviewerSession.id == session_id).values(last_seen_at=uow.now())
    )


def csrf_ok(viewer: StaffViewer, submitted: str | None) -> bool:
    """Synchronizer token check for every back-office form POST."""
    return bool(submitted) and hmac.compare_digest(viewer.csrf_token, submitted or "")


async def sign_out(uow: Uow, viewer: StaffViewer) -> None:
    await uow.session.execute(
        update(ReviewerSession).where(ReviewerSession.id == viewer.session_id).values(ended_at=uow.now())
    )
