"""CHG-4, CHG-5: the current person proves it is them, by face or by bank card (IDENTITY_PENDING ->
ACCEPTANCE_PENDING).

Nothing is typed about the person: the name and document number are the account's verified ones (the
verification keeps the number sealed). Like the personal methods (services/verification/personal.py), each
check runs in three steps so no lock is held while a provider answers: a write that claims the attempt (a
`pending` row with `change_id`), the provider call, then a write that decides it.

- Face: a liveness ticket of the verified person (no identity-registry call: the person was verified); the
  provider's callback (`liveness.complete_face_check`) hands the attempt to `face_completed`.
- Bank card: card, reserved phone and the BANK_CARD code sent to that phone for this change
  (`verificationCodeSend` with `changeId`), checked against the verified name and ID number (RNP-4). CHG-5
  limits it to 5 attempts inside the change (`states.LIMITED_METHODS`); a provider failure gives the attempt
  and the code back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from models.changes import SubjectChange
from models.verification import Verification, VerificationAttempt
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions
from services.errors import Problems, ServiceError, checked
from services.providers.bankcard import BankCardAnswer
from services.providers.errors import ProviderUnavailable
from services.secretbox import open_sealed
from services.security import new_token
from services.uow import Uow
from services.verification import repository as verification_repo
from services.verification import steps
from services.verification.changes import face, inside, service
from services.verification.changes import repository as repo
from services.verification.changes.errors import ChangeErrorCode
from services.verification.changes.face import ChangeFaceStarted
from services.verification.changes.states import LIMITED_METHODS, Kind, State
from services.verification.documents import DocumentType, mask_card
from services.verification.errors import AttemptReason
from services.verification.errors import VerificationErrorCode as Code
from services.verification.personal import STALE_PENDING, check_card, check_phone
from services.verification.steps import FACE_TICKET_TTL

IDENTITY_FACE = "identity_face"
IDENTITY_BANK_CARD = "identity_bank_card"
PERSON_KINDS = (Kind.PERSON_TO_ENTERPRISE, Kind.PERSON_TO_PERSON)


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    document_type: str
    number: str


async def _identity_step(uow: Uow, account_id: int, change_id: int) -> tuple[SubjectChange, Verification]:
    """The account's open change (account locked) at the identity step, and the verification to prove."""
    change = await service.open_of_account(uow, account_id, change_id)
    if Kind(change.kind) not in PERSON_KINDS:
        raise ServiceError(
            ChangeErrorCode.CHANGE_NOT_SUPPORTED,
            "Only a change from a person (CHG-4, CHG-5) proves the current person.",
            service.CHANGE_FIELD,
        )
    if change.state != State.IDENTITY_PENDING:
        raise service.not_current(change)
    verification = await verification_repo.verification_of(uow, account_id)
    assert verification is not None  # RN-5: an open change's account stays verified
    return change, verification


def _person(uow: Uow, verification: Verification) -> _Person:
    number = open_sealed(uow.settings.secret_key, verification.document_sealed)
    return _Person(verification.name, verification.document_type, number)


def _new_attempt(uow: Uow, change: SubjectChange, verification: Verification, method: str) -> VerificationAttempt:
    now = uow.now()
    attempt = VerificationAttempt(
        account_id=change.account_id,
        subject_type="person",
        method=method,
        outcome="pending",
        name=verification.name,
        document_type=verification.document_type,
        document_key=verification.document_key,
        document_sealed=None,  # it proves the verified person; it never becomes a verification
        document_masked=verification.document_masked,
        agreement_version=change.application_version,
        change_id=change.id,
        created_at=now,
    )
    uow.session.add(attempt)
    return attempt


async def _proved(uow: Uow, change: SubjectChange, attempt: VerificationAttempt, method: str) -> SubjectChange:
    """CHG-4, CHG-5: the identity proof passed; the acceptance agreement is next."""
    return await service.move(
        uow,
        change,
        State.ACCEPTANCE_PENDING,
        identity_method=method,
        identity_attempt_id=attempt.id,
        identity_proved_at=uow.now(),
    )


# --- face -----------------------------------------------------------------------------------------


async def start_face(tx: Transactions, account_id: int, change_id: int) -> ChangeFaceStarted | ServiceError:
    claimed = await tx.write(_claim_face, account_id, change_id)
    if isinstance(claimed, ServiceError):
        return claimed
    attempt_id, person = claimed
    ticket = new_token("face", 24)
    try:
        url = await steps.ask(
            tx,
            tx.deps.providers.liveness.start(ticket=ticket, name=person.name, document_type=person.document_type),
        )
    except ProviderUnavailable:
        return await tx.write(_provider_failed, attempt_id, None)
    return await tx.write(_open_face, attempt_id, ticket, url)


async def _claim_face(uow: Uow, account_id: int, change_id: int) -> tuple[int, _Person]:
    change, verification = await _identity_step(uow, account_id, change_id)
    attempt = _new_attempt(uow, change, verification, IDENTITY_FACE)
    attempt.ticket_expires_at = uow.now() + FACE_TICKET_TTL  # swept like any face check
    await uow.session.flush()
    return attempt.id, _person(uow, verification)


async def _open_face(uow: Uow, attempt_id: int, ticket: str, url: str) -> ChangeFaceStarted:
    async def still_at(uow: Uow, account_id: int, change_id: int) -> SubjectChange:
        return (await _identity_step(uow, account_id, change_id))[0]

    return await face.open_ticket(uow, attempt_id, ticket, url, IDENTITY_FACE, still_at)


async def face_completed(uow: Uow, attempt: VerificationAttempt, passed: bool) -> None:
    """The liveness callback of an identity face check (the account locked and the attempt taken by the
    caller): pass moves the change to the acceptance step; a change that moved on or ended meanwhile fails
    the attempt with CHANGE_ENDED and changes nothing else."""
    assert attempt.change_id is not None
    if not passed:
        await steps.end(uow, attempt, "failed", AttemptReason.FACE_CHECK_FAILED)  # RNP-3: the ticket is void
        return
    change = await repo.get(uow, attempt.change_id)
    now = uow.now()
    if change is None or change.state != State.IDENTITY_PENDING or service.timed_out(change, now) is not None:
        await steps.end(uow, attempt, "failed", AttemptReason.CHANGE_ENDED)
        return
    await _proved(uow, change, attempt, "face")
    await steps.end(uow, attempt, "passed")


# --- bank card ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentityBankCardInput:
    card_number: str
    reserved_phone: str
    code: str


async def submit_bank_card(
    tx: Transactions, account_id: int, change_id: int, data: IdentityBankCardInput
) -> SubjectChange | ServiceError:
    # RNP-6, RNP-4: the local checks first, every problem at once; none of them is an attempt.
    problems = Problems()
    card = checked(problems, check_card, data.card_number)
    phone = checked(problems, check_phone, data.reserved_phone)
    checked(problems, codes.check_format, data.code)
    if (refusal := problems.refusal()) is not None:
        return refusal
    assert card is not None
    assert phone is not None
    claimed = await tx.write(_claim_bank_card, account_id, change_id, card, phone, data.code)
    if isinstance(claimed, ServiceError):
        return claimed
    attempt_id, code_id, person = claimed
    try:
        answer = await steps.ask(
            tx,
            tx.deps.providers.bank_cards.check(
                name=person.name, id_number=person.number, card_number=card, reserved_phone=phone
            ),
        )
    except ProviderUnavailable:
        return await tx.write(_provider_failed, attempt_id, code_id)
    return await tx.write(_bank_card_outcome, attempt_id, answer)


def _bank_card_exhausted() -> ServiceError:
    return ServiceError(
        Code.BANK_CARD_ATTEMPTS_EXHAUSTED,
        "The 5 bank-card attempts of this change are used up; prove it is you by face instead (CHG-5).",
        None,
        attempts_remaining=0,
    )


async def _remaining(uow: Uow, change: SubjectChange) -> int | None:
    limit = LIMITED_METHODS.get(Kind(change.kind), {}).get(IDENTITY_BANK_CARD)
    if limit is None:
        return None
    used = (await repo.attempts_of(uow, [change.id])).get((change.id, IDENTITY_BANK_CARD), 0)
    return max(0, limit - used)


async def check_code(uow: Uow, account_id: int, change_id: int) -> None:
    """Before a BANK_CARD code is sent for a change: its current step takes a bank card (the current
    person's identity proof, or the new person's verification of CHG-5) with attempts left."""
    change = await service.open_of_account(uow, account_id, change_id)
    if change.state == State.IDENTITY_PENDING and Kind(change.kind) in PERSON_KINDS:
        if await _remaining(uow, change) == 0:
            raise _bank_card_exhausted()
        return
    if change.state == State.NEW_SUBJECT_PENDING and Kind(change.kind) is Kind.PERSON_TO_PERSON:
        return
    raise service.not_current(change)


def _require_mainland_id(person: _Person) -> None:
    if person.document_type != DocumentType.MAINLAND_ID_CARD.value:  # RNP-4 takes a mainland ID number only
        raise ServiceError(
            Code.METHOD_NOT_OFFERED,
            "The verified document is not a mainland ID card, so the bank card cannot prove it; use the face check.",
            None,
        )


async def _claim_bank_card(
    uow: Uow, account_id: int, change_id: int, card: str, phone: str, code: str
) -> tuple[int, int, _Person]:
    change, verification = await _identity_step(uow, account_id, change_id)
    person = _person(uow, verification)
    _require_mainland_id(person)
    if await _remaining(uow, change) == 0:  # CHG-5: closed before any code is spent
        raise _bank_card_exhausted()
    # RNP-4: the code sent to the reserved phone; a wrong code counts against the code, not the card.
    code_id = await codes.verify(uow, destination=phone, purpose=CodePurpose.BANK_CARD, code=code)
    await inside.take_attempt(uow, change, IDENTITY_BANK_CARD, _bank_card_exhausted())  # CHG-5: 5, atomic
    attempt = _new_attempt(uow, change, verification, IDENTITY_BANK_CARD)
    attempt.card_masked = mask_card(card)
    attempt.counted = await _remaining(uow, change) is not None
    await uow.session.flush()
    return attempt.id, code_id, person


async def _bank_card_outcome(uow: Uow, attempt_id: int, answer: BankCardAnswer) -> SubjectChange:
    attempt = await steps.take(uow, attempt_id)
    if attempt is None:  # swept while the bank answered: nothing was decided
        raise steps.unavailable()
    assert attempt.change_id is not None
    try:
        change = await service.open_of_account(uow, attempt.account_id, attempt.change_id)
    except ServiceError as err:  # withdrawn or out of time while the bank answered: nothing else changes
        await steps.end(uow, attempt, "failed", AttemptReason.CHANGE_ENDED)
        await uow.session.flush()
        err.persist = True
        raise
    reason: AttemptReason
    if answer is BankCardAnswer.ELEMENTS_MISMATCH:
        reason = AttemptReason.CARD_ELEMENTS_MISMATCH
    elif answer is BankCardAnswer.RESERVED_PHONE_MISMATCH:
        reason = AttemptReason.RESERVED_PHONE_MISMATCH
    elif change.state != State.IDENTITY_PENDING:
        await steps.end(uow, attempt, "failed", AttemptReason.CHANGE_ENDED)
        await uow.session.flush()
        moved_on = service.not_current(change)
        moved_on.persist = True
        raise moved_on
    else:
        await steps.end(uow, attempt, "passed")
        return await _proved(uow, change, attempt, "bank_card")
    await steps.end(uow, attempt, "failed", reason)
    await uow.session.flush()
    remaining = await _remaining(uow, change)
    message = {
        AttemptReason.CARD_ELEMENTS_MISMATCH: (
            "The card does not match the verified name and ID number.",
            "cardNumber",
        ),
        AttemptReason.RESERVED_PHONE_MISMATCH: ("This is not the phone number reserved at the bank.", "reservedPhone"),
    }[reason]
    text = message[0] if remaining is None else f"{message[0]} {remaining} bank-card attempts left in this change."
    raise ServiceError(Code[reason.value], text, message[1], persist=True, attempts_remaining=remaining)


async def _provider_failed(uow: Uow, attempt_id: int, code_id: int | None) -> NoReturn:
    """Nothing was decided: the attempt is an error, and the change's attempt and the code are given back."""
    attempt = await steps.take(uow, attempt_id)
    if attempt is None:
        raise steps.unavailable()
    await steps.end(uow, attempt, "error", AttemptReason.PROVIDER_UNAVAILABLE)
    if attempt.counted and attempt.change_id is not None:
        await inside.give_back(uow, attempt.change_id, attempt.method)
        attempt.counted = False
    if code_id is not None:
        await codes.give_back(uow, code_id)
    await uow.session.flush()
    raise steps.unavailable(persist=True)


async def sweep(uow: Uow) -> dict[str, int]:
    """CHG-5: an identity bank-card attempt a stopped process left pending (its provider step never decided
    it) is recorded as a provider error after STALE_PENDING, and the change's attempt is given back, as
    RNP-5's sweep does for the account's own bank-card attempts (`personal.sweep`)."""

    async def give_back(attempt: VerificationAttempt) -> None:
        if attempt.counted and attempt.change_id is not None:
            await inside.give_back(uow, attempt.change_id, attempt.method)

    returned = await steps.end_stale_pending(uow, IDENTITY_BANK_CARD, uow.now() - STALE_PENDING, give_back)
    return {"identity_bank_card_attempts_returned": returned}
