"""CHG-3: a change to another enterprise (another USCC), up to its review.

DETAILS_PENDING -> CONTACT_FACE_PENDING (both subjects, the reason and the original subject's contact) ->
FORM_PENDING (the contact passed a face check; the change application form is generated) -> IN_REVIEW (the
form came back stamped by both subjects; the 2-working-day queue). The review's decision is
`changes.review`'s; after approval the acceptance agreement (`service.accept_acceptance`) and the new
enterprise's verification with the change (`enterprise.applications.claim_change`, `inside.complete`), within 9
days of the approval (`states.TIMEOUTS`).

The contact's face check runs like a personal one (services/verification/personal.py) in three steps so no
lock is held while a provider answers: a write that claims a `pending` attempt (method `contact_face`, with
`change_id`), the identity registry and the liveness provider, then a write that opens the ticket; the
provider's callback (`liveness.complete_face_check`) hands the attempt to `contact_face_completed`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn

from models.changes import SubjectChange
from models.documents import Document
from models.verification import VerificationAttempt
from services.clock import SHANGHAI
from services.database import Transactions
from services.documents import service as documents
from services.errors import Problems, ServiceError, checked
from services.providers.errors import ProviderUnavailable
from services.providers.identity import RegistryAnswer
from services.review import service as review
from services.secretbox import open_sealed
from services.security import new_token, random_digits
from services.uow import Uow
from services.verification import repository as verification_repo
from services.verification import steps
from services.verification.changes import face, service
from services.verification.changes import repository as repo
from services.verification.changes.errors import ChangeErrorCode as Code
from services.verification.changes.face import ChangeFaceStarted
from services.verification.changes.states import Kind, State
from services.verification.documents import DocumentType, Subject, check_subject, mask_name
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.checks import check_organisation_details
from services.verification.errors import AttemptReason, VerificationErrorCode
from services.verification.organisations import TYPES, OrganisationType
from services.verification.steps import FACE_TICKET_TTL

CONTACT_FACE = "contact_face"
REASON_MAX = 500
REVIEW_KIND = "subject_change"  # one review kind for every change kind (changes.review)
REVIEW_DAYS = 2
NEW_ORG = "newOrganisation"


@dataclass(frozen=True, slots=True)
class DetailsInput:
    """CHG-3: the new organisation, the reason, and the original subject's contact (mainland ID card)."""

    name: str
    uscc: str
    organisation_type: OrganisationType
    legal_rep_name: str
    reason: str
    contact_name: str
    contact_id_number: str


def _today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def _reason(raw: str) -> str:
    reason = (raw or "").strip()
    if not 1 <= len(reason) <= REASON_MAX or "\x00" in reason:
        raise ServiceError(
            Code.CHANGE_REASON_INVALID, f"State the reason for the change (1 to {REASON_MAX} characters).", "reason"
        )
    return reason


@dataclass(frozen=True, slots=True)
class _Details:
    name: str
    uscc: str
    legal_rep_name: str
    reason: str
    contact: Subject


def _check_details(data: DetailsInput, now: datetime) -> _Details:
    """RNE-9's local checks of the new organisation, RNP-6 of the contact, the reason: every problem at once."""
    problems = Problems()
    organisation = check_organisation_details(problems, data.name, data.uscc, data.legal_rep_name, NEW_ORG)
    reason = checked(problems, _reason, data.reason)
    contact = checked(
        problems,
        check_subject,
        data.contact_name,
        DocumentType.MAINLAND_ID_CARD,
        data.contact_id_number,
        _today(now),
        name_field="contactName",
        number_field="contactIdNumber",
    )
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert organisation is not None
    assert reason is not None
    assert contact is not None
    return _Details(*organisation, reason, contact)


async def _change_at(uow: Uow, account_id: int, change_id: int, state: State) -> SubjectChange:
    """The account's open CHG-3 change (account locked) at `state`."""
    change = await service.open_of_account(uow, account_id, change_id)
    if change.kind != Kind.ENTERPRISE.value:
        raise ServiceError(
            Code.CHANGE_NOT_SUPPORTED,
            "This step belongs to a change to another enterprise (CHG-3).",
            service.CHANGE_FIELD,
        )
    if change.state != state:
        raise service.not_current(change)
    return change


async def submit_details(uow: Uow, account_id: int, change_id: int, data: DetailsInput) -> SubjectChange:
    """CHG-3: the new enterprise (another USCC), the reason and the original subject's contact."""
    details = _check_details(data, uow.now())
    change = await _change_at(uow, account_id, change_id, State.DETAILS_PENDING)
    verification = await verification_repo.verification_of(uow, account_id)
    assert verification is not None  # RN-5: an open change's account stays verified
    if details.uscc == verification.document_masked:  # an enterprise verification keeps its USCC unmasked
        raise ServiceError(
            Code.CHANGE_USCC_UNCHANGED,
            "The new enterprise has the same USCC as the current one: that is a name change (NAME), not CHG-3.",
            f"{NEW_ORG}.uscc",
        )
    key = uow.settings.secret_key
    return await service.move(
        uow,
        change,
        State.CONTACT_FACE_PENDING,
        to_subject_type="enterprise",
        to_name=details.name,
        to_uscc=details.uscc,
        to_organisation_type=data.organisation_type.value,
        to_legal_rep_name=details.legal_rep_name,
        change_reason=details.reason,
        contact_name=details.contact.name,
        contact_document_masked=details.contact.masked,
        contact_document_sealed=details.contact.sealed(key),
    )


# --- the contact's face check ------------------------------------------------------------------------


async def start_contact_face(tx: Transactions, account_id: int, change_id: int) -> ChangeFaceStarted | ServiceError:
    """CHG-3: the original subject's contact passes a face check: the identity registry, then liveness."""
    claimed = await tx.write(_claim_contact_face, account_id, change_id)
    if isinstance(claimed, ServiceError):
        return claimed
    attempt_id, contact = claimed
    providers = tx.deps.providers
    try:
        answer = await steps.ask(
            tx,
            providers.identity.check(
                document_type=contact.document_type.value, name=contact.name, number=contact.number
            ),
        )
        if answer is not RegistryAnswer.MATCH:
            return await tx.write(_contact_refused, attempt_id, answer)
        ticket = new_token("face", 24)
        url = await steps.ask(
            tx, providers.liveness.start(ticket=ticket, name=contact.name, document_type=contact.document_type.value)
        )
    except ProviderUnavailable:
        return await tx.write(_provider_failed, attempt_id)
    return await tx.write(_open_contact_face, attempt_id, ticket, url)


async def _claim_contact_face(uow: Uow, account_id: int, change_id: int) -> tuple[int, Subject]:
    change = await _change_at(uow, account_id, change_id, State.CONTACT_FACE_PENDING)
    assert change.contact_name is not None
    assert change.contact_document_sealed is not None
    contact = Subject(
        change.contact_name,
        DocumentType.MAINLAND_ID_CARD,
        open_sealed(uow.settings.secret_key, change.contact_document_sealed),
    )
    now = uow.now()
    attempt = VerificationAttempt(
        account_id=account_id,
        subject_type="person",
        method=CONTACT_FACE,
        outcome="pending",
        name=contact.name,
        document_type=contact.document_type.value,
        document_key=contact.key(uow.settings.secret_key),
        document_sealed=None,  # the contact is never verified themselves
        document_masked=contact.masked,
        agreement_version=change.application_version,
        change_id=change.id,
        created_at=now,
        ticket_expires_at=now + FACE_TICKET_TTL,  # a start that never opens a ticket is swept too
    )
    uow.session.add(attempt)
    await uow.session.flush()
    return attempt.id, contact


async def _contact_refused(uow: Uow, attempt_id: int, answer: RegistryAnswer) -> NoReturn:
    attempt = await steps.take(uow, attempt_id)
    if attempt is None:
        raise steps.unavailable()
    if answer is RegistryAnswer.NAME_MISMATCH:
        reason, code, field = AttemptReason.NAME_MISMATCH, VerificationErrorCode.NAME_MISMATCH, "contactName"
        message = "The contact's name does not match the ID number."
    else:
        reason, code, field = AttemptReason.IDENTITY_NOT_FOUND, VerificationErrorCode.IDENTITY_NOT_FOUND, None
        message = "No such ID number in the identity registry."
    await steps.end(uow, attempt, "failed", reason)
    attempt.completed_at = uow.now()
    await uow.session.flush()
    # The contact's details are the change's: correcting them means withdrawing and starting again.
    raise ServiceError(
        code, f"{message} Withdraw this change and start again with the right contact.", field, persist=True
    )


async def _provider_failed(uow: Uow, attempt_id: int) -> NoReturn:
    attempt = await steps.take(uow, attempt_id)
    if attempt is None:
        raise steps.unavailable()
    await steps.end(uow, attempt, "error", AttemptReason.PROVIDER_UNAVAILABLE)
    await uow.session.flush()
    raise steps.unavailable(persist=True)


async def _open_contact_face(uow: Uow, attempt_id: int, ticket: str, url: str) -> ChangeFaceStarted:
    async def still_at(uow: Uow, account_id: int, change_id: int) -> SubjectChange:
        return await _change_at(uow, account_id, change_id, State.CONTACT_FACE_PENDING)

    return await face.open_ticket(uow, attempt_id, ticket, url, CONTACT_FACE, still_at)


async def contact_face_completed(uow: Uow, attempt: VerificationAttempt, passed: bool) -> None:
    """The liveness callback of the contact's face check (the account locked and the attempt taken by the
    caller). A pass generates the change application form (FORM_PENDING); a fail leaves the change where it is
    (the user may start again); a change that moved on or ended meanwhile fails the attempt with CHANGE_ENDED."""
    assert attempt.change_id is not None
    attempt.completed_at = uow.now()
    if not passed:
        await steps.end(uow, attempt, "failed", AttemptReason.FACE_CHECK_FAILED)
        return
    change = await repo.get(uow, attempt.change_id)
    if change is None or change.state != State.CONTACT_FACE_PENDING or service.timed_out(change, uow.now()) is not None:
        await steps.end(uow, attempt, "failed", AttemptReason.CHANGE_ENDED)
        return
    await service.move(
        uow, change, State.FORM_PENDING, contact_attempt_id=attempt.id, form_reference=_form_reference(uow)
    )
    await steps.end(uow, attempt, "passed")


def _issued_on(reference: str) -> date:
    """The date the form was generated, as its reference holds it (`_form_reference`)."""
    return datetime.strptime(reference[2:10], "%Y%m%d").date()


def _form_reference(uow: Uow) -> str:
    """The printed reference of the change application form: the Shanghai date and 10 random digits (unique)."""
    return f"BG{_today(uow.now()):%Y%m%d}{random_digits(10)}"


# --- the stamped form and the review --------------------------------------------------------------------


async def submit_stamped_form(uow: Uow, account_id: int, change_id: int, document_id: int) -> SubjectChange:
    """CHG-3: the generated form, stamped by both subjects, goes to the 2-working-day review queue."""
    change = await _change_at(uow, account_id, change_id, State.FORM_PENDING)
    document: Document
    try:
        document = await documents.owned(uow, account_id, document_id)
    except ServiceError:  # ORG-3: another account's upload is as unknown as a made-up ID
        raise ServiceError(
            VerificationErrorCode.DOCUMENT_NOT_FOUND, "No such upload of this account.", "uploadId"
        ) from None
    item = await review.submit(
        uow, kind=REVIEW_KIND, subject_id=change.id, account_id=account_id, queue_days=REVIEW_DAYS
    )
    return await service.move(
        uow, change, State.IN_REVIEW, stamped_form_document_id=document.id, review_item_id=item.id
    )


# --- the change application form ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormParty:
    role_zh: str
    role_en: str
    name: str
    uscc: str
    type_label: str
    legal_rep_masked: str | None


@dataclass(frozen=True, slots=True)
class ChangeForm:
    """What the printable change application form shows (masked where personal)."""

    reference: str
    issued_on: date
    original: FormParty
    new: FormParty
    reason: str
    contact_name_masked: str
    contact_document_masked: str


async def form_of(uow: Uow, account_id: int, change_id: int) -> ChangeForm | None:
    """The form of the account's CHG-3 change once generated (FORM_PENDING and later); None otherwise, also for
    another account's change (as unknown as a made-up ID)."""
    change = await repo.change_of_account(uow, account_id, change_id)
    if change is None or change.kind != Kind.ENTERPRISE.value or change.form_reference is None:
        return None
    from_legal_rep = await _original_legal_rep(uow, change)
    assert change.to_name is not None
    assert change.to_uscc is not None
    assert change.change_reason is not None
    return ChangeForm(
        reference=change.form_reference,
        issued_on=_issued_on(change.form_reference),
        original=FormParty(
            "原认证主体",
            "Original subject",
            change.from_name,
            change.from_document_masked,
            _type_label(change.from_organisation_type),
            None if from_legal_rep is None else mask_name(from_legal_rep),
        ),
        new=FormParty(
            "新认证主体",
            "New subject",
            change.to_name,
            change.to_uscc,
            _type_label(change.to_organisation_type),
            None if change.to_legal_rep_name is None else mask_name(change.to_legal_rep_name),
        ),
        reason=change.change_reason,
        contact_name_masked=mask_name(change.contact_name or ""),
        contact_document_masked=change.contact_document_masked or "",
    )


def _type_label(organisation_type: str | None) -> str:
    if organisation_type is None:
        return "—"
    info = TYPES[OrganisationType(organisation_type)]
    return f"{info.name_zh} / {info.name_en}"


async def _original_legal_rep(uow: Uow, change: SubjectChange) -> str | None:
    """The original organisation's legal representative, from the application that verified it."""
    if change.from_attempt_id is None:
        return None
    found = await enterprise_repo.application_of_attempt(uow, change.from_attempt_id)
    return None if found is None else found[0].legal_rep_name


def form_available(change: SubjectChange) -> bool:
    return change.kind == Kind.ENTERPRISE.value and change.form_reference is not None
