"""What every verification method shares, personal and enterprise: provider calls with a time-out, deciding an
attempt once, the agreement check, the face-check ticket's life and the methods' status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

from models.verification import VerificationAttempt
from services.accounts.agreements import CURRENT, AgreementKind
from services.database import Transactions
from services.errors import ServiceError
from services.history import service as history
from services.history.service import EventKind
from services.providers.errors import ProviderUnavailable
from services.uow import Uow
from services.verification import repository as repo
from services.verification.errors import AttemptReason
from services.verification.errors import VerificationErrorCode as Code
from services.webhooks import events as webhook_events
from services.webhooks.events import EventType

T = TypeVar("T")
PROVIDER_RETRY_AFTER = 30
FACE_TICKET_TTL = timedelta(minutes=10)  # docs/sandbox.md: a ticket lives 10 minutes, single use


async def ask(tx: Transactions, call: Awaitable[T]) -> T:
    """One provider call with the configured time-out; any failure is `ProviderUnavailable`."""
    try:
        async with asyncio.timeout(tx.deps.providers.timeout_seconds):
            return await call
    except ProviderUnavailable:
        raise
    except Exception as exc:  # a time-out or a transport error: nothing was decided
        raise ProviderUnavailable(type(exc).__name__) from exc


def unavailable(*, persist: bool = False) -> ServiceError:
    return ServiceError(
        Code.PROVIDER_UNAVAILABLE,
        "The verification service did not answer; nothing was counted. Try again shortly.",
        None,
        persist=persist,
        retry_after=PROVIDER_RETRY_AFTER,
    )


def already_verified() -> ServiceError:
    return ServiceError(Code.ALREADY_VERIFIED, "This account is already verified.", None)


async def take(uow: Uow, attempt_id: int, *, open_ticket: bool = False) -> VerificationAttempt | None:
    """Move a pending attempt on, once: only the caller that gets it here decides it.

    `open_ticket`: only while its face-check ticket is open. An enterprise attempt is `pending` again
    after its face check (its application decides it from there) but with the ticket closed, so a second
    callback posted at the same moment must not take it again."""
    if not await repo.take_pending_attempt(uow, attempt_id, uow.now(), open_ticket=open_ticket):
        return None
    return await uow.session.get(VerificationAttempt, attempt_id, populate_existing=True)


async def end(uow: Uow, attempt: VerificationAttempt, outcome: str, reason: Enum | None = None) -> None:
    """Decide the attempt; a pass or a failure is a security event of its account (HIST-1, without a client:
    the decision may come from a provider's callback or the sweeper)."""
    attempt.outcome, attempt.reason = outcome, reason.value if reason else None
    if outcome != "passed":
        attempt.document_sealed = None
    if outcome in _EVENTS:
        await history.record(
            uow, attempt.account_id, _EVENTS[outcome], None, f"{attempt.subject_type}/{attempt.method}"
        )
        # WH-1: integrators hear of the decision (webhooks), with the attempt's ID and reason, nothing typed.
        await webhook_events.emit(
            uow,
            EventType.VERIFICATION_ENTERPRISE_DECIDED
            if attempt.subject_type == "enterprise"
            else EventType.VERIFICATION_PERSONAL_DECIDED,
            attempt.account_id,
            {
                "attemptId": webhook_events.api_id("VerificationAttempt", attempt.id),
                "method": attempt.method,
                "outcome": outcome,
                "reason": attempt.reason,
            },
        )


_EVENTS = {"passed": EventKind.VERIFICATION_PASSED, "failed": EventKind.VERIFICATION_FAILED}


async def end_stale_pending(
    uow: Uow, method: str, before: datetime, give_back: Callable[[VerificationAttempt], Awaitable[None]]
) -> int:
    """Attempts of `method` still pending since `before` (their process stopped between the claim and the
    provider's answer) end as provider errors, and `give_back` returns what each counted: how many. A late
    answer racing this finds the attempt taken."""
    returned = 0
    for attempt_id in await repo.stale_pending_attempts(uow, method, before):
        attempt = await take(uow, attempt_id)
        if attempt is None:
            continue
        await end(uow, attempt, "error", AttemptReason.PROVIDER_UNAVAILABLE)
        await give_back(attempt)
        attempt.counted = False
        returned += 1
    await uow.session.flush()
    return returned


def check_agreement(version: str, field: str = "agreement.version") -> str:
    """RN-6: the verification agreement, in its current version, before anything is submitted."""
    current = CURRENT[AgreementKind.REAL_NAME_VERIFICATION]
    if version != current.version:
        raise ServiceError(
            Code.AGREEMENT_VERSION_OUTDATED,
            f"Accept version {current.version} of the real-name verification agreement.",
            field,
        )
    return current.version


@dataclass(frozen=True, slots=True)
class MethodStatus:
    method: str
    limit: int | None
    used: int
    available: bool
    daily_limit: int | None = None
    used_today: int = 0

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def remaining_today(self) -> int | None:
        return None if self.daily_limit is None else max(0, self.daily_limit - self.used_today)
