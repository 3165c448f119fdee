"""What a verification run inside a subject change asks of the change (CHG-3..5), and the completion that
makes the new subject the account's.

The verification methods (personal face and bank card, the three enterprise methods) call `claim` in their
first write when they are given a change, instead of refusing an account that is verified already (RN-5),
and `complete` instead of creating the account's verification when their attempt passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.accounts import AgreementAcceptance
from models.changes import SubjectChange
from models.verification import Verification
from services.accounts.agreements import AcceptanceContext, AgreementKind
from services.errors import ServiceError
from services.uow import Uow
from services.verification import repository as verification_repo
from services.verification.changes import repository as repo
from services.verification.changes import service
from services.verification.changes.errors import ChangeErrorCode as Code
from services.verification.changes.states import LIMITED_METHODS, TO_SUBJECT, Kind, State
from services.verification.errors import AttemptReason


async def claim(
    uow: Uow, account_id: int, change_id: int, method: str, subject_type: str, exhausted: ServiceError
) -> SubjectChange:
    """Inside the caller's first write (the account locked by `service.open_of_account`): the change is the
    account's, open, at the new subject's step, for a subject of `subject_type`; an attempt of a method the
    kind limits (CHG-4) is counted here, atomically, or refused with `exhausted` (the method's own
    "attempts used up" error, so a client handles one code per method, inside a change or not)."""
    change = await service.open_of_account(uow, account_id, change_id)
    if change.state != State.NEW_SUBJECT_PENDING:
        raise service.not_current(change)
    if TO_SUBJECT[Kind(change.kind)] != subject_type:
        raise ServiceError(
            Code.CHANGE_NOT_SUPPORTED,
            f"This change's new subject verifies as {TO_SUBJECT[Kind(change.kind)]}, not as {subject_type}.",
            service.CHANGE_FIELD,
        )
    await take_attempt(uow, change, method, exhausted)
    return change


async def take_attempt(uow: Uow, change: SubjectChange, method: str, exhausted: ServiceError) -> None:
    """CHG-4, CHG-5: count one attempt of `method` inside the change when its kind limits it (5), else raise
    `exhausted` (with `attempts_remaining` 0)."""
    limit = LIMITED_METHODS.get(Kind(change.kind), {}).get(method)
    if limit is not None and await repo.take_attempt(uow, change.id, method, limit) is None:
        exhausted.attempts_remaining = 0
        raise exhausted


async def give_back(uow: Uow, change_id: int, method: str) -> None:
    """A provider failure decided nothing: the attempt counted inside the change is given back."""
    await repo.give_back_attempt(uow, change_id, method)


class _Refused(Exception):
    def __init__(self, reason: AttemptReason) -> None:
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NewSubject:
    """The subject a passed attempt (or, CHG-2, an accepted name) proved, as the account's verification keeps it."""

    subject_type: str
    method: str
    name: str
    document_type: str
    document_key: str
    document_sealed: str
    document_masked: str
    attempt_id: int | None
    organisation_type: str | None
    agreement_version: str | None  # the real-name verification agreement of the attempt (RN-6)
    agreed_at: datetime | None


async def complete(
    uow: Uow, change_id: int, new: NewSubject, from_states: tuple[State, ...] = (State.NEW_SUBJECT_PENDING,)
) -> Verification | AttemptReason:
    """The new subject becomes the account's verified subject, once; the change completes with it.

    What follows (item 7 of the change rules): the verification, its entitlements (ENT) and masked identity
    are the new subject's, since they are read from the one verification row; the previous person's document
    no longer counts toward RN-3 for this account, and the new person's does (refused when full); a student
    status granted to the previous person ends; the history keeps both (the attempts, RN-7, and the change's
    `from_*` fields)."""
    now = uow.now()
    change = await repo.get(uow, change_id)
    if change is None or change.state not in from_states or service.timed_out(change, now) is not None:
        return AttemptReason.CHANGE_ENDED
    verification = await verification_repo.verification_of(uow, change.account_id)
    assert verification is not None  # RN-5: a verification is never removed while the account lives
    previous_key, previous_type = verification.document_key, verification.subject_type
    same_document = new.document_key == previous_key
    try:
        async with uow.session.begin_nested():  # both or neither
            # RN-3: the new person's document counts for this account now (atomic; the 6th account is refused).
            taken = new.subject_type != "person" or same_document
            if not taken and not await verification_repo.take_document_slot(uow, new.document_key):
                raise _Refused(AttemptReason.DOCUMENT_LIMIT_REACHED)
            if not await repo.move(
                uow,
                change.id,
                [s.value for s in from_states],
                State.COMPLETED.value,
                {
                    "completed_at": now,
                    "expires_at": None,
                    "to_subject_type": new.subject_type,
                    "to_name": new.name,
                    "to_organisation_type": new.organisation_type,
                    "to_attempt_id": new.attempt_id,
                },
                ends=True,
                now=now,
            ):
                raise _Refused(AttemptReason.CHANGE_ENDED)
    except _Refused as refused:
        return refused.reason
    if previous_type == "person" and not same_document:
        await repo.release_document_slot(uow, previous_key)  # RN-3: the old document's slot is free again
    verification.subject_type, verification.method, verification.name = new.subject_type, new.method, new.name
    verification.document_type, verification.document_key = new.document_type, new.document_key
    verification.document_sealed, verification.document_masked = new.document_sealed, new.document_masked
    verification.attempt_id, verification.organisation_type = new.attempt_id, new.organisation_type
    verification.verified_at = now
    acceptances = [
        AgreementAcceptance(
            account_id=change.account_id,
            agreement=AgreementKind.SUBJECT_CHANGE_APPLICATION.value,
            version=change.application_version,
            context=AcceptanceContext.SUBJECT_CHANGE.value,
            accepted_at=change.created_at,
        )
    ]
    if change.acceptance_version is not None:
        acceptances.append(
            AgreementAcceptance(
                account_id=change.account_id,
                agreement=AgreementKind.SUBJECT_CHANGE_ACCEPTANCE.value,
                version=change.acceptance_version,
                context=AcceptanceContext.SUBJECT_CHANGE.value,
                accepted_at=change.acceptance_accepted_at or now,
            )
        )
    if new.agreement_version is not None:  # RN-6: the new subject's verification agreement
        acceptances.append(
            AgreementAcceptance(
                account_id=change.account_id,
                agreement=AgreementKind.REAL_NAME_VERIFICATION.value,
                version=new.agreement_version,
                context=AcceptanceContext.VERIFICATION.value,
                accepted_at=new.agreed_at or now,
            )
        )
    uow.session.add_all(acceptances)
    if previous_type == "person" and not (new.subject_type == "person" and same_document):
        await repo.end_student_statuses(uow, change.account_id, now)  # the status was the previous person's
    await uow.session.flush()
    return verification
