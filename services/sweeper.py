"""`account-center sweep`: expire what the clock has passed (DESIGN "Time, deadlines").

Every deadline is also enforced when read; the sweeper keeps tables small and states honest.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from models.accounts import Account
from models.auth import AuthSession, QrLoginTicket, RecoveryTicket, StepUpGrant
from models.codes import OneTimeCode
from models.mfa import LoginChallenge
from services.accounts.service import IDLE_TIMEOUT_MIN
from services.codes import service as codes
from services.notify import service as outbox
from services.uow import Uow
from services.verification import enterprise, personal

KEEP_EXPIRED = timedelta(days=1)


async def sweep(uow: Uow) -> dict[str, int]:
    now = uow.now()
    counts = {"sessions_ended": await _end_idle_sessions(uow)}
    counts |= await personal.sweep(uow)
    counts |= await enterprise.sweep(uow)
    for model, name in (
        (OneTimeCode, "codes"),
        (QrLoginTicket, "qr_tickets"),
        (StepUpGrant, "step_up_grants"),
        (RecoveryTicket, "recovery_tickets"),
        (LoginChallenge, "login_challenges"),
    ):
        result = await uow.session.execute(
            delete(model).where(model.expires_at <= now - KEEP_EXPIRED).returning(model.id)
        )
        counts[f"{name}_deleted"] = len(result.all())
    counts |= await codes.sweep(uow)
    counts |= await outbox.sweep(uow)
    return counts


async def _end_idle_sessions(uow: Uow) -> int:
    """AUTH-3: end sessions idle past their account's timeout (none can be idle less than 15 minutes)."""
    now = uow.now()
    rows = await uow.session.execute(
        select(AuthSession.id, AuthSession.last_seen_at, Account.idle_timeout_minutes)
        .join(Account, Account.id == AuthSession.account_id)
        .where(AuthSession.ended_at.is_(None), AuthSession.last_seen_at <= now - timedelta(minutes=IDLE_TIMEOUT_MIN))
    )
    idle = [sid for sid, seen, minutes in rows.all() if seen + timedelta(minutes=minutes) <= now]
    if idle:
        await uow.session.execute(
            update(AuthSession).where(AuthSession.id.in_(idle)).values(ended_at=now, end_reason="idle")
        )
    return len(idle)
