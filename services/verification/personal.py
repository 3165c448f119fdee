"""Personal real-name verification (RN-1..7, RNP-1..6): by face and by bank card.

Both methods run in three steps, so no database lock is held while an outside provider answers:
the local checks and a write that claims the attempt (atomic limits, a `pending` row), the provider
calls, then a write that decides the attempt. Only the request (or the sweeper) that moves an
attempt out of `pending` decides it. A provider that times out or fails decides nothing and costs
the user nothing (issue 5): the attempt and the SMS code it used are given back.

- Face (RNP-2, RNP-3): the identity registry is asked first; then a single-use liveness ticket
  (10 minutes) is opened and its URL shown as a QR code. The provider reports pass or fail through
  `complete_face_check` (the sandbox page is that provider); a failed ticket is void.
- Bank card (RNP-4, RNP-5): name, mainland ID number, UnionPay card, reserved phone and an SMS code
  sent to that phone; at most 10 attempts per account, counted atomically, then the method closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.exc import IntegrityError

from models.accounts import AgreementAcceptance
from models.changes import SubjectChange
from models.verification import Verification, VerificationAttempt
from services.accounts import repository as accounts_repo
from services.accounts.agreements import AcceptanceContext, AgreementKind
from services.checksums import luhn_valid
from services.clock import SHANGHAI, shanghai_day_start
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions
from services.errors import Problems, ServiceError, checked
from services.identifiers import normalize_phone
from services.providers.bankcard import BankCardAnswer
from services.providers.errors import ProviderUnavailable
from services.providers.identity import RegistryAnswer
from services.security import new_token, token_hash
from services.text import is_ascii_digits
from services.uow import Uow
from services.verification import repository as repo
from services.verification import steps
from services.verification.changes import inside
from services.verification.changes import service as changes
from services.verification.changes.errors import ChangeErrorCode
from services.verification.changes.states import State as ChangeState
from services.verification.documents import DocumentType, Subject, check_subject, mask_card
from services.verification.enterprise.applications import open_application as enterprise_application_open
from services.verification.errors import AttemptReason
from services.verification.errors import VerificationErrorCode as Code
from services.verification.steps import FACE_TICKET_TTL, MethodStatus, check_agreement

FACE = "face"
BANK_CARD = "bank_card"
BANK_CARD_MAX_ATTEMPTS = 10  # RNP-5
# Beyond the rules: every face start asks the identity registry whether a name matches a number, so
# starts are capped per account and Asia/Shanghai day (the registry must not become an oracle), and
# so are BANK_CARD codes to arbitrary phones (SMS bombing).
FACE_STARTS_PER_DAY = 10
BANK_CARD_CODES_PER_DAY = 20
# A bank-card attempt whose provider step never finished (the process stopped) is given back after this.
STALE_PENDING = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class FaceCheckStarted:
    attempt: VerificationAttempt
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class BankCardInput:
    name: str
    id_number: str
    card_number: str
    reserved_phone: str
    code: str
    agreement_version: str  # of REAL_NAME_VERIFICATION (RN-6)


@dataclass(frozen=True, slots=True)
class _BankCard:
    subject: Subject
    card: str
    phone: str
    agreement_version: str


# --- local checks ------------------------------------------------------------------------------


def check_card(raw: str) -> str:
    card = "".join((raw or "").split()).replace("-", "")
    # RNP-6: Luhn; refused before any call, and never an attempt.
    if not is_ascii_digits(card) or not 12 <= len(card) <= 19 or not luhn_valid(card):
        raise ServiceError(Code.CARD_NUMBER_INVALID, "This is not a valid bank-card number.", "cardNumber")
    # RNP-4: UnionPay cards only: 16-19 digits starting with 62 (docs/checksums.md, docs/sandbox.md).
    if not card.startswith("62") or len(card) < 16:
        raise ServiceError(Code.CARD_NOT_UNIONPAY, "Only UnionPay cards (starting with 62) are accepted.", "cardNumber")
    return card


def check_phone(raw: str) -> str:
    phone = normalize_phone(raw or "")
    if phone is None:
        raise ServiceError(
            Code.INVALID_PHONE, "Enter the mainland mobile number reserved at the bank.", "reservedPhone"
        )
    return phone


def _check_bank_card(data: BankCardInput, now: datetime) -> _BankCard:
    """RNP-4, RNP-6, RN-4, RN-6: every problem of the form at once; none of them is an attempt.

    RNP-4 takes a mainland resident ID number only: the input has no other document type."""
    problems = Problems()
    today = now.astimezone(SHANGHAI).date()
    subject = checked(
        problems,
        check_subject,
        data.name,
        DocumentType.MAINLAND_ID_CARD,
        data.id_number,
        today,
        name_field="name",
        number_field="idNumber",
    )
    card = checked(problems, check_card, data.card_number)
    phone = checked(problems, check_phone, data.reserved_phone)
    checked(problems, codes.check_format, data.code)
    version = checked(problems, check_agreement, data.agreement_version)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert subject is not None
    assert card is not None
    assert phone is not None
    assert version is not None
    return _BankCard(subject, card, phone, version)


# --- shared steps ------------------------------------------------------------------------------


async def _claim_common(
    uow: Uow,
    account_id: int,
    method: str,
    subject: Subject,
    version: str,
    change_id: int | None = None,
    exhausted: ServiceError | None = None,
) -> SubjectChange | None:
    """What both methods check inside their first write, with the account row locked (so concurrent
    submissions of one account are decided one after the other). With `change_id`, the new person of a
    subject change (CHG-5) verifies instead of the account's first subject."""
    await accounts_repo.lock_account(uow, account_id)
    key = uow.settings.secret_key
    change = None
    if change_id is None:
        # RN-5: a verification, once made, cannot be redone or undone here (only CHG or CAN-6).
        if await repo.verification_of(uow, account_id) is not None:
            raise steps.already_verified()
        # RN-1: one subject per account; an organisation's verification under way comes first.
        if await enterprise_application_open(uow, account_id):
            raise ServiceError(
                Code.APPLICATION_IN_PROGRESS,
                "An enterprise verification of this account is in progress; it must end before a personal one.",
                None,
            )
    else:
        # CHG-5: the change is the account's, open, at the new person's step (methods it limits counted there).
        exhausted = exhausted or ServiceError(Code.BANK_CARD_ATTEMPTS_EXHAUSTED, "No attempts left.", None)
        change = await inside.claim(uow, account_id, change_id, method, "person", exhausted)
        current = await repo.verification_of(uow, account_id)
        if current is not None and current.document_key == subject.key(key):
            raise ServiceError(
                ChangeErrorCode.SAME_PERSON,
                "This is the account's current person; a change to another person verifies someone else (CHG-5).",
                "documentNumber" if method == FACE else "idNumber",
            )
    # RN-3: the 6th account is refused before any provider is asked (and again, atomically, on success).
    if await repo.document_uses(uow, subject.key(key)) >= repo.MAX_ACCOUNTS_PER_DOCUMENT:
        _new_attempt(
            uow,
            account_id,
            method,
            subject,
            version,
            outcome="failed",
            reason=AttemptReason.DOCUMENT_LIMIT_REACHED,
            change_id=change_id,
        )
        await uow.session.flush()
        raise _refusal(AttemptReason.DOCUMENT_LIMIT_REACHED, None, "documentNumber")
    return change


async def _submitted(uow: Uow, change: SubjectChange | None) -> None:
    """CHG-5 "submitted within 1 day": the new person's verification is submitted now (a pending attempt
    exists), so the 1-day deadline no longer applies; the check may finish, and a failed one be tried again,
    until the new person passes or the user withdraws (docs/rules.md CHG-5)."""
    if change is not None and change.expires_at is not None:
        await changes.move(uow, change, ChangeState.NEW_SUBJECT_PENDING, expires_at=None)


def _new_attempt(
    uow: Uow,
    account_id: int,
    method: str,
    subject: Subject,
    version: str,
    *,
    outcome: str,
    reason: AttemptReason | None = None,
    change_id: int | None = None,
) -> VerificationAttempt:
    key = uow.settings.secret_key
    now = uow.now()
    pending = outcome == "pending"
    attempt = VerificationAttempt(
        account_id=account_id,
        subject_type="person",
        method=method,
        outcome=outcome,
        reason=reason.value if reason else None,
        name=subject.name,
        document_type=subject.document_type.value,
        document_key=subject.key(key),
        # Only an attempt that may still pass keeps the readable (sealed) number.
        document_sealed=subject.sealed(key) if pending else None,
        document_masked=subject.masked,
        agreement_version=version,
        change_id=change_id,
        created_at=now,
        completed_at=None if pending else now,
    )
    uow.session.add(attempt)
    return attempt


class _DocumentFull(Exception):
    pass


async def grant(uow: Uow, attempt: VerificationAttempt) -> Verification | AttemptReason:
    """The checks passed: make the account verified, or say which rule stands in the way."""
    if attempt.change_id is not None:  # CHG-5: the new person becomes the account's (or CHANGE_ENDED)
        assert attempt.document_sealed is not None
        return await inside.complete(
            uow,
            attempt.change_id,
            inside.NewSubject(
                subject_type="person",
                method=attempt.method,
                name=attempt.name,
                document_type=attempt.document_type,
                document_key=attempt.document_key,
                document_sealed=attempt.document_sealed,
                document_masked=attempt.document_masked,
                attempt_id=attempt.id,
                organisation_type=None,
                agreement_version=attempt.agreement_version,
                agreed_at=attempt.created_at,
            ),
        )
    if await repo.verification_of(uow, attempt.account_id) is not None:  # RN-5 (another method won)
        return AttemptReason.ALREADY_VERIFIED
    assert attempt.document_sealed is not None
    verification = Verification(
        account_id=attempt.account_id,
        subject_type="person",  # RN-1
        status="verified",
        method=attempt.method,
        name=attempt.name,
        document_type=attempt.document_type,
        document_key=attempt.document_key,
        document_sealed=attempt.document_sealed,
        document_masked=attempt.document_masked,
        attempt_id=attempt.id,
        verified_at=uow.now(),
    )
    # RN-6: the agreement accepted when the attempt was submitted is recorded with its version.
    acceptance = AgreementAcceptance(
        account_id=attempt.account_id,
        agreement=AgreementKind.REAL_NAME_VERIFICATION.value,
        version=attempt.agreement_version,
        context=AcceptanceContext.VERIFICATION.value,
        accepted_at=attempt.created_at,
    )
    try:
        async with uow.session.begin_nested():
            if not await repo.take_document_slot(uow, attempt.document_key):  # RN-3, atomic
                raise _DocumentFull
            uow.session.add_all([verification, acceptance])
    except _DocumentFull:
        return AttemptReason.DOCUMENT_LIMIT_REACHED
    except IntegrityError:  # PostgreSQL: a concurrent method verified the account first (RN-5)
        return AttemptReason.ALREADY_VERIFIED
    return verification


def _refusal(reason: AttemptReason, attempts_remaining: int | None, number_field: str) -> ServiceError:
    """The payload error of a decided attempt: the attempt record is committed (RN-7)."""
    messages = {
        AttemptReason.IDENTITY_NOT_FOUND: ("No such document in the identity registry.", number_field),
        AttemptReason.NAME_MISMATCH: ("The name does not match the document number.", "name"),
        AttemptReason.CARD_ELEMENTS_MISMATCH: ("The card, name and ID number do not match at the bank.", "cardNumber"),
        AttemptReason.RESERVED_PHONE_MISMATCH: ("This is not the phone number reserved at the bank.", "reservedPhone"),
        AttemptReason.DOCUMENT_LIMIT_REACHED: (
            "该证件已被多个账号认证 / This document is already used by several accounts (at most 5).",
            None,
        ),
        AttemptReason.ALREADY_VERIFIED: ("This account is already verified.", None),
    }
    if reason is AttemptReason.CHANGE_ENDED:
        return ServiceError(
            ChangeErrorCode.CHANGE_ENDED,
            "The subject change ended before this verification passed; nothing changed.",
            changes.CHANGE_FIELD,
            persist=True,
        )
    message, field = messages[reason]
    if attempts_remaining is not None:
        message += f" {attempts_remaining} bank-card attempts left."
    return ServiceError(Code[reason.value], message, field, persist=True, attempts_remaining=attempts_remaining)


def _registry_reason(answer: RegistryAnswer) -> AttemptReason:
    return AttemptReason.NAME_MISMATCH if answer is RegistryAnswer.NAME_MISMATCH else AttemptReason.IDENTITY_NOT_FOUND


async def _provider_failed(uow: Uow, attempt_id: int, code_id: int | None) -> NoReturn:
    """Nothing was decided: the attempt is recorded as an error, and the attempt and the SMS code it
    used are given back, so the user can submit the same form again."""
    attempt = await steps.take(uow, attempt_id)
    if attempt is None:  # the sweeper already gave it back
        raise steps.unavailable()
    await steps.end(uow, attempt, "error", AttemptReason.PROVIDER_UNAVAILABLE)
    if attempt.counted:
        await repo.give_back_method_attempt(uow, attempt.account_id, attempt.method)
        attempt.counted = False
    if code_id is not None:
        await codes.give_back(uow, code_id)
    await uow.session.flush()
    raise steps.unavailable(persist=True)


# --- face (RNP-2, RNP-3) -------------------------------------------------------------------------


async def start_face_check(
    tx: Transactions,
    account_id: int,
    name: str,
    document_type: DocumentType,
    number: str,
    agreement_version: str,
    change_id: int | None = None,
) -> FaceCheckStarted | ServiceError:
    # RNP-6, RN-4, RN-6: every problem of the form at once, before anything is claimed or asked.
    problems = Problems()
    today = tx.deps.clock.now().astimezone(SHANGHAI).date()
    subject = checked(
        problems, check_subject, name, document_type, number, today, name_field="name", number_field="documentNumber"
    )
    version = checked(problems, check_agreement, agreement_version)
    if (refusal := problems.refusal()) is not None:
        return refusal
    assert subject is not None
    assert version is not None
    attempt_id = await tx.write(_claim_face_attempt, account_id, subject, version, change_id)
    if isinstance(attempt_id, ServiceError):
        return attempt_id
    providers = tx.deps.providers
    try:
        answer = await steps.ask(
            tx, providers.identity.check(document_type=document_type.value, name=subject.name, number=subject.number)
        )
        if answer is not RegistryAnswer.MATCH:
            return await tx.write(_face_refused, attempt_id, _registry_reason(answer))
        ticket = new_token("face", 24)
        url = await steps.ask(
            tx, providers.liveness.start(ticket=ticket, name=subject.name, document_type=document_type.value)
        )
    except ProviderUnavailable:
        return await tx.write(_provider_failed, attempt_id, None)
    return await tx.write(_open_face_check, attempt_id, ticket, url)


async def _claim_face_attempt(
    uow: Uow, account_id: int, subject: Subject, version: str, change_id: int | None = None
) -> int:
    change = await _claim_common(uow, account_id, FACE, subject, version, change_id)
    now = uow.now()
    day_start, until_tomorrow = shanghai_day_start(now)
    started_today = await repo.attempts_since(uow, account_id, FACE, day_start)
    if started_today >= FACE_STARTS_PER_DAY:
        raise ServiceError(
            Code.FACE_DAILY_LIMIT_REACHED,
            f"At most {FACE_STARTS_PER_DAY} face checks a day; try again tomorrow.",
            None,
            retry_after=until_tomorrow,
        )
    attempt = _new_attempt(uow, account_id, FACE, subject, version, outcome="pending", change_id=change_id)
    attempt.ticket_expires_at = now + FACE_TICKET_TTL  # a start that never opens a ticket is swept too
    await _submitted(uow, change)
    await uow.session.flush()
    return attempt.id


async def _face_refused(uow: Uow, attempt_id: int, reason: AttemptReason) -> FaceCheckStarted:
    attempt = await steps.take(uow, attempt_id)
    if attempt is None:
        raise steps.unavailable()
    await steps.end(uow, attempt, "failed", reason)
    await uow.session.flush()
    raise _refusal(reason, None, "documentNumber")


async def _open_face_check(uow: Uow, attempt_id: int, ticket: str, url: str) -> FaceCheckStarted:
    attempt = await uow.session.get(VerificationAttempt, attempt_id, populate_existing=True)
    assert attempt is not None
    await accounts_repo.lock_account(uow, attempt.account_id)
    now = uow.now()
    # RN-5: verified meanwhile (inside a change, the account is verified: its callback checks the change)
    if attempt.change_id is None and await repo.verification_of(uow, attempt.account_id) is not None:
        taken = await steps.take(uow, attempt_id)
        if taken is not None:
            await steps.end(uow, taken, "failed", AttemptReason.ALREADY_VERIFIED)
            await uow.session.flush()
        err = steps.already_verified()
        err.persist = True
        raise err
    # One live face check per account: earlier tickets are void once a new one is issued (a start still
    # waiting for its providers opens later and voids this one in turn). Writers of one account hold
    # its row lock, so two tickets cannot both stay live.
    await repo.void_live_tickets(uow, attempt.account_id, FACE, AttemptReason.SUPERSEDED.value, now)
    if not await repo.open_ticket(uow, attempt_id, token_hash(ticket), now + FACE_TICKET_TTL):
        # superseded or swept while the providers answered
        raise steps.unavailable()
    await uow.session.refresh(attempt)
    assert attempt.ticket_expires_at is not None
    return FaceCheckStarted(attempt=attempt, url=url, expires_at=attempt.ticket_expires_at)


# --- bank card (RNP-4, RNP-5) --------------------------------------------------------------------


async def submit_bank_card(
    tx: Transactions, account_id: int, data: BankCardInput, change_id: int | None = None
) -> Verification | ServiceError:
    try:
        checked = _check_bank_card(data, tx.deps.clock.now())
    except ServiceError as err:
        return err
    claimed = await tx.write(_claim_bank_card_attempt, account_id, checked, data.code, change_id)
    if isinstance(claimed, ServiceError):
        return claimed
    attempt_id, code_id = claimed
    providers = tx.deps.providers
    subject = checked.subject
    try:
        registry = await steps.ask(
            tx,
            providers.identity.check(
                document_type=subject.document_type.value, name=subject.name, number=subject.number
            ),
        )
        bank = BankCardAnswer.MATCH
        if registry is RegistryAnswer.MATCH:
            bank = await steps.ask(
                tx,
                providers.bank_cards.check(
                    name=subject.name, id_number=subject.number, card_number=checked.card, reserved_phone=checked.phone
                ),
            )
    except ProviderUnavailable:
        return await tx.write(_provider_failed, attempt_id, code_id)
    return await tx.write(_bank_card_outcome, attempt_id, registry, bank)


async def _bank_card_attempts_left(uow: Uow, account_id: int) -> int:
    used = (await repo.method_attempts(uow, account_id)).get(BANK_CARD, 0)
    return max(0, BANK_CARD_MAX_ATTEMPTS - used)


def _bank_card_closed() -> ServiceError:
    return ServiceError(
        Code.BANK_CARD_ATTEMPTS_EXHAUSTED,
        "银行卡认证次数已用完，请使用人脸识别认证 / The 10 bank-card attempts are used up; verify by face instead.",
        None,
        attempts_remaining=0,
    )


async def check_bank_card_code(uow: Uow, account_id: int, in_change: bool = False) -> None:
    """Before a BANK_CARD code is sent: only to an account that may still use the method, and at most
    BANK_CARD_CODES_PER_DAY a day (the destination is any phone the user names). `in_change`: for a step of
    a subject change, which the caller checked (`changes.identity.check_code`)."""
    await accounts_repo.lock_account(uow, account_id)
    if not in_change and await repo.verification_of(uow, account_id) is not None:  # RN-5
        raise steps.already_verified()
    if not in_change and await _bank_card_attempts_left(uow, account_id) == 0:  # RNP-5
        raise _bank_card_closed()
    day_start, until_tomorrow = shanghai_day_start(uow.now())
    if await codes.sent_since(uow, account_id, CodePurpose.BANK_CARD, day_start) >= BANK_CARD_CODES_PER_DAY:
        raise ServiceError(
            Code.ACCOUNT_DAILY_LIMIT_REACHED,
            f"At most {BANK_CARD_CODES_PER_DAY} bank-card codes a day per account; try again tomorrow.",
            None,
            retry_after=until_tomorrow,
        )


async def _claim_bank_card_attempt(
    uow: Uow, account_id: int, checked: _BankCard, code: str, change_id: int | None = None
) -> tuple[int, int]:
    change = await _claim_common(
        uow, account_id, BANK_CARD, checked.subject, checked.agreement_version, change_id, _bank_card_closed()
    )
    if await _bank_card_attempts_left(uow, account_id) == 0:  # RNP-5: closed before any code is spent
        raise _bank_card_closed()
    # RNP-4: the SMS code sent to the reserved phone; a wrong code counts against the code (CODE-2),
    # not against the bank-card attempts.
    code_id = await codes.verify(uow, destination=checked.phone, purpose=CodePurpose.BANK_CARD, code=code)
    # RNP-5: the attempt is counted atomically, so concurrent submissions cannot pass 10.
    if await repo.take_method_attempt(uow, account_id, BANK_CARD, BANK_CARD_MAX_ATTEMPTS) is None:
        raise _bank_card_closed()
    attempt = _new_attempt(
        uow, account_id, BANK_CARD, checked.subject, checked.agreement_version, outcome="pending", change_id=change_id
    )
    attempt.card_masked, attempt.counted = mask_card(checked.card), True
    await _submitted(uow, change)
    await uow.session.flush()
    return attempt.id, code_id


async def _bank_card_outcome(uow: Uow, attempt_id: int, registry: RegistryAnswer, bank: BankCardAnswer) -> Verification:
    attempt = await steps.take(uow, attempt_id)
    if attempt is None:  # the sweeper gave it back while the bank answered: nothing is decided
        raise steps.unavailable()
    reason: AttemptReason
    if registry is not RegistryAnswer.MATCH:
        reason = _registry_reason(registry)
    elif bank is BankCardAnswer.ELEMENTS_MISMATCH:
        reason = AttemptReason.CARD_ELEMENTS_MISMATCH
    elif bank is BankCardAnswer.RESERVED_PHONE_MISMATCH:
        reason = AttemptReason.RESERVED_PHONE_MISMATCH
    else:
        granted = await grant(uow, attempt)
        if isinstance(granted, Verification):
            await steps.end(uow, attempt, "passed")
            await uow.session.flush()
            return granted
        reason = granted
    await steps.end(uow, attempt, "failed", reason)
    await uow.session.flush()
    raise _refusal(reason, await _bank_card_attempts_left(uow, attempt.account_id), "idNumber")


# --- reads and the sweeper -----------------------------------------------------------------------


async def method_statuses(uow: Uow, account_id: int) -> list[MethodStatus]:
    """What the verification page offers a person, with attempts left (RNP-1, RNP-5)."""
    verified = await repo.verification_of(uow, account_id) is not None
    used = await repo.method_attempts(uow, account_id)
    faces_today = await repo.attempts_since(uow, account_id, FACE, shanghai_day_start(uow.now())[0])
    bank_used = used.get(BANK_CARD, 0)
    return [
        MethodStatus(
            FACE, None, 0, not verified and faces_today < FACE_STARTS_PER_DAY, FACE_STARTS_PER_DAY, faces_today
        ),
        MethodStatus(BANK_CARD, BANK_CARD_MAX_ATTEMPTS, bank_used, not verified and bank_used < BANK_CARD_MAX_ATTEMPTS),
    ]


def shown_outcome(attempt: VerificationAttempt, now: datetime) -> tuple[str, str | None]:
    """A pending face check past its ticket's life reads as expired, before the sweeper gets to it."""
    if attempt.outcome == "pending" and attempt.ticket_expires_at is not None and attempt.ticket_expires_at <= now:
        return "expired", AttemptReason.FACE_CHECK_EXPIRED.value
    return attempt.outcome, attempt.reason


async def sweep(uow: Uow) -> dict[str, int]:
    """Expire face checks past their 10 minutes; give back bank-card attempts a stopped process left."""
    now = uow.now()
    expired = await repo.expire_run_out_tickets(uow, AttemptReason.FACE_CHECK_EXPIRED.value, now)

    async def give_back(attempt: VerificationAttempt) -> None:
        await repo.give_back_method_attempt(uow, attempt.account_id, attempt.method)

    returned = await steps.end_stale_pending(uow, BANK_CARD, now - STALE_PENDING, give_back)
    return {"face_checks_expired": expired, "bank_card_attempts_returned": returned}
