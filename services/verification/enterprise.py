"""Enterprise real-name verification (RNE-1..9, ORG-1, ORG-3; RN-1, RN-5, RN-6, RN-7).

Three methods (RNE-1), each an `EnterpriseApplication` with its line in the attempt history:
- legal-representative face (RNE-2, RNE-3): the business registry confirms the organisation, the
  legal representative (or, for other organisations, an authorised employee with a signed letter)
  passes a face check; an enterprise is then verified, another organisation goes to the
  2-working-day review queue. At most 10 attempts per account.
- corporate bank transfer (RNE-4..7): the handler passes a face check, the service pays a random
  0.01-1.00 CNY into the corporate account (once: looked up by its reference when a request fails),
  the user enters it within 8 days of its arrival; two wrong entries fail it; a risk hit sends a
  right amount to review. At most 10 attempts per account. Not offered to public institutions nor
  to payment-licence holders (RNE-6).
- recharge (RNE-8): a dedicated remittance account (created after an SMS code), a random amount to
  pay within 3 days from an account named exactly as the organisation; the money is credited to the
  balance whatever happens.
Like personal verification, provider calls run between transactions (see `personal`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import NoReturn

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError

from models.accounts import AgreementAcceptance
from models.documents import Document
from models.enterprise import BalanceEntry, BankPayout, EnterpriseApplication, RemittanceAccount
from models.review import ReviewItem
from models.verification import Verification, VerificationAttempt
from services.accounts import repository as accounts_repo
from services.accounts.agreements import AcceptanceContext, AgreementKind
from services.checksums import valid_uscc
from services.clock import SHANGHAI, shanghai_day_start
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions
from services.documents import service as documents
from services.errors import Problems, ServiceError, checked
from services.providers.bank import PayoutAccount, PayoutNotSent, PayoutResult, parse_cny, random_amount_fen
from services.providers.business import RegisteredOrganisation, RegistryRefusal, judge
from services.providers.errors import ProviderUnavailable
from services.providers.identity import RegistryAnswer
from services.review import kinds
from services.review import service as review
from services.review.kinds import RejectReason
from services.secretbox import seal
from services.security import keyed_hash, new_token, random_digits, token_hash
from services.sql import ListCount, count_list
from services.text import has_control_characters, is_ascii_digits
from services.uow import Uow
from services.verification import repository as repo
from services.verification import steps
from services.verification.documents import (
    DocumentType,
    Subject,
    check_document_number,
    check_name,
    check_subject,
)
from services.verification.errors import AttemptReason
from services.verification.errors import CallbackErrorCode as Callback
from services.verification.errors import VerificationErrorCode as Code
from services.verification.organisations import TYPES, OrganisationType, is_enterprise, transfer_offered
from services.verification.steps import FACE_TICKET_TTL, MethodStatus, check_agreement

LEGAL_REP_FACE = "legal_rep_face"
BANK_TRANSFER = "bank_transfer"
RECHARGE = "recharge"
MAX_ATTEMPTS = 10  # RNE-2, RNE-4
MAX_WRONG_AMOUNTS = 2  # RNE-5
AMOUNT_WINDOW = timedelta(days=8)  # RNE-4
REMITTANCE_WINDOW = timedelta(days=3)  # RNE-8
QUEUE_DAYS = 2  # RNE-3, RNE-7
KIND = "enterprise_verification"
ORG_NAME_MAX = 128
OPEN_STATES = (
    "face_pending",
    "payout_pending",
    "amount_pending",
    "in_review",
    "waiting_user",
    "remittance_pending",
    "deciding",
)
# Steps that run out: the state they end in when they do, and the reason (read as such at once, swept later).
TIMED_STEPS = {
    "face_pending": ("expired", AttemptReason.FACE_CHECK_EXPIRED),
    "payout_pending": ("failed", AttemptReason.PROVIDER_UNAVAILABLE),
    "amount_pending": ("expired", AttemptReason.AMOUNT_DEADLINE_PASSED),
    "remittance_pending": ("expired", AttemptReason.PAYMENT_NOT_RECEIVED),
}
# A step waiting on an outside provider that never answered (the process stopped) is given up after this.
STALE_STEP = timedelta(minutes=5)
# RNE-4: a payout reference the bank still does not know this long after the request was never paid.
PAYOUT_NOT_FOUND_AFTER = STALE_STEP
PAYOUT_LOOKUPS_PER_ROUND = 100  # beyond the rules: bounds a sweeper round while the bank is down
RECHARGES_PER_DAY = 10  # beyond the rules: each start asks the business registry


class FaceBy(Enum):
    LEGAL_REPRESENTATIVE = "legal_rep"
    AUTHORISED_EMPLOYEE = "employee"  # RNE-3, other organisations only
    HANDLER = "handler"  # RNE-4: the person handling a corporate bank transfer


class LegalRepFaceBy(Enum):
    """Who does the face check of a legal-representative face verification (RNE-2, RNE-3): the values of
    `FaceBy` this method takes (a handler acts in bank transfers only)."""

    LEGAL_REPRESENTATIVE = FaceBy.LEGAL_REPRESENTATIVE.value
    AUTHORISED_EMPLOYEE = FaceBy.AUTHORISED_EMPLOYEE.value


# Where each organisation field is in the inputs (they nest it as `organisation`).
ORG = "organisation"
CERTIFICATE_FIELD = f"{ORG}.certificateUploadId"  # ORG-4


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    uscc: str
    organisation_type: OrganisationType
    legal_rep_name: str
    certificate_document_id: int  # ORG-4: the upload's row ID, not yet known to be the account's


@dataclass(frozen=True, slots=True)
class OrganisationInput:
    name: str
    uscc: str
    organisation_type: OrganisationType
    legal_rep_name: str
    # ORG-4: the upload's row ID of the certificate image; None when none was given, a number that names no
    # row when it was malformed.
    certificate_document_id: int | None = None


@dataclass(frozen=True, slots=True)
class LegalRepFaceInput:
    organisation: OrganisationInput
    legal_rep_id_number: str | None
    face_by: LegalRepFaceBy
    employee_name: str | None
    employee_id_number: str | None
    # The upload's row ID; None when none was given, a number that names no row when it was malformed.
    authorisation_document_id: int | None
    agreement_version: str


@dataclass(frozen=True, slots=True)
class BankTransferInput:
    organisation: OrganisationInput
    bank_name: str
    account_number: str
    handler_name: str
    handler_id_number: str
    agreement_version: str


@dataclass(frozen=True, slots=True)
class RechargeInput:
    organisation: OrganisationInput
    code: str | None
    agreement_version: str


@dataclass(frozen=True, slots=True)
class Started:
    application: EnterpriseApplication
    attempt: VerificationAttempt
    face_url: str | None = None
    face_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Claim:
    organisation: Organisation
    actor: Subject | None  # who does the face check
    version: str
    authorisation_document_id: int | None = None
    bank_name: str | None = None
    account_number: str | None = None
    # The input fields of the actor's name and ID number, where the identity registry's answer points.
    actor_fields: tuple[str, str] | None = None


# --- local checks ------------------------------------------------------------------------------


def _today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def _organisation_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > ORG_NAME_MAX or has_control_characters(raw):  # one line, no NUL
        raise ServiceError(
            Code.ORGANISATION_NAME_INVALID,
            f"Enter the organisation's registered name (at most {ORG_NAME_MAX}).",
            f"{ORG}.name",
        )
    return name


def _uscc(raw: str) -> str:
    uscc = "".join((raw or "").split()).upper()
    # GB 32100: checked before any registry call, never an attempt (RNE-2, RNE-9).
    if not valid_uscc(uscc):
        raise ServiceError(
            Code.USCC_INVALID,
            "This is not a valid unified social credit code (check the last character).",
            f"{ORG}.uscc",
        )
    return uscc


def check_organisation(data: OrganisationInput) -> Organisation:
    """RNE-9's local checks of the organisation, every problem at once (paths under `organisation`)."""
    problems = Problems()
    name = checked(problems, _organisation_name, data.name)
    uscc = checked(problems, _uscc, data.uscc)
    legal_rep = checked(problems, check_name, data.legal_rep_name, f"{ORG}.legalRepresentativeName")
    # ORG-4: every organisation's verification carries the image of the certificate named for its type.
    if data.certificate_document_id is None:
        certificate = TYPES[data.organisation_type]
        problems.add(
            Code.CERTIFICATE_REQUIRED,
            f"Upload a colour photo or scan of the {certificate.certificate_en.lower()} ({certificate.certificate_zh}), "
            "or a copy bearing a fresh company stamp.",
            CERTIFICATE_FIELD,
        )
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert name is not None
    assert uscc is not None
    assert legal_rep is not None
    assert data.certificate_document_id is not None
    return Organisation(name, uscc, data.organisation_type, legal_rep, data.certificate_document_id)


def _person(name: str | None, number: str | None, now: datetime, name_field: str, number_field: str) -> Subject:
    return check_subject(
        name or "",
        DocumentType.MAINLAND_ID_CARD,
        number or "",
        _today(now),
        name_field=name_field,
        number_field=number_field,
    )


def _refused_if_any(problems: Problems) -> None:
    if (refusal := problems.refusal()) is not None:
        raise refusal


def check_legal_rep_face(data: LegalRepFaceInput, now: datetime) -> _Claim:
    """RNE-2, RNE-3, RN-6: every problem of the form at once; none of them is an attempt."""
    problems = Problems()
    organisation = checked(problems, check_organisation, data.organisation)
    actor: Subject | None = None
    fields: tuple[str, str]
    if data.face_by is LegalRepFaceBy.LEGAL_REPRESENTATIVE:
        fields = (f"{ORG}.legalRepresentativeName", "legalRepresentativeIdNumber")
        number = checked(
            problems,
            check_document_number,
            DocumentType.MAINLAND_ID_CARD,
            data.legal_rep_id_number or "",
            _today(now),
            fields[1],
        )
        if organisation is not None and number is not None:
            actor = Subject(organisation.legal_rep_name, DocumentType.MAINLAND_ID_CARD, number)
    # RNE-3: an authorised employee only for other organisations, with the signed authorisation letter.
    elif is_enterprise(data.organisation.organisation_type):
        fields = ("employeeName", "employeeIdNumber")
        problems.add(
            Code.AUTHORISED_EMPLOYEE_NOT_ALLOWED,
            "An enterprise is verified by its legal representative's face; employees act for other organisations only.",
            "faceBy",
        )
    else:
        fields = ("employeeName", "employeeIdNumber")
        actor = checked(problems, _person, data.employee_name, data.employee_id_number, now, *fields)
        if data.authorisation_document_id is None:
            problems.add(
                Code.AUTHORISATION_LETTER_REQUIRED,
                "Upload the authorisation letter signed by the legal representative and stamped (template: "
                "/downloads/authorisation-letter).",
                "authorisationLetterUploadId",
            )
    version = checked(problems, check_agreement, data.agreement_version)
    _refused_if_any(problems)
    assert organisation is not None
    assert actor is not None
    assert version is not None
    letter = data.authorisation_document_id if data.face_by is LegalRepFaceBy.AUTHORISED_EMPLOYEE else None
    return _Claim(organisation, actor, version, authorisation_document_id=letter, actor_fields=fields)


def _bank_name(raw: str, bank_names: tuple[str, ...]) -> str:
    bank = (raw or "").strip()
    if bank not in bank_names:  # RNE-9: the opening bank comes from the list the service offers
        raise ServiceError(Code.BANK_NAME_WRONG, "Choose the opening bank from the `banks` list.", "bankName")
    return bank


def _account_number(raw: str) -> str:
    number = "".join((raw or "").split()).replace("-", "")
    if not is_ascii_digits(number) or not 6 <= len(number) <= 32:
        raise ServiceError(Code.ACCOUNT_NUMBER_INVALID, "Enter the corporate account number (digits).", "accountNumber")
    return number


def check_bank_transfer(data: BankTransferInput, now: datetime, bank_names: tuple[str, ...]) -> _Claim:
    """RNE-4, RNE-6, RNE-9, RN-6: every problem of the form at once; none of them is an attempt."""
    problems = Problems()
    organisation = checked(problems, check_organisation, data.organisation)
    # RNE-6: not offered to public institutions (payment-licence holders are known after the registry).
    if not transfer_offered(data.organisation.organisation_type, False):
        problems.add(
            Code.METHOD_NOT_OFFERED,
            "Corporate bank transfer is not offered to public institutions; use legal-representative face or recharge.",
            f"{ORG}.organisationType",
        )
    bank = checked(problems, _bank_name, data.bank_name, bank_names)
    number = checked(problems, _account_number, data.account_number)
    fields = ("handlerName", "handlerIdNumber")
    actor = checked(problems, _person, data.handler_name, data.handler_id_number, now, *fields)
    version = checked(problems, check_agreement, data.agreement_version)
    _refused_if_any(problems)
    assert organisation is not None
    assert actor is not None
    assert version is not None
    return _Claim(organisation, actor, version, bank_name=bank, account_number=number, actor_fields=fields)


def check_recharge(data: RechargeInput) -> _Claim:
    """RNE-8, RNE-9, RN-6: every problem of the form at once."""
    problems = Problems()
    organisation = checked(problems, check_organisation, data.organisation)
    if data.code:
        checked(problems, codes.check_format, data.code)
    version = checked(problems, check_agreement, data.agreement_version)
    _refused_if_any(problems)
    assert organisation is not None
    assert version is not None
    return _Claim(organisation, None, version)


# --- claiming and deciding -------------------------------------------------------------------------


def _attempts_exhausted(method: str) -> ServiceError:
    label = "legal-representative face" if method == LEGAL_REP_FACE else "bank-transfer"
    return ServiceError(
        Code.ENTERPRISE_ATTEMPTS_EXHAUSTED,
        f"The {MAX_ATTEMPTS} {label} attempts of this account are used up; try another method.",
        None,
        attempts_remaining=0,
    )


async def _attempts_left(uow: Uow, account_id: int, method: str) -> int | None:
    if method == RECHARGE:
        return None
    return max(0, MAX_ATTEMPTS - (await repo.method_attempts(uow, account_id)).get(method, 0))


async def _move(
    uow: Uow, application_id: int, from_states: tuple[str, ...], to: str, **values: object
) -> EnterpriseApplication | None:
    """Move an application on, once: a conditional UPDATE, so of two racing deciders (a user, a reviewer,
    the sweeper, a payment) exactly one wins; the others get None and change nothing.

    Every writer of an account's verification rows locks the account row first (PostgreSQL): one lock
    order, so no deadlocks, also with the foreign-key checks PostgreSQL makes on rows it just updated."""
    account_id = await uow.session.scalar(
        select(EnterpriseApplication.account_id).where(EnterpriseApplication.id == application_id)
    )
    if account_id is None:
        return None
    await accounts_repo.lock_account(uow, account_id)
    moved = await uow.session.execute(
        update(EnterpriseApplication)
        .where(EnterpriseApplication.id == application_id, EnterpriseApplication.state.in_(from_states))
        .values(state=to, **values)
        .returning(EnterpriseApplication.id)
    )
    if moved.scalar_one_or_none() is None:
        return None
    return await _application(uow, application_id)


ATTEMPT_OUTCOME = {"failed": "failed", "rejected": "failed", "expired": "expired"}


async def _close(
    uow: Uow, application: EnterpriseApplication, reason: AttemptReason, *, give_back: bool = False
) -> None:
    """The application was moved to an end state by this caller: record why, and end its attempt (RN-7)."""
    now = uow.now()
    application.reason, application.decided_at, application.step_expires_at = reason.value, now, None
    attempt = await uow.session.get(VerificationAttempt, application.attempt_id, populate_existing=True)
    assert attempt is not None
    if attempt.outcome in ("pending", "deciding"):
        outcome = "error" if reason is AttemptReason.PROVIDER_UNAVAILABLE else ATTEMPT_OUTCOME[application.state]
        steps.end(attempt, outcome, reason)
        attempt.completed_at = now
    if give_back and attempt.counted:
        await repo.give_back_method_attempt(uow, application.account_id, application.method)
        attempt.counted = False
    await uow.session.flush()


async def _end(
    uow: Uow,
    application_id: int,
    from_states: tuple[str, ...],
    to: str,
    reason: AttemptReason,
    *,
    give_back: bool = False,
) -> EnterpriseApplication | None:
    application = await _move(uow, application_id, from_states, to)
    if application is not None:
        await _close(uow, application, reason, give_back=give_back)
    return application


async def _expire_overdue(uow: Uow, account_id: int | None = None) -> int:
    """End every step that ran out (of one account, or all): the rule's own state and reason."""
    now = uow.now()
    stmt = select(EnterpriseApplication.id, EnterpriseApplication.state, EnterpriseApplication.amount_fen).where(
        EnterpriseApplication.state.in_(TIMED_STEPS), EnterpriseApplication.step_expires_at <= now
    )
    if account_id is not None:
        stmt = stmt.where(EnterpriseApplication.account_id == account_id)
    ended = 0
    for application_id, state, amount in (await uow.session.execute(stmt)).all():
        to, reason = TIMED_STEPS[state]
        if state == "remittance_pending" and amount is None:  # the registry never answered
            to, reason = "failed", AttemptReason.PROVIDER_UNAVAILABLE
        if await _end(uow, application_id, (state,), to, reason, give_back=to == "failed") is not None:
            ended += 1
    return ended


async def _open_application(uow: Uow, account_id: int) -> int | None:
    """The account's application in progress, if any; an open face check is superseded instead."""
    await _expire_overdue(uow, account_id)
    faces = await uow.session.scalars(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.account_id == account_id, EnterpriseApplication.state == "face_pending"
        )
    )
    for application_id in list(faces):
        await _end(uow, application_id, ("face_pending",), "expired", AttemptReason.SUPERSEDED)
    return await uow.session.scalar(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.account_id == account_id, EnterpriseApplication.state.in_(OPEN_STATES)
        )
    )


def _superseded() -> ServiceError:
    return ServiceError(
        Code.APPLICATION_SUPERSEDED,
        "A newer start of this account replaced this one while it was being checked (or it ran out); the newer one "
        "stands.",
        None,
    )


def _in_progress() -> ServiceError:
    return ServiceError(
        Code.APPLICATION_IN_PROGRESS,
        "An enterprise verification of this account is in progress (payout, amount, review or remittance); "
        "finish it first.",
        None,
    )


async def _claim(uow: Uow, account_id: int, method: str, claim: _Claim) -> tuple[int, int]:
    """The first write: limits, the attempt line and the application, atomically per account."""
    await accounts_repo.lock_account(uow, account_id)
    if await repo.verification_of(uow, account_id) is not None:  # RN-5
        raise steps.already_verified()
    if await _open_application(uow, account_id) is not None:
        raise _in_progress()
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
    # RNE-2 / RNE-4: at most 10 attempts per account and method, counted atomically.
    elif await repo.take_method_attempt(uow, account_id, method, MAX_ATTEMPTS) is None:
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
        counted=method != RECHARGE,
        created_at=now,
        ticket_expires_at=now + FACE_TICKET_TTL if actor else None,
    )
    uow.session.add(attempt)
    await uow.session.flush()
    application = EnterpriseApplication(
        account_id=account_id,
        attempt_id=attempt.id,
        method=method,
        state="face_pending" if actor else "remittance_pending",
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
    # The identity registry's answers point at the actor's fields (`_Claim.actor_fields`).
    AttemptReason.NAME_MISMATCH: ("The name does not match the ID number.", None),
    AttemptReason.IDENTITY_NOT_FOUND: ("No such ID number in the identity registry.", None),
    AttemptReason.PAYMENT_LICENCE_HOLDER: (
        "Corporate bank transfer is not offered to holders of a third-party payment licence (RNE-6).",
        None,
    ),
    AttemptReason.AMOUNT_WRONG_TWICE: ("The amount was entered wrongly twice; start a new verification.", "amount"),
    AttemptReason.AMOUNT_DEADLINE_PASSED: ("The amount was not confirmed within 8 days.", "amount"),
}


async def _refuse(
    uow: Uow,
    application_id: int,
    reason: AttemptReason,
    from_states: tuple[str, ...],
    give_back: bool = False,
    field: str | None = None,
) -> NoReturn:
    application = await _end(uow, application_id, from_states, "failed", reason, give_back=give_back)
    if application is None:
        raise _superseded()
    raise _refusal(reason, await _attempts_left(uow, application.account_id, application.method), field)


def _refusal(reason: AttemptReason, attempts_remaining: int | None, field: str | None = None) -> ServiceError:
    message, default_field = REASON_FIELD[reason]
    if attempts_remaining is not None:
        message += f" {attempts_remaining} attempts of this method left."
    return ServiceError(
        Code[reason.value], message, field or default_field, persist=True, attempts_remaining=attempts_remaining
    )


async def _provider_failed(
    uow: Uow, application_id: int, from_states: tuple[str, ...], code_id: int | None = None
) -> NoReturn:
    """Nothing was decided: the attempt is recorded as an error and given back, with the SMS code."""
    application = await _end(
        uow, application_id, from_states, "failed", AttemptReason.PROVIDER_UNAVAILABLE, give_back=True
    )
    if application is None:
        raise _superseded()
    if code_id is not None:
        await codes.give_back(uow, code_id)
    raise steps.unavailable(persist=True)


async def _application(uow: Uow, application_id: int) -> EnterpriseApplication:
    found = await uow.session.get(EnterpriseApplication, application_id, populate_existing=True)
    assert found is not None
    return found


async def _check_registry(
    tx: Transactions, application_id: int, claim: _Claim, state: str
) -> RegisteredOrganisation | ServiceError:
    """RNE-9: the business registry, then the identity registry for whoever does the face check."""
    providers = tx.deps.providers
    today = _today(tx.deps.clock.now())
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
            return await tx.write(_refuse, application_id, REFUSAL_REASON[refusal], (state,))
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
                return await tx.write(_refuse, application_id, reason, (state,), field=field)
    except ProviderUnavailable:
        return await tx.write(_provider_failed, application_id, (state,))
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
        return await tx.write(_provider_failed, application_id, ("face_pending",))
    opened = await tx.write(_set_ticket, application_id, attempt_id, ticket)
    if isinstance(opened, ServiceError):
        return opened
    return url, opened


async def _set_ticket(uow: Uow, application_id: int, attempt_id: int, ticket: str) -> datetime:
    expires = uow.now() + FACE_TICKET_TTL
    if await _move(uow, application_id, ("face_pending",), "face_pending", step_expires_at=expires) is None:
        raise _superseded()
    done = await uow.session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.id == attempt_id, VerificationAttempt.outcome == "pending")
        .values(ticket_hash=token_hash(ticket), ticket_expires_at=expires)
        .returning(VerificationAttempt.id)
    )
    if done.scalar_one_or_none() is None:
        raise steps.unavailable()
    return expires


async def _mark_registry_facts(uow: Uow, application_id: int, risk_hit: bool) -> None:
    application = await _application(uow, application_id)
    application.risk_hit = risk_hit
    await uow.session.flush()


async def _started(uow: Uow, application_id: int) -> tuple[EnterpriseApplication, VerificationAttempt]:
    application = await _application(uow, application_id)
    attempt = await uow.session.get(VerificationAttempt, application.attempt_id, populate_existing=True)
    assert attempt is not None
    return application, attempt


# --- legal-representative face (RNE-2, RNE-3) ----------------------------------------------------


async def start_legal_rep_face(tx: Transactions, account_id: int, data: LegalRepFaceInput) -> Started | ServiceError:
    try:
        claim = check_legal_rep_face(data, tx.deps.clock.now())
    except ServiceError as err:
        return err
    return await _start_with_face(tx, account_id, LEGAL_REP_FACE, claim)


async def start_bank_transfer(tx: Transactions, account_id: int, data: BankTransferInput) -> Started | ServiceError:
    try:
        claim = check_bank_transfer(data, tx.deps.clock.now(), tx.deps.providers.bank.bank_names())
    except ServiceError as err:
        return err
    return await _start_with_face(tx, account_id, BANK_TRANSFER, claim)


async def _start_with_face(tx: Transactions, account_id: int, method: str, claim: _Claim) -> Started | ServiceError:
    claimed = await tx.write(_claim, account_id, method, claim)
    if isinstance(claimed, ServiceError):
        return claimed
    application_id, attempt_id = claimed
    assert claim.actor is not None
    found = await _check_registry(tx, application_id, claim, "face_pending")
    if isinstance(found, ServiceError):
        return found
    # RNE-6: payment-licence holders are not offered the transfer; not counted against the account.
    if method == BANK_TRANSFER and not transfer_offered(found.organisation_type, found.payment_licence):
        return await tx.write(_refuse, application_id, AttemptReason.PAYMENT_LICENCE_HOLDER, ("face_pending",), True)
    marked = await tx.write(_mark_registry_facts, application_id, found.risk_hit)
    if isinstance(marked, ServiceError):
        return marked
    opened = await _open_face(tx, application_id, attempt_id, claim.actor)
    if isinstance(opened, ServiceError):
        return opened
    url, expires = opened
    application, attempt = await tx.read(_started, application_id)
    return Started(application, attempt, url, expires)


async def face_completed(uow: Uow, attempt: VerificationAttempt, passed: bool) -> None:
    """The liveness outcome of an enterprise attempt (called by `personal.complete_face_check`, which took
    the attempt). The ticket is used up either way."""
    application_id = await uow.session.scalar(
        select(EnterpriseApplication.id).where(EnterpriseApplication.attempt_id == attempt.id)
    )
    assert application_id is not None
    attempt.outcome, attempt.ticket_expires_at = "pending", None  # the application decides it from here
    await uow.session.flush()
    if not passed:
        if await _end(uow, application_id, ("face_pending",), "failed", AttemptReason.FACE_CHECK_FAILED) is None:
            steps.end(attempt, "expired", AttemptReason.SUPERSEDED)
        return
    application = await _application(uow, application_id)
    now = uow.now()
    if application.method == BANK_TRANSFER:
        # RNE-4: the handler passed; the payout follows outside this transaction (`pay_out`).
        moved = await _move(uow, application_id, ("face_pending",), "payout_pending", step_expires_at=now + STALE_STEP)
    elif is_enterprise(OrganisationType(application.organisation_type)):
        moved = await _move(uow, application_id, ("face_pending",), "deciding", step_expires_at=None)
        if moved is not None:
            await _verify(uow, moved, attempt)
    else:
        # RNE-3: another organisation's passed face check goes to the 2-working-day review queue.
        moved = await _move(uow, application_id, ("face_pending",), "in_review", step_expires_at=None)
        if moved is not None:
            await _submit_review(uow, moved)
    if moved is None:  # superseded or expired meanwhile
        steps.end(attempt, "expired", AttemptReason.SUPERSEDED)


async def _submit_review(uow: Uow, application: EnterpriseApplication) -> None:
    item = await review.submit(
        uow, kind=KIND, subject_id=application.id, account_id=application.account_id, queue_days=QUEUE_DAYS
    )
    application.review_item_id = item.id
    await uow.session.flush()


async def _verify(uow: Uow, application: EnterpriseApplication, attempt: VerificationAttempt) -> bool:
    """The application (moved to `deciding` by this caller) verifies the account as the organisation
    (RN-1), unless the account is verified already (RN-5)."""
    now = uow.now()
    if await repo.verification_of(uow, application.account_id) is not None:
        application.state = "failed"
        await _close(uow, application, AttemptReason.ALREADY_VERIFIED)
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
        application = await _application(uow, application.id)
        application.state = "failed"
        await _close(uow, application, AttemptReason.ALREADY_VERIFIED)
        return False
    steps.end(attempt, "passed")
    attempt.completed_at = now
    application.state, application.reason, application.decided_at = "verified", None, now
    application.step_expires_at = None
    await uow.session.flush()
    return True


# --- corporate bank transfer (RNE-4..7) ----------------------------------------------------------


async def after_face_check(tx: Transactions, attempt: VerificationAttempt) -> None:
    """What follows a face outcome outside its transaction: the payout of a bank transfer (RNE-4).
    Its refusals are recorded on the application, where the user reads them."""
    if attempt.subject_type != "enterprise" or attempt.method != BANK_TRANSFER or attempt.outcome != "pending":
        return
    found = await tx.read(application_of_attempt, attempt.id)
    if found is not None:
        await pay_out(tx, found[0].id)


@dataclass(frozen=True, slots=True)
class _PayoutRequest:
    reference: str
    account: PayoutAccount
    amount_fen: int
    requested_at: datetime


def _payout_reference(application_id: int) -> str:
    return f"ACV{application_id:010d}"


async def pay_out(tx: Transactions, application_id: int) -> EnterpriseApplication | ServiceError:
    """RNE-4: pay a random 0.01-1.00 CNY into the corporate account once the handler passed, exactly once.

    The payout and its reference are written before the bank is asked (`_request_payout`), by one caller
    only. When the request fails it may still have paid: the payout is then looked up by its reference
    (`resolve_payout`: now, later by the sweeper or when the user enters an amount), never paid again."""
    requested = await tx.write(_request_payout, application_id)
    if isinstance(requested, ServiceError):
        return requested
    if requested is None:  # not waiting for a payout, or another caller requested it (and pays)
        return await tx.read(_application, application_id)
    try:
        result = await steps.ask(
            tx, tx.deps.providers.bank.pay(requested.reference, requested.account, requested.amount_fen)
        )
    except PayoutNotSent:  # certainly nothing paid: nothing decided, the attempt is given back
        return await tx.write(_payout_not_made, application_id)
    except ProviderUnavailable:  # timed out or failed after sending: it may have paid
        return await resolve_payout(tx, application_id)
    return await _settle(tx, application_id, result)


async def _request_payout(uow: Uow, application_id: int) -> _PayoutRequest | None:
    """The payout's reference and amount, stored before the bank is asked; None when there is nothing to
    pay (the step ran out or ended) or another caller requested it already. The payout step no longer runs
    out on its own (`step_expires_at` is cleared): it ends when the bank's answer is known."""
    account_id = await uow.session.scalar(
        select(EnterpriseApplication.account_id).where(EnterpriseApplication.id == application_id)
    )
    if account_id is None:
        return None
    await accounts_repo.lock_account(uow, account_id)
    now = uow.now()
    claimed = await uow.session.execute(
        update(EnterpriseApplication)
        .where(
            EnterpriseApplication.id == application_id,
            EnterpriseApplication.state == "payout_pending",
            EnterpriseApplication.step_expires_at > now,
        )
        .values(step_expires_at=None)
        .returning(EnterpriseApplication.id)
    )
    if claimed.scalar_one_or_none() is None:
        return None
    application = await _application(uow, application_id)
    assert application.bank_name is not None
    assert application.account_number is not None
    payout = BankPayout(
        application_id=application_id,
        bank_name=application.bank_name,
        account_name=application.organisation_name,
        account_number=application.account_number,
        amount_fen=random_amount_fen(),
        reference=_payout_reference(application_id),
        status="requested",
        requested_at=now,
    )
    uow.session.add(payout)
    await uow.session.flush()
    return _request_of(payout)


def _request_of(payout: BankPayout) -> _PayoutRequest:
    return _PayoutRequest(
        payout.reference,
        PayoutAccount(payout.bank_name, payout.account_name, payout.account_number),
        payout.amount_fen,
        payout.requested_at,
    )


async def _requested_payout(uow: Uow, application_id: int) -> _PayoutRequest | None:
    payout = await uow.session.scalar(
        select(BankPayout).where(BankPayout.application_id == application_id, BankPayout.status == "requested")
    )
    return None if payout is None else _request_of(payout)


async def resolve_payout(tx: Transactions, application_id: int) -> EnterpriseApplication | ServiceError:
    """RNE-4: a payout whose request failed is found by its reference, never paid again. Unknown to the bank
    `PAYOUT_NOT_FOUND_AFTER` after the request, it was never made: the attempt ends as the provider's failure
    and is given back. While the bank cannot answer, the verification stays PAYOUT_PENDING."""
    requested = await tx.read(_requested_payout, application_id)
    if requested is None:
        return await tx.read(_application, application_id)
    try:
        found = await steps.ask(tx, tx.deps.providers.bank.lookup(requested.reference))
    except ProviderUnavailable:
        return await tx.read(_application, application_id)
    if found is None:
        if requested.requested_at + PAYOUT_NOT_FOUND_AFTER <= tx.deps.clock.now():
            return await tx.write(_payout_not_made, application_id)
        return await tx.read(_application, application_id)
    return await _settle(tx, application_id, found)


async def resolve_payout_of(tx: Transactions, account_id: int, application_id: int) -> None:
    """Before the user's amount is judged: resolve the account's payout whose outcome is unknown."""
    found = await tx.read(application_of_account, account_id, application_id)
    if found is not None and found[0].state == "payout_pending" and found[0].step_expires_at is None:
        await resolve_payout(tx, application_id)


async def resolve_payouts(tx: Transactions) -> int:
    """The sweeper's part (RNE-4): look up the payouts whose outcome is still unknown, oldest first and at most
    `PAYOUT_LOOKUPS_PER_ROUND` (each may wait for the bank's time-out); how many were resolved."""
    ids = await tx.read(_unresolved_payouts)
    resolved = 0
    for application_id in ids:
        if await tx.read(_requested_payout, application_id) is None:
            continue  # resolved meanwhile
        await resolve_payout(tx, application_id)
        if await tx.read(_requested_payout, application_id) is None:
            resolved += 1
    return resolved


async def _unresolved_payouts(uow: Uow) -> list[int]:
    rows = await uow.session.scalars(
        select(BankPayout.application_id)
        .where(BankPayout.status == "requested")
        .order_by(BankPayout.requested_at)
        .limit(PAYOUT_LOOKUPS_PER_ROUND)
    )
    return list(rows)


async def _settle(tx: Transactions, application_id: int, result: PayoutResult) -> EnterpriseApplication | ServiceError:
    if result.refusal is not None:  # RNE-9: the bank's reason is the verification's `failureReason`
        return await tx.write(_payout_refused, application_id, AttemptReason[result.refusal.value])
    return await tx.write(_paid, application_id, result)


async def _close_payout(uow: Uow, application_id: int, status: str, **values: object) -> BankPayout | None:
    """Record the bank's answer on the requested payout, once (the caller locked the account)."""
    moved = await uow.session.execute(
        update(BankPayout)
        .where(BankPayout.application_id == application_id, BankPayout.status == "requested")
        .values(status=status, **values)
        .returning(BankPayout.id)
    )
    payout_id = moved.scalar_one_or_none()
    return None if payout_id is None else await uow.session.get(BankPayout, payout_id, populate_existing=True)


async def _paid(uow: Uow, application_id: int, result: PayoutResult) -> EnterpriseApplication:
    """RNE-4: the bank paid; the 8 days to enter the amount run from the money's arrival in the account."""
    now = uow.now()
    sent = result.sent_at or now
    arrives = result.arrives_at or sent
    deadline = arrives + AMOUNT_WINDOW
    application = await _move(
        uow,
        application_id,
        ("payout_pending",),
        "amount_pending",
        payout_arrives_at=arrives,
        amount_deadline=deadline,
        step_expires_at=deadline,
    )
    # The money went out whatever became of the verification meanwhile: the statement shows it.
    payout = await _close_payout(uow, application_id, "paid", paid_at=sent, arrives_at=arrives)
    if application is None:
        return await _application(uow, application_id)
    if payout is None:  # another caller settled it first and moved it on
        return application
    application.amount_fen = payout.amount_fen
    await uow.session.flush()
    return application


async def _payout_refused(uow: Uow, application_id: int, reason: AttemptReason) -> EnterpriseApplication:
    """The bank refused (RNE-9): recorded on the verification, where the user reads it; nobody is answered."""
    application = await _end(uow, application_id, ("payout_pending",), "failed", reason)
    await _close_payout(uow, application_id, "refused")
    return application if application is not None else await _application(uow, application_id)


async def _payout_not_made(uow: Uow, application_id: int) -> EnterpriseApplication:
    """No payout was made: nothing decided, the attempt ends as the provider's failure and is given back."""
    application = await _end(
        uow, application_id, ("payout_pending",), "failed", AttemptReason.PROVIDER_UNAVAILABLE, give_back=True
    )
    await _close_payout(uow, application_id, "not_found")
    return application if application is not None else await _application(uow, application_id)


def _payout_not_arrived(retry_after: int | None) -> ServiceError:
    return ServiceError(
        Code.PAYOUT_NOT_ARRIVED,
        "The payout has not arrived in the corporate account yet (see payoutArrivedAt); enter the amount once it "
        "has. Nothing was counted.",
        "id",
        retry_after=retry_after,
    )


def _not_awaiting_amount() -> ServiceError:
    return ServiceError(Code.NOT_AWAITING_AMOUNT, "This verification is not waiting for an amount.", "id")


async def confirm_amount(uow: Uow, account_id: int, application_id: int, amount_text: str) -> EnterpriseApplication:
    """RNE-4, RNE-5, RNE-7: the amount received, within 8 days; two wrong entries fail it."""
    amount = parse_cny(amount_text or "")
    if amount is None or not 1 <= amount <= 100:
        raise ServiceError(
            Code.AMOUNT_FORMAT_INVALID, "Enter the amount received, in CNY between 0.01 and 1.00 (e.g. 0.37).", "amount"
        )
    application = await uow.session.get(EnterpriseApplication, application_id, populate_existing=True)
    if application is None or application.account_id != account_id:
        raise ServiceError(Code.APPLICATION_NOT_FOUND, "No such enterprise verification.", "id")
    now = uow.now()
    if application.state == "payout_pending" and shown_state(application, now) == "payout_pending":
        raise _payout_not_arrived(None)
    if application.state != "amount_pending":
        raise _not_awaiting_amount()
    # RNE-4: the amount can only be read once it is in the account; refused before, and nothing counted.
    arrives = application.payout_arrives_at
    if arrives is not None and arrives > now:
        raise _payout_not_arrived(max(1, math.ceil((arrives - now).total_seconds())))
    assert application.step_expires_at is not None
    if application.step_expires_at <= now:
        reason = AttemptReason.AMOUNT_DEADLINE_PASSED
        if await _end(uow, application.id, ("amount_pending",), "expired", reason) is None:
            raise _not_awaiting_amount()
        raise _refusal(reason, None)
    if amount != application.amount_fen:
        counted = await uow.session.execute(
            update(EnterpriseApplication)
            .where(
                EnterpriseApplication.id == application.id,
                EnterpriseApplication.state == "amount_pending",
                EnterpriseApplication.wrong_amount_entries < MAX_WRONG_AMOUNTS,
            )
            .values(wrong_amount_entries=EnterpriseApplication.wrong_amount_entries + 1)
            .returning(EnterpriseApplication.wrong_amount_entries)
        )
        wrong = counted.scalar_one_or_none()
        if wrong is None:
            raise _not_awaiting_amount()
        if wrong >= MAX_WRONG_AMOUNTS:  # RNE-5: the second wrong amount fails this verification
            reason = AttemptReason.AMOUNT_WRONG_TWICE
            if await _end(uow, application.id, ("amount_pending",), "failed", reason) is None:
                raise _not_awaiting_amount()
            raise _refusal(reason, await _attempts_left(uow, account_id, BANK_TRANSFER))
        raise ServiceError(
            Code.AMOUNT_WRONG,
            f"This is not the amount paid; {MAX_WRONG_AMOUNTS - wrong} try left.",
            "amount",
            persist=True,
            attempts_remaining=MAX_WRONG_AMOUNTS - wrong,
        )
    if application.risk_hit:  # RNE-7: a right amount with a risk hit goes to review instead
        moved = await _move(uow, application.id, ("amount_pending",), "in_review", step_expires_at=None)
        if moved is None:
            raise _not_awaiting_amount()
        await _submit_review(uow, moved)
        return moved
    moved = await _move(uow, application.id, ("amount_pending",), "deciding", step_expires_at=None)
    if moved is None:
        raise _not_awaiting_amount()
    attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
    assert attempt is not None
    await _verify(uow, moved, attempt)
    return moved


# --- recharge (RNE-8) ------------------------------------------------------------------------------


async def start_recharge(tx: Transactions, account_id: int, data: RechargeInput) -> Started | ServiceError:
    try:
        claim = check_recharge(data)
    except ServiceError as err:
        return err
    organisation = claim.organisation
    claimed = await tx.write(_claim_recharge, account_id, claim, data.code)
    if isinstance(claimed, ServiceError):
        return claimed
    application_id, code_id = claimed
    try:
        found = await _check_registry_for_recharge(tx, application_id, organisation)
    except ProviderUnavailable:
        return await tx.write(_provider_failed, application_id, ("remittance_pending",), code_id)
    if isinstance(found, ServiceError):
        return found
    started = await tx.write(_await_remittance, application_id)
    if isinstance(started, ServiceError):
        return started
    application, attempt = await tx.read(_started, application_id)
    return Started(application, attempt)


async def _check_registry_for_recharge(
    tx: Transactions, application_id: int, org: Organisation
) -> RegisteredOrganisation | ServiceError:
    today = _today(tx.deps.clock.now())
    found = await steps.ask(
        tx,
        tx.deps.providers.business.look_up(
            uscc=org.uscc, name=org.name, legal_representative=org.legal_rep_name, today=today
        ),
    )
    refusal = judge(
        found, chosen_type=org.organisation_type, legal_representative=org.legal_rep_name, today=today, name=org.name
    )
    if refusal is not None:
        return await tx.write(_refuse, application_id, REFUSAL_REASON[refusal], ("remittance_pending",))
    assert found is not None
    return found


async def _claim_recharge(uow: Uow, account_id: int, claim: _Claim, code: str | None) -> tuple[int, int | None]:
    await accounts_repo.lock_account(uow, account_id)
    if await repo.verification_of(uow, account_id) is not None:  # RN-5
        raise steps.already_verified()
    if await _open_application(uow, account_id) is not None:
        raise _in_progress()
    code_id: int | None = None
    account = await accounts_repo.get(uow, account_id)
    assert account is not None
    remittance = await uow.session.scalar(select(RemittanceAccount).where(RemittanceAccount.account_id == account_id))
    if remittance is None:
        # RNE-8: the dedicated remittance account is created after an SMS code to the bound phone.
        if not code:
            raise ServiceError(
                Code.CODE_REQUIRED,
                "Send a REMITTANCE_ACCOUNT code to the bound phone and enter it: a dedicated remittance account "
                "is created for this account.",
                "code",
            )
        code_id = await codes.verify(uow, destination=account.phone, purpose=CodePurpose.REMITTANCE_ACCOUNT, code=code)
        remittance = RemittanceAccount(account_id=account_id, number="6216" + random_digits(15), created_at=uow.now())
        uow.session.add(remittance)
        await uow.session.flush()
    application_id, _ = await _claim(uow, account_id, RECHARGE, claim)
    application = await _application(uow, application_id)
    application.remittance_account_id = remittance.id
    await uow.session.flush()
    return application_id, code_id


async def _await_remittance(uow: Uow, application_id: int) -> EnterpriseApplication:
    deadline = uow.now() + REMITTANCE_WINDOW
    application = await _move(
        uow,
        application_id,
        ("remittance_pending",),
        "remittance_pending",
        amount_fen=random_amount_fen(),
        amount_deadline=deadline,
        step_expires_at=deadline,
    )
    if application is None:
        raise steps.unavailable()
    return application


@dataclass(frozen=True, slots=True)
class RemittanceOutcome:
    credited_fen: int
    application: EnterpriseApplication | None
    note: str


async def remittance_received(
    uow: Uow, *, payer_account_name: str, payer_account_number: str, amount_text: str, to_account: str
) -> RemittanceOutcome:
    """An incoming payment into a dedicated remittance account (RNE-8). The money is credited to the
    balance in every case; a pending application is verified by an exact match in time, else rejected."""
    amount = parse_cny(amount_text or "")
    if amount is None or amount <= 0:
        raise ServiceError(
            Callback.AMOUNT_FORMAT_INVALID, "The amount must be positive CNY with two decimals.", "amount"
        )
    remittance = await uow.session.scalar(select(RemittanceAccount).where(RemittanceAccount.number == to_account))
    if remittance is None:
        raise ServiceError(Callback.REMITTANCE_ACCOUNT_NOT_FOUND, "No such remittance account.", "to_account")
    await accounts_repo.lock_account(uow, remittance.account_id)
    now = uow.now()
    application = await uow.session.scalar(
        select(EnterpriseApplication)
        .where(EnterpriseApplication.remittance_account_id == remittance.id, EnterpriseApplication.method == RECHARGE)
        .order_by(EnterpriseApplication.id.desc())
        .limit(1)
    )
    note = "unmatched"
    if application is not None and application.amount_fen is not None:
        assert application.amount_deadline is not None
        late = application.amount_deadline <= now
        if application.state == "remittance_pending" and not late:
            if payer_account_name.strip() != application.organisation_name:
                reason: AttemptReason | None = AttemptReason.PAYER_NAME_MISMATCH
            elif amount != application.amount_fen:
                reason = AttemptReason.PAYMENT_AMOUNT_WRONG
            else:
                reason = None
            if reason is None:
                moved = await _move(uow, application.id, ("remittance_pending",), "deciding", step_expires_at=None)
                if moved is not None:
                    attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
                    assert attempt is not None
                    note = "matched" if await _verify(uow, moved, attempt) else "already_verified"
            elif await _end(uow, application.id, ("remittance_pending",), "rejected", reason) is not None:
                note = reason.value.lower()
        elif late and (
            application.state == "remittance_pending"
            or (application.state == "expired" and application.reason == AttemptReason.PAYMENT_NOT_RECEIVED.value)
        ):
            # RNE-8: a late payment rejects the application, whether or not the sweeper expired it first.
            moved = await _move(uow, application.id, ("remittance_pending", "expired"), "rejected")
            if moved is not None:
                moved.reason = AttemptReason.PAYMENT_LATE.value
                attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
                assert attempt is not None
                if attempt.outcome in ("pending", "expired"):
                    steps.end(attempt, "failed", AttemptReason.PAYMENT_LATE)
                    attempt.completed_at = now
                await _close(uow, moved, AttemptReason.PAYMENT_LATE)
                note = "payment_late"
    uow.session.add(
        BalanceEntry(
            account_id=remittance.account_id,
            amount_fen=amount,
            kind="remittance",
            payer_name=payer_account_name.strip()[:128],
            payer_account=payer_account_number.strip()[:40],
            application_id=application.id if application is not None else None,
            note=note,
            created_at=now,
        )
    )
    await uow.session.flush()
    return RemittanceOutcome(amount, application, note)


async def balance_fen(uow: Uow, account_id: int) -> int:
    value = await uow.session.scalar(
        select(func.coalesce(func.sum(BalanceEntry.amount_fen), 0)).where(BalanceEntry.account_id == account_id)
    )
    return int(value or 0)


# --- reads, review and the sweeper -----------------------------------------------------------------


def shown_state(application: EnterpriseApplication, now: datetime) -> str:
    """A step that ran out reads as it will end, before the sweeper gets to it (RNE-4, RNE-8)."""
    if (
        application.state in TIMED_STEPS
        and application.step_expires_at is not None
        and application.step_expires_at <= now
    ):
        return TIMED_STEPS[application.state][0]
    return "in_review" if application.state == "deciding" else application.state


def payout_arrived_at(application: EnterpriseApplication, now: datetime) -> datetime | None:
    """RNE-4: when a bank transfer's payout arrived in the account; None before (or for other methods)."""
    arrives = application.payout_arrives_at
    if application.method != BANK_TRANSFER or arrives is None or arrives > now:
        return None
    return arrives


def shown_reason(application: EnterpriseApplication, now: datetime) -> str | None:
    if shown_state(application, now) != application.state and application.state in TIMED_STEPS:
        return str(TIMED_STEPS[application.state][1].value)
    return application.reason


async def applications_page(
    uow: Uow, account_id: int, first: int, after_id: int | None
) -> tuple[list[tuple[EnterpriseApplication, ReviewItem | None, RemittanceAccount | None]], ListCount]:
    """The account's enterprise verifications, newest first, and how many there are: two statements."""
    mine = [EnterpriseApplication.account_id == account_id]
    stmt = (
        select(EnterpriseApplication, ReviewItem, RemittanceAccount)
        .outerjoin(ReviewItem, ReviewItem.id == EnterpriseApplication.review_item_id)
        .outerjoin(RemittanceAccount, RemittanceAccount.id == EnterpriseApplication.remittance_account_id)
        .where(*mine)
        .order_by(EnterpriseApplication.id.desc())
        .limit(first)
    )
    if after_id is not None:
        stmt = stmt.where(EnterpriseApplication.id < after_id)
    rows: list[tuple[EnterpriseApplication, ReviewItem | None, RemittanceAccount | None]] = [
        (a, i, r) for a, i, r in (await uow.session.execute(stmt)).all()
    ]
    return rows, await count_list(uow, EnterpriseApplication.id, mine, after_id)


ApplicationRow = tuple[EnterpriseApplication, ReviewItem | None, RemittanceAccount | None]


async def _application_row(uow: Uow, *where: ColumnElement[bool]) -> ApplicationRow | None:
    row = (
        await uow.session.execute(
            select(EnterpriseApplication, ReviewItem, RemittanceAccount)
            .outerjoin(ReviewItem, ReviewItem.id == EnterpriseApplication.review_item_id)
            .outerjoin(RemittanceAccount, RemittanceAccount.id == EnterpriseApplication.remittance_account_id)
            .where(*where)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def application_of_attempt(uow: Uow, attempt_id: int) -> ApplicationRow | None:
    return await _application_row(uow, EnterpriseApplication.attempt_id == attempt_id)


async def application_of_account(uow: Uow, account_id: int, application_id: int) -> ApplicationRow | None:
    """One of the account's enterprise verifications with its review and remittance account (one statement)."""
    return await _application_row(
        uow, EnterpriseApplication.id == application_id, EnterpriseApplication.account_id == account_id
    )


async def open_application(uow: Uow, account_id: int) -> bool:
    """Whether an enterprise verification of the account is past its face check and still running (a
    personal verification would pre-empt it, RN-1)."""
    now = uow.now()
    found = await uow.session.scalar(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.account_id == account_id,
            EnterpriseApplication.state.in_([s for s in OPEN_STATES if s != "face_pending"]),
            (EnterpriseApplication.step_expires_at.is_(None)) | (EnterpriseApplication.step_expires_at > now),
        )
    )
    return found is not None


async def sweep(uow: Uow) -> dict[str, int]:
    """End every step that ran out: unanswered face checks, payouts never requested, amounts not
    confirmed within 8 days of the payout's arrival, remittances not paid within 3 (RNE-4, RNE-8). Each row is decided by a
    conditional UPDATE, so a user or a payment deciding it at the same moment wins without harm."""
    return {"enterprise_steps_ended": await _expire_overdue(uow)}


@dataclass(frozen=True, slots=True)
class MaterialAnswer:
    """What the user sends when a reviewer asked for more (REV-4): upload row IDs, None where not sent."""

    authorisation_document_id: int | None = None  # RNE-3: the authorisation letter
    certificate_document_id: int | None = None  # ORG-4: the certificate image


async def answer_material(
    uow: Uow, account_id: int, application_id: int, answer: MaterialAnswer
) -> EnterpriseApplication:
    """RNE-3, ORG-4 / REV-4: the user uploads the authorisation letter or the certificate again (or both);
    the review clock restarts."""
    sent = {
        "authorisation_document_id": (answer.authorisation_document_id, "authorisationLetterUploadId"),
        "certificate_document_id": (answer.certificate_document_id, "certificateUploadId"),
    }
    if all(document_id is None for document_id, _ in sent.values()):
        raise ServiceError(
            Code.MATERIAL_MISSING,
            "Send the material asked for: the certificate, the authorisation letter or both.",
            None,
        )
    application = await uow.session.get(EnterpriseApplication, application_id, populate_existing=True)
    if application is None or application.account_id != account_id:
        raise ServiceError(Code.APPLICATION_NOT_FOUND, "No such enterprise verification.", "id")
    if application.state != "waiting_user" or application.review_item_id is None:
        raise ServiceError(Code.NOT_WAITING_FOR_MATERIAL, "This verification is not waiting for material.", "id")
    values: dict[str, object] = {}
    for column, (document_id, field) in sent.items():
        if document_id is None:
            continue
        try:
            values[column] = (await documents.owned(uow, account_id, document_id)).id
        except ServiceError:  # ORG-3: another account's upload is as unknown as a made-up ID
            raise ServiceError(Code.DOCUMENT_NOT_FOUND, "No such upload of this account.", field) from None
    moved = await _move(uow, application.id, ("waiting_user",), "in_review", **values)
    if moved is None:
        raise ServiceError(Code.NOT_WAITING_FOR_MATERIAL, "This verification is not waiting for material.", "id")
    await review.user_answered(uow, application.review_item_id)
    return moved


class EnterpriseVerificationHandler:
    """What the back office's decisions do to an enterprise verification (RNE-3, RNE-7)."""

    label = "企业实名认证 / enterprise real-name verification"

    async def approved(self, uow: Uow, item: ReviewItem) -> None:
        moved = await _move(uow, item.subject_id, ("in_review",), "deciding")
        assert moved is not None  # the review item and the application move together
        attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
        assert attempt is not None
        await _verify(uow, moved, attempt)

    async def rejected(self, uow: Uow, item: ReviewItem, reason: RejectReason, text: str) -> None:
        moved = await _end(uow, item.subject_id, ("in_review",), "rejected", AttemptReason.REJECTED_IN_REVIEW)
        assert moved is not None
        moved.review_reason, moved.reject_text = reason.value, text or None
        await uow.session.flush()

    async def more_material_requested(self, uow: Uow, item: ReviewItem, message: str) -> None:
        moved = await _move(uow, item.subject_id, ("in_review",), "waiting_user", more_message=message)
        assert moved is not None

    async def materials(self, uow: Uow, item: ReviewItem) -> list[kinds.ReviewMaterial]:
        """ORG-4: the certificate named for the type, beside the application; RNE-3: the authorisation letter."""
        application = await _application(uow, item.subject_id)
        info = TYPES[OrganisationType(application.organisation_type)]
        wanted = (
            (
                "ORGANISATION_CERTIFICATE",
                application.certificate_document_id,
                f"{info.certificate_zh} / {info.certificate_en}",
            ),
            ("AUTHORISATION_LETTER", application.authorisation_document_id, None),
        )
        ids = [document_id for _, document_id, _ in wanted if document_id is not None]
        found = (
            {d.id: d for d in await uow.session.scalars(select(Document).where(Document.id.in_(ids)))} if ids else {}
        )
        return [
            kinds.ReviewMaterial(role, found[document_id], detail)
            for role, document_id, detail in wanted
            if document_id is not None and document_id in found
        ]

    async def facts(self, uow: Uow, item: ReviewItem) -> list[tuple[str, str]]:
        application = await _application(uow, item.subject_id)
        attempt = await uow.session.get(VerificationAttempt, application.attempt_id)
        info = TYPES[OrganisationType(application.organisation_type)]
        why = {
            LEGAL_REP_FACE: "other organisation, face check passed (RNE-3)",
            BANK_TRANSFER: "risk rule hit with the right amount (RNE-7)",
        }
        facts = [
            ("Why review", why.get(application.method, application.method)),
            ("Organisation", application.organisation_name),
            ("USCC", application.uscc),
            ("Type", f"{info.number}. {info.name_zh} / {info.name_en} — {info.certificate_zh}"),
            ("Legal representative", application.legal_rep_name),
        ]
        if attempt is not None and application.face_by in {"employee", "handler"}:
            role = "Authorised employee" if application.face_by == "employee" else "Handler"
            facts.append((role, f"{attempt.name}, ID {attempt.document_masked} (face check passed)"))
        if application.bank_name:
            facts.append(("Corporate account", f"{application.bank_name} {application.account_number}"))
        return facts


kinds.register(KIND, EnterpriseVerificationHandler())


PAYOUT_PAYER = "账号中心 Account Center Ltd."


async def method_statuses(uow: Uow, account_id: int) -> list[MethodStatus]:
    """RNE-1: the three methods, with the attempts left of the two that are limited (RNE-2, RNE-4)."""
    verified = await repo.verification_of(uow, account_id) is not None
    used = await repo.method_attempts(uow, account_id)
    return [
        MethodStatus(m, limit, used.get(m, 0), not verified and (limit is None or used.get(m, 0) < limit))
        for m, limit in ((LEGAL_REP_FACE, MAX_ATTEMPTS), (BANK_TRANSFER, MAX_ATTEMPTS), (RECHARGE, None))
    ]


async def payouts_to(uow: Uow, account_number: str) -> list[BankPayout]:
    """What the service paid into a corporate account, newest first (the sandbox bank statement)."""
    rows = await uow.session.scalars(
        select(BankPayout)
        .where(BankPayout.account_number == account_number, BankPayout.status == "paid")
        .order_by(BankPayout.id.desc())
        .limit(100)
    )
    return list(rows)
