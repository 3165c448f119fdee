"""The liveness provider's callback (RNP-2, RNP-3; RNE-2..4): the outcome of a face-check ticket, for a
person's attempt or an enterprise application's face step. Above both methods: it hands an enterprise
attempt to `enterprise.face`, and decides a person's here."""

from __future__ import annotations

from datetime import datetime

from models.verification import VerificationAttempt
from services.accounts import repository as accounts_repo
from services.errors import ServiceError
from services.security import token_hash
from services.uow import Uow
from services.verification import personal, steps
from services.verification import repository as repo
from services.verification.changes import enterprise as change_to_enterprise
from services.verification.changes import identity
from services.verification.enterprise import face as enterprise_face
from services.verification.errors import AttemptReason
from services.verification.errors import CallbackErrorCode as Callback


async def face_ticket(uow: Uow, ticket: str) -> VerificationAttempt | None:
    """The attempt a liveness ticket belongs to (for the provider's page), or None."""
    return await repo.attempt_by_ticket_hash(uow, token_hash(ticket or ""))


async def complete_face_check(uow: Uow, ticket: str, passed: bool) -> VerificationAttempt:
    """The liveness provider's callback (the sandbox page stands for it): pass or fail, once."""
    found = await face_ticket(uow, ticket)
    if found is None:
        raise ServiceError(Callback.FACE_TICKET_NOT_FOUND, "No such face check.", "ticket")
    if found.outcome != "pending" or found.ticket_expires_at is None:  # decided, or its face check is done
        raise _ticket_used()
    assert found.ticket_expires_at is not None
    if found.ticket_expires_at <= uow.now():
        await _expire(uow, found.id, uow.now())
        raise ServiceError(
            Callback.FACE_TICKET_EXPIRED,
            "This face check expired (10 minutes); start a new one.",
            "ticket",
            persist=True,
        )
    # Single use, also when the page is posted twice at once: only one request takes it. The account is
    # locked first, the order every writer of verification rows follows.
    await accounts_repo.lock_account(uow, found.account_id)
    attempt = await steps.take(uow, found.id, open_ticket=True)
    if attempt is None:
        raise _ticket_used()
    if attempt.method == change_to_enterprise.CONTACT_FACE:  # CHG-3: the original subject's contact
        await change_to_enterprise.contact_face_completed(uow, attempt, passed)
        await uow.session.flush()
        return attempt
    if attempt.subject_type == "enterprise":
        await enterprise_face.face_completed(uow, attempt, passed)
        await uow.session.flush()
        return attempt
    if attempt.method == identity.IDENTITY_FACE:  # CHG-4, CHG-5: the current person's identity proof
        await identity.face_completed(uow, attempt, passed)
        await uow.session.flush()
        return attempt
    if not passed:
        # RNP-3: a failed check voids the ticket; the user must submit again for a new one.
        await steps.end(uow, attempt, "failed", AttemptReason.FACE_CHECK_FAILED)
    else:
        granted = await personal.grant(uow, attempt)
        if isinstance(granted, AttemptReason):
            await steps.end(uow, attempt, "failed", granted)
        else:
            await steps.end(uow, attempt, "passed")
    await uow.session.flush()
    return attempt


def _ticket_used() -> ServiceError:
    return ServiceError(Callback.FACE_TICKET_USED, "This face check is already finished; start a new one.", "ticket")


async def _expire(uow: Uow, attempt_id: int, now: datetime) -> None:
    await repo.expire_pending(uow, attempt_id, AttemptReason.FACE_CHECK_EXPIRED.value, now)
