"""`account-center sweep`: expire what the clock has passed (docs/architecture.md "Time, deadlines and working days").

Every deadline is also enforced when read; the sweeper keeps tables small and states honest. A round
(`sweep_round`) first asks the providers what only they can tell (payouts whose request failed, RNE-4),
between transactions, then runs `sweep` in one transaction.

One instance sweeps at a time (issue 16): on PostgreSQL a round first takes a session-level advisory lock
(`SWEEPER_LOCK_KEY`) on a connection of its own and holds it to the end of the round; a round that finds
the lock taken skips (`{"skipped": 1}`), since the holder does the same work. The lock goes with its
connection, so an instance that dies mid-round frees it. On SQLite no lock is taken: the database is one
file on one machine, its writers are serialised (BEGIN IMMEDIATE), and every step of a round is
idempotent, so a second round in the same moment finds nothing left to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import text

from models.auth import QrLoginTicket, RecoveryTicket, StepUpGrant
from models.codes import OneTimeCode
from models.mfa import LoginChallenge
from services.accounts.service import IDLE_TIMEOUT_MIN
from services.appeals import tokens as appeal_tokens
from services.auth import repository as auth_repo
from services.auth.service import max_session_age
from services.codes import service as codes
from services.database import Database, DbTransactions, run_write
from services.documents import service as documents
from services.errors import ServiceError
from services.lifecycle import export as data_exports
from services.notify import service as outbox
from services.sql import delete_expired
from services.uow import Deps, Uow
from services.verification import personal
from services.verification.changes import identity as change_identity
from services.verification.changes import service as subject_changes
from services.verification.enterprise import applications as enterprise_applications
from services.verification.enterprise import transfer as enterprise_transfer
from services.webhooks import retention as webhook_retention

KEEP_EXPIRED = timedelta(days=1)
SWEEPER_LOCK_KEY = 0x4143_5357_4545_5031  # a fixed 64-bit key: "ACSWEEP1"
SKIPPED = {"skipped": 1}


@contextlib.asynccontextmanager
async def sweeper_lock(db: Database) -> AsyncIterator[bool]:
    """Whether this round may sweep: on PostgreSQL, True while it holds the sweeper's advisory lock (False,
    at once, when another round holds it); on SQLite always True (see the module's docstring)."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    async with db.engine.connect() as conn:
        # Autocommit: the lock is held by the session, not by a transaction left open for the whole round.
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        key = {"key": SWEEPER_LOCK_KEY}
        held = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), key))
        try:
            yield held
        finally:
            if held:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)


async def sweep_round(db: Database, deps: Deps) -> dict[str, int] | ServiceError:
    """One round of the sweeper, unless another instance runs one (`SKIPPED`): payouts looked up by their
    reference (RNE-4), then `sweep`."""
    async with sweeper_lock(db) as held:
        if not held:
            return dict(SKIPPED)
        counts = {"payouts_resolved": await enterprise_transfer.resolve_payouts(DbTransactions(db, deps))}
        swept = await run_write(db, deps, sweep)
        return swept if isinstance(swept, ServiceError) else counts | swept


async def sweep(uow: Uow) -> dict[str, int]:
    now = uow.now()
    counts = {"sessions_ended": await _end_idle_sessions(uow)}
    counts["throttles_deleted"] = await auth_repo.delete_settled_throttles(uow, now - KEEP_EXPIRED, now)
    counts |= await personal.sweep(uow)
    counts |= await enterprise_applications.sweep(uow)
    counts |= await subject_changes.sweep(uow)
    counts |= await change_identity.sweep(uow)
    for model, name in (
        (OneTimeCode, "codes"),
        (QrLoginTicket, "qr_tickets"),
        (StepUpGrant, "step_up_grants"),
        (RecoveryTicket, "recovery_tickets"),
        (LoginChallenge, "login_challenges"),
    ):
        counts[f"{name}_deleted"] = await delete_expired(uow, model, now - KEEP_EXPIRED)
    counts |= await codes.sweep(uow)
    counts |= await outbox.sweep(uow)
    counts |= await webhook_retention.sweep(uow)  # issue 16 item 2: finished webhook deliveries
    counts |= await documents.sweep(uow)
    counts |= await appeal_tokens.sweep(uow)
    counts |= await data_exports.sweep(uow)  # issue 15 item 3: expired copies of an account's data
    return counts


async def _end_idle_sessions(uow: Uow) -> int:
    """AUTH-3: end sessions idle past their account's timeout (none can be idle less than 15 minutes), and
    sessions past their absolute lifetime however active; the reason is the deadline that came first. Two
    set-based statements, whatever the number of sessions (absolute deadline first: see the repository)."""
    now = uow.now()
    ended = await auth_repo.end_sessions_past_max_age(uow, now, max_session_age(uow.settings))
    return ended + await auth_repo.end_sessions_idle_past_timeout(uow, now, timedelta(minutes=IDLE_TIMEOUT_MIN))
