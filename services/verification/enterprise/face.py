"""Enterprise verification: legal-representative face (RNE-2, RNE-3), and the face step every method with a
face check takes (the handler of a corporate bank transfer too, RNE-4)."""

from __future__ import annotations

from datetime import datetime

from models.verification import VerificationAttempt
from services.database import Transactions
from services.errors import ServiceError
from services.providers.business import RegisteredOrganisation, judge
from services.providers.errors import ProviderUnavailable
from services.providers.identity import RegistryAnswer
from services.security import new_token, token_hash
from services.uow import Uow
from services.verification import repository as repo
from services.verification import steps
from services.verification.documents import (
    Subject,
)
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import (
    BANK_TRANSFER,
    LEGAL_REP_FACE,
    REFUSAL_REASON,
    STALE_STEP,
    Started,
    claim_application,
    end,
    get_application,
    move,
    provider_failed,
    read_started,
    refuse,
    submit_review,
    superseded,
    verify,
)
from services.verification.enterprise.checks import Claim, LegalRepFaceInput, check_legal_rep_face, shanghai_today
from services.verification.enterprise.states import State
from services.verification.errors import AttemptReason
from services.verification.organisations import OrganisationType, is_enterprise, transfer_offered
from services.verification.steps import FACE_TICKET_TTL


async def start_legal_rep_face(tx: Transactions, account_id: int, data: LegalRepFaceInput) -> Started | ServiceError:
    try:
        claim = check_legal_rep_face(data, tx.deps.clock.now())
    except ServiceError as err:
        return err
    return await start_with_face(tx, account_id, LEGAL_REP_FACE, claim)


async def start_with_face(tx: Transactions, account_id: int, method: str, claim: Claim) -> Started | ServiceError:
    claimed = await tx.write(claim_application, account_id, method, claim)
    if isinstance(claimed, ServiceError):
        return claimed
    application_id, attempt_id = claimed
    assert claim.actor is not None
    found = await _check_registry(tx, application_id, claim, State.FACE_PENDING)
    if isinstance(found, ServiceError):
        return found
    # RNE-6: payment-licence holders are not offered the transfer; not counted against the account.
    if method == BANK_TRANSFER and not transfer_offered(found.organisation_type, found.payment_licence):
        return await tx.write(refuse, application_id, AttemptReason.PAYMENT_LICENCE_HOLDER, (State.FACE_PENDING,), True)
    marked = await tx.write(_mark_registry_facts, application_id, found.risk_hit)
    if isinstance(marked, ServiceError):
        return marked
    opened = await _open_face(tx, application_id, attempt_id, claim.actor)
    if isinstance(opened, ServiceError):
        return opened
    url, expires = opened
    application, attempt = await tx.read(read_started, application_id)
    return Started(application, attempt, url, expires)


async def _check_registry(
    tx: Transactions, application_id: int, claim: Claim, state: State
) -> RegisteredOrganisation | ServiceError:
    """RNE-9: the business registry, then the identity registry for whoever does the face check."""
    providers = tx.deps.providers
    today = shanghai_today(tx.deps.clock.now())
    org, actor = claim.organisation, claim.actor
    try:
        found = await steps.ask(
            tx,
            providers.business.look_up(
                uscc=org.uscc, name=org.name, legal_representative=org.legal_rep_name, today=today
            ),
        )
        refusal = judge(
            found,
            chosen_type=org.organisation_type,
            legal_representative=org.legal_rep_name,
            today=today,
            name=org.name,
        )
        if refusal is not None:
            return await tx.write(refuse, application_id, REFUSAL_REASON[refusal], (state,))
        if actor is not None:
            answer = await steps.ask(
                tx,
                providers.identity.check(document_type=actor.document_type.value, name=actor.name, number=actor.number),
            )
            if answer is not RegistryAnswer.MATCH:
                name_field, number_field = claim.actor_fields or (None, None)
                reason, field = (
                    (AttemptReason.NAME_MISMATCH, name_field)
                    if answer is RegistryAnswer.NAME_MISMATCH
                    else (AttemptReason.IDENTITY_NOT_FOUND, number_field)
                )
                return await tx.write(refuse, application_id, reason, (state,), field=field)
    except ProviderUnavailable:
        return await tx.write(provider_failed, application_id, (state,))
    assert found is not None
    return found


async def _open_face(
    tx: Transactions, application_id: int, attempt_id: int, actor: Subject
) -> tuple[str, datetime] | ServiceError:
    ticket = new_token("face", 24)
    try:
        url = await steps.ask(
            tx,
            tx.deps.providers.liveness.start(ticket=ticket, name=actor.name, document_type=actor.document_type.value),
        )
    except ProviderUnavailable:
        return await tx.write(provider_failed, application_id, (State.FACE_PENDING,))
    opened = await tx.write(_set_ticket, application_id, attempt_id, ticket)
    if isinstance(opened, ServiceError):
        return opened
    return url, opened


async def _set_ticket(uow: Uow, application_id: int, attempt_id: int, ticket: str) -> datetime:
    expires = uow.now() + FACE_TICKET_TTL
    if await move(uow, application_id, (State.FACE_PENDING,), State.FACE_PENDING, step_expires_at=expires) is None:
        raise superseded()
    if not await repo.open_ticket(uow, attempt_id, token_hash(ticket), expires):
        raise steps.unavailable()
    return expires


async def _mark_registry_facts(uow: Uow, application_id: int, risk_hit: bool) -> None:
    application = await get_application(uow, application_id)
    application.risk_hit = risk_hit
    await uow.session.flush()


async def face_completed(uow: Uow, attempt: VerificationAttempt, passed: bool) -> None:
    """The liveness outcome of an enterprise attempt (called by `liveness.complete_face_check`, which took
    the attempt). The ticket is used up either way."""
    application_id = await enterprise_repo.application_id_of_attempt(uow, attempt.id)
    assert application_id is not None
    attempt.outcome, attempt.ticket_expires_at = "pending", None  # the application decides it from here
    await uow.session.flush()
    if not passed:
        if await end(uow, application_id, (State.FACE_PENDING,), State.FAILED, AttemptReason.FACE_CHECK_FAILED) is None:
            await steps.end(uow, attempt, "expired", AttemptReason.SUPERSEDED)
        return
    application = await get_application(uow, application_id)
    now = uow.now()
    if application.method == BANK_TRANSFER:
        # RNE-4: the handler passed; the payout follows outside this transaction (`pay_out`).
        moved = await move(
            uow, application_id, (State.FACE_PENDING,), State.PAYOUT_PENDING, step_expires_at=now + STALE_STEP
        )
    elif is_enterprise(OrganisationType(application.organisation_type)):
        moved = await move(uow, application_id, (State.FACE_PENDING,), State.DECIDING, step_expires_at=None)
        if moved is not None:
            await verify(uow, moved, attempt)
    else:
        # RNE-3: another organisation's passed face check goes to the 2-working-day review queue.
        moved = await move(uow, application_id, (State.FACE_PENDING,), State.IN_REVIEW, step_expires_at=None)
        if moved is not None:
            await submit_review(uow, moved)
    if moved is None:  # superseded or expired meanwhile
        await steps.end(uow, attempt, "expired", AttemptReason.SUPERSEDED)
