"""Enterprise verification in the manual-review queue (RNE-3, RNE-7, ORG-4, REV-4): the user's answer to a
request for more material, and what the back office's decisions do."""

from __future__ import annotations

from dataclasses import dataclass

from models.enterprise import EnterpriseApplication
from models.review import ReviewItem
from models.verification import VerificationAttempt
from services.documents import service as documents
from services.errors import ServiceError
from services.review import kinds
from services.review import service as review
from services.review.kinds import RejectReason
from services.uow import Uow
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import (
    BANK_TRANSFER,
    KIND,
    LEGAL_REP_FACE,
    end,
    get_application,
    move,
    verify,
)
from services.verification.enterprise.states import State
from services.verification.errors import AttemptReason
from services.verification.errors import VerificationErrorCode as Code
from services.verification.organisations import TYPES, OrganisationType


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
    if application.state != State.WAITING_USER or application.review_item_id is None:
        raise ServiceError(Code.NOT_WAITING_FOR_MATERIAL, "This verification is not waiting for material.", "id")
    values: dict[str, object] = {}
    for column, (document_id, field) in sent.items():
        if document_id is None:
            continue
        try:
            values[column] = (await documents.owned(uow, account_id, document_id)).id
        except ServiceError:  # ORG-3: another account's upload is as unknown as a made-up ID
            raise ServiceError(Code.DOCUMENT_NOT_FOUND, "No such upload of this account.", field) from None
    moved = await move(uow, application.id, (State.WAITING_USER,), State.IN_REVIEW, **values)
    if moved is None:
        raise ServiceError(Code.NOT_WAITING_FOR_MATERIAL, "This verification is not waiting for material.", "id")
    await review.user_answered(uow, application.review_item_id)
    return moved


class EnterpriseVerificationHandler:
    """What the back office's decisions do to an enterprise verification (RNE-3, RNE-7)."""

    label = "企业实名认证 / enterprise real-name verification"

    async def approved(self, uow: Uow, item: ReviewItem) -> None:
        moved = await move(uow, item.subject_id, (State.IN_REVIEW,), State.DECIDING)
        assert moved is not None  # the review item and the application move together
        attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
        assert attempt is not None
        await verify(uow, moved, attempt)

    async def rejected(self, uow: Uow, item: ReviewItem, reason: RejectReason, text: str) -> None:
        moved = await end(uow, item.subject_id, (State.IN_REVIEW,), State.REJECTED, AttemptReason.REJECTED_IN_REVIEW)
        assert moved is not None
        moved.review_reason, moved.reject_text = reason.value, text or None
        await uow.session.flush()

    async def more_material_requested(self, uow: Uow, item: ReviewItem, message: str) -> None:
        moved = await move(uow, item.subject_id, (State.IN_REVIEW,), State.WAITING_USER, more_message=message)
        assert moved is not None

    async def materials(self, uow: Uow, item: ReviewItem) -> list[kinds.ReviewMaterial]:
        """ORG-4: the certificate named for the type, beside the application; RNE-3: the authorisation letter."""
        application = await get_application(uow, item.subject_id)
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
        found = await enterprise_repo.documents_by_id(uow, ids)
        return [
            kinds.ReviewMaterial(role, found[document_id], detail)
            for role, document_id, detail in wanted
            if document_id is not None and document_id in found
        ]

    async def facts(self, uow: Uow, item: ReviewItem) -> list[tuple[str, str]]:
        application = await get_application(uow, item.subject_id)
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
