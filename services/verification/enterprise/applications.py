"""Enterprise verification applications: claiming one (limits, the attempt line), moving it on once,
deciding it (RN-1, RN-5, RN-7), how it reads and the sweeper (RNE-1..9); its SQL is in `repository`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.exc import IntegrityError

from models.accounts import AgreementAcceptance
from models.documents import Document
from models.enterprise import EnterpriseApplication
from models.verification import Verification, VerificationAttempt
from services.accounts import repository as accounts_repo
from services.accounts.agreements import AcceptanceContext, AgreementKind
from services.clock import shanghai_day_start
from services.codes import service as codes
from services.documents import service as documents
from services.errors import ServiceError
from services.providers.business import RegistryRefusal
from services.review import service as review
from services.secretbox import seal
from services.security import keyed_hash
from services.uow import Uow
from services.verification import repository as repo
from services.verification import steps
from services.verification.changes import inside
from services.verification.changes.errors import ChangeErrorCode
from services.verification.changes.states import ATTEMPTS_PER_METHOD
from services.verification.changes.states import Kind as ChangeKind
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.checks import CERTIFICATE_FIELD, ORG, Claim, FaceBy
from services.verification.enterprise.states import OPEN_STATES, State, check_move
from services.verification.errors import AttemptReason
from services.verification.errors import VerificationErrorCode as Code
from services.verification.steps import FACE_TICKET_TTL, MethodStatus

LEGAL_REP_FACE = "legal_rep_face"
BANK_TRANSFER = "bank_transfer"
RECHARGE = "recharge"
MAX_ATTEMPTS = 10  # RNE-2, RNE-4
QUEUE_DAYS = 2  # RNE-3, RNE-7
KIND = "enterprise_verification"
# Steps that run out: the state they end in when they do, and the reason (read as such at once, swept later).
TIMED_STEPS = {
    State.FACE_PENDING: (State.EXPIRED, AttemptReason.FACE_CHECK_EXPIRED),
    State.PAYOUT_PENDING: (State.FAILED, AttemptReason.PROVIDER_UNAVAILABLE),
    State.AMOUNT_PENDING: (State.EXPIRED, AttemptReason.AMOUNT_DEADLINE_PASSED),
    State.REMITTANCE_PENDING: (State.EXPIRED, AttemptReason.PAYMENT_NOT_RECEIVED),
}
# A step waiting on an outside provider that never answered (the process stopped) is given up after this.
STALE_STEP = timedelta(minutes=5)
RECHARGES_PER_DAY = 10  # beyond the rules: each start asks the business registry


@dataclass(frozen=True, slots=True)
class Started:
    application: EnterpriseApplication
    attempt: VerificationAttempt
    face_url: str | None = None
    face_expires_at: datetime | None = None


# --- claiming and deciding -------------------------------------------------------------------------


def _attempts_exhausted(method: str, *, in_change: bool = False) -> ServiceError:
    label = "legal-representative face" if method == LEGAL_REP_FACE else "bank-transfer"
    whose = "inside this subject change" if in_change else "of this account"
    limit = ATTEMPTS_PER_METHOD if in_change else MAX_ATTEMPTS
    return ServiceError(
        Code.ENTERPRISE_ATTEMPTS_EXHAUSTED,
        f"The {limit} {label} attempts {whose} are used up; try another method.",
        None,
        attempts_remaining=0,
    )


async def attempts_left(uow: Uow, account_id: int, method: str) -> int | None:
    if method == RECHARGE:
        return None
    return max(0, MAX_ATTEMPTS - (await repo.method_attempts(uow, account_id)).get(method, 0))


async def move(
    uow: Uow, application_id: int, from_states: tuple[State, ...], to: State, **values: object
) -> EnterpriseApplication | None:
    """Move an application on, once: a conditional UPDATE, so of two racing deciders (a user, a reviewer,
    the sweeper, a payment) exactly one wins; the others get None and change nothing.

    Every writer of an account's verification rows locks the account row first (PostgreSQL): one lock
    order, so no deadlocks, also with the foreign-key checks PostgreSQL makes on rows it just updated.
    A move the state machine does not allow raises `ForbiddenMove` before anything is written."""
    for state in from_states:
        check_move(state, to)
    account_id = await enterprise_repo.account_of(uow, application_id)
    if account_id is None:
        return None
    await accounts_repo.lock_account(uow, account_id)
    if not await enterprise_repo.move_state(uow, application_id, from_states, to, values):
        return None
    return await get_application(uow, application_id)


ATTEMPT_OUTCOME = {State.FAILED: "failed", State.REJECTED: "failed", State.EXPIRED: "expired"}


async def close(
    uow: Uow, application: EnterpriseApplication, reason: AttemptReason, *, give_back: bool = False
) -> None:
    """The application was moved to an end state by this caller: record why, and end its attempt (RN-7)."""
    now = uow.now()
    application.reason, application.decided_at, application.step_expires_at = reason.value, now, None
    attempt = await uow.session.get(VerificationAttempt, application.attempt_id, populate_existing=True)
    assert attempt is not None
    if attempt.outcome in ("pending", "deciding"):
        outcome = "error" if reason is AttemptReason.PROVIDER_UNAVAILABLE else ATTEMPT_OUTCOME[State(application.state)]
        await steps.end(uow, attempt, outcome, reason)
        attempt.completed_at = now
    if give_back and attempt.counted:
        await repo.give_back_method_attempt(uow, application.account_id, application.method)
        attempt.counted = False
    if give_back and application.change_id is not None:  # CHG-4: the attempt counted inside the change
        await inside.give_back(uow, application.change_id, application.method)
    await uow.session.flush()


async def end(
    uow: Uow,
    application_id: int,
    from_states: tuple[State, ...],
    to: State,
    reason: AttemptReason,
    *,
    give_back: bool = False,
) -> EnterpriseApplication | None:
    application = await move(uow, application_id, from_states, to)
    if application is not None:
        await close(uow, application, reason, give_back=give_back)
    return application


async def _expire_overdue(uow: Uow, account_id: int | None = None) -> int:
    """End every step that ran out (of one account, or all): the rule's own state and reason."""
    ended = 0
    for application_id, stored, amount in await enterprise_repo.overdue(uow, TIMED_STEPS, uow.now(), account_id):
        state = State(stored)
        to, reason = TIMED_STEPS[state]
        if state == State.REMITTANCE_PENDING and amount is None:  # the registry never answered
            to, reason = State.FAILED, AttemptReason.PROVIDER_UNAVAILABLE
        if await end(uow, application_id, (state,), to, reason, give_back=to is State.FAILED) is not None:
            ended += 1
    return ended


async def in_progress_id(uow: Uow, account_id: int) -> int | None:
    """The account's application in progress, if any; an open face check is superseded instead."""
    await _expire_overdue(uow, account_id)
    for application_id in await enterprise_repo.ids_in_state(uow, account_id, State.FACE_PENDING):
        await end(uow, application_id, (State.FACE_PENDING,), State.EXPIRED, AttemptReason.SUPERSEDED)
    return await enterprise_repo.first_in_states(uow, account_id, OPEN_STATES)


def superseded() -> ServiceError:
    return ServiceError(
        Code.APPLICATION_SUPERSEDED,
        "A newer start of this account replaced this one while it was being checked (or it ran out); the newer one "
        "stands.",
        None,
    )


def in_progress() -> ServiceError:
    return ServiceError(
        Code.APPLICATION_IN_PROGRESS,
        "An enterprise verification of this account is in progress (payout, amount, review or remittance); "
        "finish it first.",
        None,
    )


async def claim_change(uow: Uow, account_id: int, method: str, claim: Claim) -> None:
    """CHG-3, CHG-4: a verification inside a subject change replaces the RN-5 refusal and the account's
    RNE-2/RNE-4 counters: the change must be the account's, open at its new subject's step, and counts the
    attempts it limits itself (CHG-4: 5 per method; recharge is not limited). CHG-3: the organisation is the
    one named in the change's request."""
    assert claim.change_id is not None
    change = await inside.claim(
        uow, account_id, claim.change_id, method, "enterprise", _attempts_exhausted(method, in_change=True)
    )
    if change.kind == ChangeKind.ENTERPRISE.value and (
        claim.organisation.uscc != change.to_uscc or claim.organisation.name != change.to_name
    ):
        raise ServiceError(
            ChangeErrorCode.CHANGE_ORGANISATION_MISMATCH,
            "This change is to the organisation named in its request (CHG-3); verify that one (same name and USCC).",
            f"{ORG}.uscc",
        )


async def claim_application(
    uow: Uow, account_id: int, method: str, claim: Claim, *, change_claimed: bool = False
) -> tuple[int, int]:
    """The first write: limits, the attempt line and the application, atomically per account
    (`change_claimed`: the caller ran `claim_change` in this transaction already)."""
    await accounts_repo.lock_account(uow, account_id)
    in_change = claim.change_id is not None
    if in_change:
        if not change_claimed:
            await claim_change(uow, account_id, method, claim)
    elif await repo.verification_of(uow, account_id) is not None:  # RN-5
        raise steps.already_verified()
    if await in_progress_id(uow, account_id) is not None:
        raise in_progress()
    # ORG-4 / ORG-3: the certificate image must be one of the account's uploads.
    try:
        certificate = await documents.owned(uow, account_id, claim.organisation.certificate_document_id)
    except ServiceError:
        raise ServiceError(Code.DOCUMENT_NOT_FOUND, "No such upload of this account.", CERTIFICATE_FIELD) from None
    document: Document | None = None
    if claim.authorisation_document_id is not None:
        try:
            document = await documents.owned(uow, account_id, claim.authorisation_document_id)
        except ServiceError:  # ORG-3: another account's upload is as unknown as a made-up ID
            raise ServiceError(
                Code.DOCUMENT_NOT_FOUND, "No such upload of this account.", "authorisationLetterUploadId"
            ) from None
    now = uow.now()
    if method == RECHARGE:
        day_start, until_tomorrow = shanghai_day_start(now)
        if await repo.attempts_since(uow, account_id, RECHARGE, day_start) >= RECHARGES_PER_DAY:
            raise ServiceError(
                Code.RECHARGE_DAILY_LIMIT_REACHED,
                f"At most {RECHARGES_PER_DAY} recharge verifications a day; try again tomorrow.",
                None,
                retry_after=until_tomorrow,
            )
    # RNE-2 / RNE-4: at most 10 attempts per account and method, counted atomically (inside a change, the
    # change counts them instead: `claim_change`).
    elif not in_change and await repo.take_method_attempt(uow, account_id, method, MAX_ATTEMPTS) is None:
        raise _attempts_exhausted(method)
    key = uow.settings.secret_key
    actor = claim.actor
    org = claim.organisation
    attempt = VerificationAttempt(
        account_id=account_id,
        subject_type="enterprise",
        method=method,
        outcome="pending",
        name=actor.name if actor else org.name,
        document_type=actor.document_type.value if actor else "USCC",
        document_key=actor.key(key) if actor else _uscc_key(key, org.uscc),
        document_sealed=None,  # the person checked is never verified themselves: nothing to keep readable
        document_masked=actor.masked if actor else org.uscc,
        agreement_version=claim.version,
        counted=method != RECHARGE and not in_change,
        change_id=claim.change_id,
        created_at=now,
        ticket_expires_at=now + FACE_TICKET_TTL if actor else None,
    )
    uow.session.add(attempt)
    await uow.session.flush()
    application = EnterpriseApplication(
        account_id=account_id,
        attempt_id=attempt.id,
        method=method,
        state=State.FACE_PENDING if actor else State.REMITTANCE_PENDING,
        organisation_name=org.name,
        uscc=org.uscc,
        organisation_type=org.organisation_type.value,
        legal_rep_name=org.legal_rep_name,
        face_by=_face_by(method, document),
        authorisation_document_id=document.id if document else None,
        certificate_document_id=certificate.id,
        bank_name=claim.bank_name,
        account_number=claim.account_number,
        wrong_amount_entries=0,
        risk_hit=False,
        change_id=claim.change_id,
        step_expires_at=now + (FACE_TICKET_TTL if actor else STALE_STEP),
        created_at=now,
    )
    uow.session.add(application)
    await uow.session.flush()
    return application.id, attempt.id


def _face_by(method: str, letter: Document | None) -> str | None:
    if method == RECHARGE:
        return None
    if method == BANK_TRANSFER:
        return str(FaceBy.HANDLER.value)
    return str((FaceBy.AUTHORISED_EMPLOYEE if letter is not None else FaceBy.LEGAL_REPRESENTATIVE).value)


def _uscc_key(secret_key: str, uscc: str) -> str:
    return keyed_hash(secret_key, f"uscc:{uscc}")


REFUSAL_REASON = {
    RegistryRefusal.ORGANISATION_NOT_FOUND: AttemptReason.ORGANISATION_NOT_FOUND,
    RegistryRefusal.TYPE_MISMATCH: AttemptReason.TYPE_MISMATCH,
    RegistryRefusal.REGISTERED_RECENTLY: AttemptReason.REGISTERED_RECENTLY,
    RegistryRefusal.LEGAL_REP_MISMATCH: AttemptReason.LEGAL_REP_MISMATCH,
}


REASON_FIELD = {
    AttemptReason.ORGANISATION_NOT_FOUND: ("The business registry does not know this organisation.", f"{ORG}.uscc"),
    AttemptReason.TYPE_MISMATCH: (
        "The organisation type does not match the certificate.",
        f"{ORG}.organisationType",
    ),
    AttemptReason.REGISTERED_RECENTLY: (
        "The organisation was registered less than 7 days ago; try again later.",
        f"{ORG}.uscc",
    ),
    AttemptReason.LEGAL_REP_MISMATCH: (
        "The legal representative does not match the registry.",
        f"{ORG}.legalRepresentativeName",
    ),
    # The identity registry's answers point at the actor's fields (`Claim.actor_fields`).
    AttemptReason.NAME_MISMATCH: ("The name does not match the ID number.", None),
    AttemptReason.IDENTITY_NOT_FOUND: ("No such ID number in the identity registry.", None),
    AttemptReason.PAYMENT_LICENCE_HOLDER: (
        "Corporate bank transfer is not offered to holders of a third-party payment licence (RNE-6).",
        None,
    ),
    AttemptReason.AMOUNT_WRONG_TWICE: ("The amount was entered wrongly twice; start a new verification.", "amount"),
    AttemptReason.AMOUNT_DEADLINE_PASSED: ("The amount was not confirmed within 8 days.", "amount"),
}


async def refuse(
    uow: Uow,
    application_id: int,
    reason: AttemptReason,
    from_states: tuple[State, ...],
    give_back: bool = False,
    field: str | None = None,
) -> NoReturn:
    application = await end(uow, application_id, from_states, State.FAILED, reason, give_back=give_back)
    if application is None:
        raise superseded()
    raise refusal_error(reason, await attempts_left(uow, application.account_id, application.method), field)


def refusal_error(reason: AttemptReason, attempts_remaining: int | None, field: str | None = None) -> ServiceError:
    message, default_field = REASON_FIELD[reason]
    if attempts_remaining is not None:
        message += f" {attempts_remaining} attempts of this method left."
    return ServiceError(
        Code[reason.value], message, field or default_field, persist=True, attempts_remaining=attempts_remaining
    )


async def provider_failed(
    uow: Uow, application_id: int, from_states: tuple[State, ...], code_id: int | None = None
) -> NoReturn:
    """Nothing was decided: the attempt is recorded as an error and given back, with the SMS code."""
    application = await end(
        uow, application_id, from_states, State.FAILED, AttemptReason.PROVIDER_UNAVAILABLE, give_back=True
    )
    if application is None:
        raise superseded()
    if code_id is not None:
        await codes.give_back(uow, code_id)
    raise steps.unavailable(persist=True)


async def get_application(uow: Uow, application_id: int) -> EnterpriseApplication:
    found = await uow.session.get(EnterpriseApplication, application_id, populate_existing=True)
    assert found is not None
    return found


async def read_started(uow: Uow, application_id: int) -> tuple[EnterpriseApplication, VerificationAttempt]:
    application = await get_application(uow, application_id)
    attempt = await uow.session.get(VerificationAttempt, application.attempt_id, populate_existing=True)
    assert attempt is not None
    return application, attempt


async def submit_review(uow: Uow, application: EnterpriseApplication) -> None:
    item = await review.submit(
        uow, kind=KIND, subject_id=application.id, account_id=application.account_id, queue_days=QUEUE_DAYS
    )
    application.review_item_id = item.id
    await uow.session.flush()


async def verify(uow: Uow, application: EnterpriseApplication, attempt: VerificationAttempt) -> bool:
    """The application (moved to `deciding` by this caller) verifies the account as the organisation
    (RN-1), unless the account is verified already (RN-5); inside a subject change, the organisation becomes
    the account's verified subject instead (CHG-3, CHG-4)."""
    now = uow.now()
    if application.change_id is not None:
        return await _complete_change(uow, application, attempt, application.change_id)
    if await repo.verification_of(uow, application.account_id) is not None:
        application.state = check_move(application.state, State.FAILED)
        await close(uow, application, AttemptReason.ALREADY_VERIFIED)
        return False
    key = uow.settings.secret_key
    verification = Verification(
        account_id=application.account_id,
        subject_type="enterprise",
        status="verified",
        method=application.method,
        name=application.organisation_name,
        document_type="USCC",
        document_key=_uscc_key(key, application.uscc),
        document_sealed=seal(key, application.uscc),
        document_masked=application.uscc,
        attempt_id=attempt.id,
        organisation_type=application.organisation_type,
        verified_at=now,
    )
    acceptance = AgreementAcceptance(
        account_id=application.account_id,
        agreement=AgreementKind.REAL_NAME_VERIFICATION.value,
        version=attempt.agreement_version,
        context=AcceptanceContext.VERIFICATION.value,
        accepted_at=attempt.created_at,
    )
    await uow.session.flush()  # the pending changes go out before the savepoint, so only the inserts are in it
    try:
        async with uow.session.begin_nested():
            uow.session.add_all([verification, acceptance])
    except IntegrityError:  # a concurrent verification won (RN-5)
        application = await get_application(uow, application.id)
        application.state = check_move(application.state, State.FAILED)
        await close(uow, application, AttemptReason.ALREADY_VERIFIED)
        return False
    await _passed(uow, application, attempt)
    return True


async def _passed(uow: Uow, application: EnterpriseApplication, attempt: VerificationAttempt) -> None:
    now = uow.now()
    await steps.end(uow, attempt, "passed")
    attempt.completed_at = now
    application.state = check_move(application.state, State.VERIFIED)
    application.reason, application.decided_at = None, now
    application.step_expires_at = None
    await uow.session.flush()


async def _complete_change(
    uow: Uow, application: EnterpriseApplication, attempt: VerificationAttempt, change_id: int
) -> bool:
    """CHG-3, CHG-4: the passed organisation becomes the account's verified subject through the change; a
    change that ended meanwhile (CHANGE_ENDED) fails the application and leaves the verification alone."""
    key = uow.settings.secret_key
    done = await inside.complete(
        uow,
        change_id,
        inside.NewSubject(
            subject_type="enterprise",
            method=application.method,
            name=application.organisation_name,
            document_type="USCC",
            document_key=_uscc_key(key, application.uscc),
            document_sealed=seal(key, application.uscc),
            document_masked=application.uscc,
            attempt_id=attempt.id,
            organisation_type=application.organisation_type,
            agreement_version=attempt.agreement_version,
            agreed_at=attempt.created_at,
        ),
    )
    if isinstance(done, AttemptReason):
        application.state = check_move(application.state, State.FAILED)
        await close(uow, application, done)
        return False
    await _passed(uow, application, attempt)
    return True


# --- reads and the sweeper -------------------------------------------------------------------------


def shown_state(application: EnterpriseApplication, now: datetime) -> str:
    """A step that ran out reads as it will end, before the sweeper gets to it (RNE-4, RNE-8)."""
    if (
        application.state in TIMED_STEPS
        and application.step_expires_at is not None
        and application.step_expires_at <= now
    ):
        return TIMED_STEPS[State(application.state)][0]
    return State.IN_REVIEW if application.state == State.DECIDING else application.state


def shown_reason(application: EnterpriseApplication, now: datetime) -> str | None:
    if shown_state(application, now) != application.state and application.state in TIMED_STEPS:
        return str(TIMED_STEPS[State(application.state)][1].value)
    return application.reason


async def open_application(uow: Uow, account_id: int) -> bool:
    """Whether an enterprise verification of the account is past its face check and still running (a
    personal verification would pre-empt it, RN-1)."""
    past_face = [s for s in OPEN_STATES if s != State.FACE_PENDING]
    return await enterprise_repo.running_in_states(uow, account_id, past_face, uow.now())


async def sweep(uow: Uow) -> dict[str, int]:
    """End every step that ran out: unanswered face checks, payouts never requested, amounts not
    confirmed within 8 days of the payout's arrival, remittances not paid within 3 (RNE-4, RNE-8). Each row is decided by a
    conditional UPDATE, so a user or a payment deciding it at the same moment wins without harm."""
    return {"enterprise_steps_ended": await _expire_overdue(uow)}


async def method_statuses(uow: Uow, account_id: int) -> list[MethodStatus]:
    """RNE-1: the three methods, with the attempts left of the two that are limited (RNE-2, RNE-4)."""
    verified = await repo.verification_of(uow, account_id) is not None
    used = await repo.method_attempts(uow, account_id)
    return [
        MethodStatus(m, limit, used.get(m, 0), not verified and (limit is None or used.get(m, 0) < limit))
        for m, limit in ((LEGAL_REP_FACE, MAX_ATTEMPTS), (BANK_TRANSFER, MAX_ATTEMPTS), (RECHARGE, None))
    ]
