"""REV-6: reviewers sign in to the back office with a password and a TOTP code; server-side sessions.

Account holders' bearer tokens give no access: reviewers are a table and a session store of their
own. A TOTP code is accepted once (the last accepted time step is stored and compared atomically);
codes from the previous and the next 30-second step are accepted for clock drift.

Sign-in tries are throttled per client address and per (name, address), never per name alone: an
outsider can lock out their own address, not a reviewer working from another one. At most 5 failed
tries per (name, address) and 20 per address in 15 minutes; the limit's last failure locks that key
for 15 minutes. Each try is reserved before its password is hashed, so simultaneous tries cannot pass
the limits. Unknown names are answered like known ones, after one hash as well.

A back-office session ends after 30 minutes without activity, and at the latest
`reviewer_session_max_age_hours` (default 12) after sign-in.
"""

from __future__ import annotations

import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from models.review import Reviewer, ReviewerSession
from services.auth import policy, throttle
from services.database import Transactions
from services.errors import ServiceError
from services.identifiers import client_network
from services.review import repository as repo
from services.review.errors import ReviewErrorCode
from services.secretbox import open_sealed, seal
from services.security import new_token, token_hash
from services.text import has_control_characters
from services.uow import Uow

ROLES = ("reviewer", "lead")
SESSION_IDLE = timedelta(minutes=30)
# REV-6 sign-in throttle (see the module's docstring): AUTH-5's budgets and figures, under staff keys.
PAIR_MAX_FAILURES = policy.ACCOUNT_MAX_FAILURES
ADDRESS_MAX_FAILURES = policy.ADDRESS_MAX_FAILURES
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
    if await repo.username_taken(uow, username):
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
    await repo.add_reviewer(uow, reviewer)
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


def _too_many(until: datetime, now: datetime) -> ServiceError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return ServiceError(
        ReviewErrorCode.TOO_MANY_ATTEMPTS,
        f"Too many failed sign-ins; try again in {math.ceil(seconds / 60)} minutes.",
        None,
        retry_after=seconds,
    )


def _budgets(uow: Uow, username: str, client_ip: str | None) -> tuple[throttle.Budget, throttle.Budget]:
    """(the address's budget, the (name, address) budget), in the order they are always taken. The name
    is keyed, never stored as typed; the address is an IPv4 address or an IPv6 /64."""
    address = client_network(client_ip)
    return (
        throttle.Budget(f"staff-ip:{address}", ADDRESS_MAX_FAILURES, policy.ADDRESS_LOCK),
        throttle.Budget(
            "staff:" + uow.keyed(f"reviewer:{username}|{address}")[:48], PAIR_MAX_FAILURES, policy.ACCOUNT_LOCK
        ),
    )


@dataclass(frozen=True, slots=True)
class _Attempt:
    address: throttle.Try
    pair: throttle.Try
    reviewer_id: int | None
    password_hash: str | None
    sealed_totp_secret: str | None

    @property
    def last_try(self) -> bool:
        """It spent a budget: failing, it locks it."""
        return self.address.spends_budget or self.pair.spends_budget


async def sign_in(
    tx: Transactions, username: str, password: str, code: str, client_ip: str | None
) -> ReviewerSignIn | ServiceError:
    """REV-6 in three steps, so no transaction (and no SQLite write lock) or connection is held while
    argon2 runs: a short write that reserves the try and reads the reviewer, the hash with nothing held,
    and a short write with the outcome (the TOTP step accepted once, the session; or the lock, when a
    failure spent a budget; other failures were counted when reserved and write nothing more)."""
    if has_control_characters(username or ""):  # names no reviewer; PostgreSQL refuses NUL outright
        return _refused()
    attempt = await tx.write(_reserve, username, client_ip)
    if isinstance(attempt, ServiceError):
        return attempt
    await tx.release()
    # One hash per judged try, for unknown names too (against a dummy hash): the same answer, the same time.
    password_ok = await tx.deps.hasher.verify(attempt.password_hash, password or "")
    step = None
    if password_ok and attempt.sealed_totp_secret is not None:
        secret = open_sealed(tx.deps.settings.secret_key, attempt.sealed_totp_secret)
        step = _matching_step(secret, (code or "").strip(), tx.deps.clock.now())
    if step is None and not attempt.last_try:
        return _refused()  # counted when reserved: nothing more to write
    return await tx.write(_outcome, attempt, step)


async def _reserve(uow: Uow, username: str, client_ip: str | None) -> _Attempt:
    name = (username or "").strip().lower()[:64]
    address_budget, pair_budget = _budgets(uow, name, client_ip)
    # REV-6 throttle: the try is counted before it is judged (services/auth/throttle.py), per address
    # (every name) and per (name, address), never per name alone, so nobody can lock a reviewer out from
    # elsewhere. A refusal rolls back, so it moves no counter.
    address = await throttle.reserve(uow, address_budget)
    pair = await throttle.reserve(uow, pair_budget) if address is not None else None
    if address is None or pair is None:
        refused = address_budget if address is None else pair_budget
        raise _too_many(await throttle.retry_at(uow, refused), uow.now())
    reviewer = await repo.reviewer_by_username(uow, name)
    if reviewer is None:
        return _Attempt(address, pair, None, None, None)
    return _Attempt(address, pair, reviewer.id, reviewer.password_hash, reviewer.totp_secret)


async def _outcome(uow: Uow, attempt: _Attempt, step: int | None) -> ReviewerSignIn:
    now = uow.now()
    if (
        attempt.reviewer_id is not None
        and attempt.password_hash is not None
        and step is not None
        and await repo.accept_totp_step(uow, attempt.reviewer_id, attempt.password_hash, step)
    ):
        # Budgets are always taken address first, then (name, address), as `_reserve` does: no deadlock.
        await throttle.give_back(uow, attempt.address)
        until = await throttle.succeeded(uow, attempt.pair.budget)
        if until is not None:  # a lock set by a racing try while the hash ran holds: no session
            raise _too_many(until, now)
        reviewer = await repo.reviewer_by_id(uow, attempt.reviewer_id)
        assert reviewer is not None
        token, csrf = new_token("rvs"), new_token("csrf", 24)
        await repo.add_session(
            uow,
            ReviewerSession(
                reviewer_id=reviewer.id, token_hash=token_hash(token), csrf_token=csrf, created_at=now, last_seen_at=now
            ),
        )
        return ReviewerSignIn(token, csrf, reviewer)
    # The failure was counted when the try was reserved; the try that spent a budget locks it.
    await throttle.failed(uow, attempt.address)
    await throttle.failed(uow, attempt.pair)
    raise _refused()


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
    row = await repo.live_session(uow, token_hash(token))
    if row is None:
        return None
    reviewer, session_id, csrf, created_at, last_seen = row
    now = uow.now()
    max_age = timedelta(hours=uow.settings.reviewer_session_max_age_hours)
    # REV-6: idle for 30 minutes, or older than the absolute lifetime, and the session is not live.
    if not reviewer.active or last_seen + SESSION_IDLE <= now or created_at + max_age <= now:
        return None
    return StaffViewer(reviewer, session_id, csrf, needs_touch=now - last_seen >= timedelta(seconds=60))


async def touch(uow: Uow, session_id: int) -> None:
    """Record activity (at most once a minute, so page views stay reads)."""
    await repo.touch_session(uow, session_id, uow.now())


def csrf_ok(viewer: StaffViewer, submitted: str | None) -> bool:
    """Synchronizer token check for every back-office form POST."""
    return bool(submitted) and hmac.compare_digest(viewer.csrf_token, submitted or "")


async def sign_out(uow: Uow, viewer: StaffViewer) -> None:
    await repo.end_session(uow, viewer.session_id, uow.now())
