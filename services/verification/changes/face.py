"""The face checks a subject change runs of a person who is not becoming the account's subject (CHG-3: the
original subject's contact; CHG-4, CHG-5: the current person's identity proof): opening the ticket once the
liveness provider has answered, as the personal face check does (RNP-3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from models.changes import SubjectChange
from models.verification import VerificationAttempt
from services.errors import ServiceError
from services.security import token_hash
from services.uow import Uow
from services.verification import repository as verification_repo
from services.verification import steps
from services.verification.errors import AttemptReason
from services.verification.steps import FACE_TICKET_TTL

# Re-reads the change (its account locked) and refuses it unless it still waits for this face check.
StepCheck = Callable[[Uow, int, int], Awaitable[SubjectChange]]


@dataclass(frozen=True, slots=True)
class ChangeFaceStarted:
    change: SubjectChange
    attempt: VerificationAttempt
    url: str
    expires_at: datetime


async def open_ticket(
    uow: Uow, attempt_id: int, ticket: str, url: str, method: str, still_at: StepCheck
) -> ChangeFaceStarted:
    """Open the attempt's ticket once the provider gave its URL. A change that moved on or ended meanwhile fails
    the attempt (CHANGE_ENDED, kept) and answers the step's refusal; an earlier live ticket of the same method
    is void once this one opens (one live face check per account and method)."""
    attempt = await uow.session.get(VerificationAttempt, attempt_id, populate_existing=True)
    assert attempt is not None
    assert attempt.change_id is not None
    try:
        change = await still_at(uow, attempt.account_id, attempt.change_id)
    except ServiceError as err:
        taken = await steps.take(uow, attempt_id)
        if taken is not None:
            await steps.end(uow, taken, "failed", AttemptReason.CHANGE_ENDED)
            await uow.session.flush()
        err.persist = True
        raise
    now = uow.now()
    await verification_repo.void_live_tickets(uow, attempt.account_id, method, AttemptReason.SUPERSEDED.value, now)
    if not await verification_repo.open_ticket(uow, attempt_id, token_hash(ticket), now + FACE_TICKET_TTL):
        raise steps.unavailable()
    await uow.session.refresh(attempt)
    assert attempt.ticket_expires_at is not None
    return ChangeFaceStarted(change=change, attempt=attempt, url=url, expires_at=attempt.ticket_expires_at)
