"""Subject changes in the back office's review queue (CHG-2, CHG-3, REV-4): one review kind, "subject_change",
for every kind of change, registered when this package is imported.

- approved: a name change (CHG-2) completes, the account's verification taking the new name; a change to
  another enterprise (CHG-3) waits for the acceptance agreement and the new enterprise's verification, within
  9 days, and the bound phone is told so;
- rejected: the change ends as REJECTED (its slot is free, a new change may start);
- more material asked for: the change waits on the user (`answer_material`, back to the queue, REV-4).

Reviewers see what the change is from and to side by side (`facts`), masked as the API shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from models.changes import SubjectChange
from models.review import ReviewItem
from services.clock import SHANGHAI
from services.documents import service as documents
from services.errors import ServiceError
from services.review import kinds
from services.review import service as review
from services.review.kinds import Comparison, Fact, RejectReason
from services.uow import Uow
from services.verification import repository as verification_repo
from services.verification.changes import name as name_change
from services.verification.changes import repository as repo
from services.verification.changes import service
from services.verification.changes.errors import ChangeErrorCode as Code
from services.verification.changes.states import ACCEPT_WITHIN, Kind, State
from services.verification.documents import mask_name
from services.verification.enterprise import repository as enterprise_repo
from services.verification.organisations import TYPES, OrganisationType
from services.viewer import Viewer

KIND = name_change.REVIEW_KIND
REJECTED_IN_REVIEW = "REJECTED_IN_REVIEW"
LICENCE, SUPPLEMENT, STAMPED_FORM = "NEW_BUSINESS_LICENCE", "CHANGE_SUPPLEMENT", "STAMPED_CHANGE_FORM"
ANSWERED = "ADDITIONAL_MATERIAL"  # the role of an upload sent when more material was asked for
ROLES = (LICENCE, SUPPLEMENT, STAMPED_FORM, ANSWERED)  # each with its words in services/review/labels.py
MAX_ANSWER_UPLOADS = 10
UPLOADS_FIELD = "uploadIds"

KIND_WORDS: dict[str, str] = {
    Kind.NAME: "企业名称变更 / name change of the same enterprise (CHG-2)",
    Kind.ENTERPRISE: "变更为其他企业 / change to another enterprise (CHG-3)",
    Kind.PERSON_TO_ENTERPRISE: "个人变更为企业 / person to enterprise (CHG-4)",
    Kind.PERSON_TO_PERSON: "个人变更为个人 / person to another person (CHG-5)",
}


async def _locked(uow: Uow, item: ReviewItem, state: State = State.IN_REVIEW) -> SubjectChange:
    """The item's change with its account locked, at `state`; a change that ended meanwhile is refused (the
    decision rolls back and the reviewer reads why)."""
    change = await service.open_of_account(uow, item.account_id, item.subject_id)
    if change.state != state:
        raise service.not_current(change)
    return change


def _deadline_words(expires_at: datetime) -> str:
    return expires_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


class SubjectChangeHandler:
    """What the back office's decisions do to a subject change, and what it shows of it."""

    label = "实名认证主体变更 / verified subject change"

    async def approved(self, uow: Uow, item: ReviewItem) -> tuple[str, str] | None:
        change = await _locked(uow, item)
        if change.kind == Kind.NAME:  # CHG-2: the new name becomes the account's
            verification = await verification_repo.verification_of(uow, change.account_id)
            assert verification is not None
            await name_change.complete(uow, change, verification, (State.IN_REVIEW,))
            return None
        if change.kind != Kind.ENTERPRISE:
            raise RuntimeError(f"a {change.kind} change is never reviewed")
        # CHG-3: the acceptance agreement and the new enterprise's verification within 9 days of the approval; the
        # approval SMS to the bound phone (REV-5) says so.
        expires = uow.now() + ACCEPT_WITHIN
        await service.move(uow, change, State.ACCEPTANCE_PENDING, expires_at=expires)
        when = _deadline_words(expires)
        return (
            f"请于{when}前接受变更承接协议并完成新企业的实名认证。",
            f"Accept the acceptance agreement and verify the new enterprise by {when} (Beijing time, 9 days).",
        )

    async def rejected(self, uow: Uow, item: ReviewItem, reason: RejectReason, text: str) -> None:
        change = await _locked(uow, item)
        await service.move(
            uow,
            change,
            State.REJECTED,
            reason=REJECTED_IN_REVIEW,
            review_reason=reason.value,
            reject_text=text or None,
            expires_at=None,
        )

    async def more_material_requested(self, uow: Uow, item: ReviewItem, message: str) -> None:
        change = await _locked(uow, item)
        await service.move(uow, change, State.WAITING_USER, more_message=message)

    async def materials(self, uow: Uow, item: ReviewItem) -> list[kinds.ReviewMaterial]:
        """The new licence, the supplementary material with its kind (CHG-2), the change form stamped by both
        subjects (CHG-3), then what the user sent when asked for more (REV-4)."""
        change = await repo.get(uow, item.subject_id)
        assert change is not None
        supplement = name_change.SUPPLEMENT_WORDS.get(change.supplement_kind or "")
        wanted: list[tuple[str, int | None, str | None]] = [
            (LICENCE, change.licence_document_id, None),
            (SUPPLEMENT, change.supplement_document_id, " / ".join(supplement) if supplement else None),
            (STAMPED_FORM, change.stamped_form_document_id, change.form_reference),
        ]
        wanted += [(ANSWERED, document_id, None) for document_id in await repo.document_ids(uow, change.id)]
        ids = [document_id for _, document_id, _ in wanted if document_id is not None]
        found = await enterprise_repo.documents_by_id(uow, ids)
        return [
            kinds.ReviewMaterial(role, found[document_id], detail)
            for role, document_id, detail in wanted
            if document_id is not None and document_id in found
        ]

    async def facts(self, uow: Uow, item: ReviewItem) -> Sequence[Fact]:
        """The change's kind and what it says, then the subject before and after, side by side; ID numbers and
        personal names masked as the API shows them."""
        change = await repo.get(uow, item.subject_id)
        assert change is not None
        facts: list[Fact] = [("Change", KIND_WORDS.get(change.kind, change.kind))]
        if change.kind == Kind.NAME:
            facts.append(("Why review", "the automatic licence check failed (CHG-2)"))
        if change.change_reason:
            facts.append(("Reason", change.change_reason))
        if change.contact_name or change.contact_document_masked:
            contact = mask_name(change.contact_name) if change.contact_name else "—"
            if change.contact_document_masked:
                contact += f", ID {change.contact_document_masked}"
            facts.append(("Contact of the original subject", contact))
        if change.form_reference:
            facts.append(("Form reference", change.form_reference))
        rep_before = await name_change.legal_rep_of(uow, change.from_attempt_id)
        same = change.kind == Kind.NAME  # CHG-2: the same enterprise, so only the name changes
        facts += [
            Comparison("Name", change.from_name, change.to_name or "—"),
            Comparison(
                "USCC / document",
                change.from_document_masked,
                change.from_document_masked if same else change.to_uscc or "—",
            ),
            Comparison(
                "Organisation type",
                _type_words(change.from_organisation_type),
                _type_words(change.from_organisation_type if same else change.to_organisation_type),
            ),
            Comparison(
                "Legal representative",
                mask_name(rep_before) if rep_before else "—",
                mask_name(change.to_legal_rep_name) if change.to_legal_rep_name else "—",
            ),
        ]
        return facts


def _type_words(organisation_type: str | None) -> str:
    if organisation_type is None:
        return "—"
    try:
        info = TYPES[OrganisationType(organisation_type)]
    except ValueError:
        return organisation_type
    return f"{info.number}. {info.name_zh} / {info.name_en}"


async def answer_material(uow: Uow, viewer: Viewer, change_id: int, document_ids: list[int]) -> SubjectChange:
    """REV-4: the user sends what the reviewer asked for (any kind of change); the change and its review item
    go back to the queue, due later by the time spent waiting. Every upload must be the account's."""
    if not document_ids:
        raise ServiceError(Code.MATERIAL_MISSING, "Upload the material the reviewer asked for.", UPLOADS_FIELD)
    if len(document_ids) > MAX_ANSWER_UPLOADS:
        raise ServiceError(Code.TOO_MANY_UPLOADS, f"Send at most {MAX_ANSWER_UPLOADS} uploads at once.", UPLOADS_FIELD)
    change = await service.open_of_account(uow, viewer.account.id, change_id)
    if change.state != State.WAITING_USER or change.review_item_id is None:
        raise service.not_current(change)
    unique = list(dict.fromkeys(document_ids))
    owned = {d.id for d in await documents.of_account(uow, change.account_id, unique)}
    missing = [i for i, document_id in enumerate(document_ids) if document_id not in owned]
    if missing:  # ORG-3: another account's upload is as unknown as a made-up ID
        raise ServiceError(Code.DOCUMENT_NOT_FOUND, "No such upload of this account.", f"{UPLOADS_FIELD}.{missing[0]}")
    await repo.add_documents(uow, change.id, ANSWERED, unique, uow.now())
    moved = await service.move(uow, change, State.IN_REVIEW)
    await review.user_answered(uow, change.review_item_id)
    return moved


kinds.register(KIND, SubjectChangeHandler())
