"""CHG-2: a name change, the same enterprise (the same USCC) under a new name.

The user sends the new name and the new business licence with the acceptance agreement (at DETAILS_PENDING,
or again at MATERIAL_PENDING to correct them). The local checks answer every problem at once and change
nothing; then the business registry is asked, outside any transaction, whether the account's USCC is
registered under the new name. When it is, the change completes at once (`inside.complete`: the account's
verification takes the new name). When it is not, the change waits for supplementary material (a registry
change certificate or a change application form), which goes to the 2-working-day review queue; the review
handler (`review.py`) completes or rejects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.changes import SubjectChange
from models.verification import Verification
from services.accounts.agreements import AgreementKind
from services.database import ViewerTransactions
from services.documents import service as documents
from services.errors import Problems, ServiceError, checked
from services.providers.errors import ProviderUnavailable
from services.review import service as review
from services.secretbox import open_sealed
from services.uow import Uow
from services.verification import repository as verification_repo
from services.verification import steps
from services.verification.changes import inside, service
from services.verification.changes import repository as repo
from services.verification.changes.errors import ChangeErrorCode as Code
from services.verification.changes.states import Kind, State
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import get_application
from services.verification.enterprise.checks import organisation_name, shanghai_today
from services.viewer import Viewer

REVIEW_KIND = "subject_change"  # one review kind for every kind of change (services/verification/changes/review.py)
REVIEW_DAYS = 2  # CHG-2, CHG-3: the 2-working-day queue (REV-1)
NAME_STATES = (State.DETAILS_PENDING, State.MATERIAL_PENDING)  # where the new name may be sent (again)
NAME_FIELD = "newName"
LICENCE_FIELD = "licenceUploadId"
SUPPLEMENT_FIELD = "supplementUploadId"
AGREEMENT_FIELD = "acceptanceAgreement.version"


class SupplementKind(StrEnum):
    """CHG-2: what the supplementary material is, when the automatic check failed."""

    REGISTRY_CHANGE_CERTIFICATE = "registry_change_certificate"  # 工商变更登记证明
    CHANGE_APPLICATION_FORM = "change_application_form"  # 变更申请表


SUPPLEMENT_WORDS: dict[str, tuple[str, str]] = {
    SupplementKind.REGISTRY_CHANGE_CERTIFICATE: ("工商变更登记证明", "registry change certificate"),
    SupplementKind.CHANGE_APPLICATION_FORM: ("名称变更申请表", "name change application form"),
}


@dataclass(frozen=True, slots=True)
class NameInput:
    change_id: int
    new_name: str
    licence_document_id: int  # the upload's row ID, not yet known to be the account's
    acceptance_version: str


@dataclass(frozen=True, slots=True)
class Checked:
    """What the first transaction found: the request is well formed and the account's; the registry is asked
    about `uscc` under `name` next, between transactions."""

    change_id: int
    name: str
    uscc: str
    legal_rep_name: str
    licence_document_id: int
    acceptance_version: str


def not_a_name_change() -> ServiceError:
    return ServiceError(Code.CHANGE_NOT_SUPPORTED, "This subject change is not a name change.", service.CHANGE_FIELD)


async def _named(uow: Uow, account_id: int, change_id: int, states: tuple[State, ...]) -> SubjectChange:
    """The account's open name change, at one of `states` (the account locked)."""
    change = await service.open_of_account(uow, account_id, change_id)
    if change.kind != Kind.NAME:
        raise not_a_name_change()
    if change.state not in states:
        raise service.not_current(change)
    return change


async def registered_uscc(uow: Uow, verification: Verification) -> str:
    """The USCC of an enterprise verification, unsealed (its `document_sealed`)."""
    return open_sealed(uow.settings.secret_key, verification.document_sealed)


async def legal_rep_of(uow: Uow, attempt_id: int | None) -> str | None:
    """The legal representative named in the enterprise verification of `attempt_id`, if there is one."""
    if attempt_id is None:
        return None
    application_id = await enterprise_repo.application_id_of_attempt(uow, attempt_id)
    return None if application_id is None else (await get_application(uow, application_id)).legal_rep_name


async def _check(uow: Uow, viewer: Viewer, data: NameInput) -> Checked:
    """CHG-2's checks, every problem at once; nothing is written."""
    problems = Problems()
    name = checked(problems, organisation_name, data.new_name, NAME_FIELD)
    version = checked(
        problems,
        service.check_agreement,
        data.acceptance_version,
        AgreementKind.SUBJECT_CHANGE_ACCEPTANCE,
        AGREEMENT_FIELD,
    )
    account_id = viewer.account.id
    change = await _named(uow, account_id, data.change_id, NAME_STATES)
    # ORG-4 / ORG-3: the licence image must be one of the account's uploads.
    try:
        await documents.owned(uow, account_id, data.licence_document_id)
    except ServiceError:
        problems.add(Code.DOCUMENT_NOT_FOUND, "No such upload of this account.", LICENCE_FIELD)
    verification = await verification_repo.verification_of(uow, account_id)
    assert verification is not None  # RN-5: the change's account stays verified
    if name is not None and name == verification.name:
        problems.add(
            Code.NAME_UNCHANGED, "This is the verified name already; enter the new registered name.", NAME_FIELD
        )
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert name is not None
    assert version is not None
    return Checked(
        change_id=change.id,
        name=name,
        uscc=await registered_uscc(uow, verification),
        legal_rep_name=await legal_rep_of(uow, verification.attempt_id) or "",
        licence_document_id=data.licence_document_id,
        acceptance_version=version,
    )


async def submit_name(tx: ViewerTransactions, data: NameInput) -> SubjectChange | ServiceError:
    """CHG-2: check the request, ask the registry (no transaction open), then complete or ask for material."""
    found = await tx.write_viewer(Code.AUTHENTICATION_REQUIRED, _check, data)
    if isinstance(found, ServiceError):
        return found
    today = shanghai_today(tx.deps.clock.now())
    try:
        registered = await steps.ask(
            tx,
            tx.deps.providers.business.look_up(
                uscc=found.uscc, name=found.name, legal_representative=found.legal_rep_name, today=today
            ),
        )
    except ProviderUnavailable:
        return ServiceError(
            Code.PROVIDER_UNAVAILABLE,
            "The business registry did not answer; nothing changed. Try again shortly.",
            None,
            retry_after=steps.PROVIDER_RETRY_AFTER,
        )
    # The automatic check: the account's USCC is registered under the new name, and its licence check passes.
    passed = (
        registered is not None
        and registered.uscc == found.uscc
        and registered.name == found.name
        and not registered.licence_check_fails
    )
    return await tx.write_viewer(Code.AUTHENTICATION_REQUIRED, _decide, found, passed)


async def _decide(uow: Uow, viewer: Viewer, found: Checked, passed: bool) -> SubjectChange:
    # The change may have moved while the registry answered: it must still be where the request found it.
    change = await _named(uow, viewer.account.id, found.change_id, NAME_STATES)
    verification = await verification_repo.verification_of(uow, change.account_id)
    assert verification is not None
    now = uow.now()
    change = await service.move(
        uow,
        change,
        State(change.state),
        to_subject_type="enterprise",
        to_name=found.name,
        to_uscc=found.uscc,
        to_organisation_type=verification.organisation_type,
        to_legal_rep_name=found.legal_rep_name or None,
        licence_document_id=found.licence_document_id,
        acceptance_version=found.acceptance_version,
        acceptance_accepted_at=now,
    )
    if not passed:  # CHG-2: supplementary material goes to review
        return await service.move(uow, change, State.MATERIAL_PENDING)
    return await complete(uow, change, verification, NAME_STATES)


async def complete(
    uow: Uow, change: SubjectChange, verification: Verification, from_states: tuple[State, ...]
) -> SubjectChange:
    """CHG-2: the account's verification takes the new name; everything else of the subject is kept."""
    assert change.to_name is not None
    completed = await inside.complete(
        uow,
        change.id,
        inside.NewSubject(
            subject_type=verification.subject_type,
            method=verification.method,
            name=change.to_name,
            document_type=verification.document_type,
            document_key=verification.document_key,
            document_sealed=verification.document_sealed,
            document_masked=verification.document_masked,
            attempt_id=verification.attempt_id,
            organisation_type=verification.organisation_type,
            agreement_version=None,
            agreed_at=None,
        ),
        from_states=from_states,
    )
    if not isinstance(completed, Verification):
        raise service.ended(change)  # only when it ended meanwhile (its account is locked, so a bug)
    refreshed = await repo.get(uow, change.id)
    assert refreshed is not None
    return refreshed


async def submit_material(
    uow: Uow, viewer: Viewer, change_id: int, document_id: int, kind: SupplementKind
) -> SubjectChange:
    """CHG-2: the automatic check failed; the supplementary material goes to the 2-working-day review."""
    change = await _named(uow, viewer.account.id, change_id, (State.MATERIAL_PENDING,))
    try:
        document = await documents.owned(uow, change.account_id, document_id)
    except ServiceError:  # ORG-3: another account's upload is as unknown as a made-up ID
        raise ServiceError(Code.DOCUMENT_NOT_FOUND, "No such upload of this account.", SUPPLEMENT_FIELD) from None
    item = await review.submit(
        uow, kind=REVIEW_KIND, subject_id=change.id, account_id=change.account_id, queue_days=REVIEW_DAYS
    )
    return await service.move(
        uow,
        change,
        State.IN_REVIEW,
        supplement_document_id=document.id,
        supplement_kind=kind.value,
        review_item_id=item.id,
        more_message=None,
    )
