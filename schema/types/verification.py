"""Real-name verification as the account's owner sees it (RN-1..7, RNP-1..6, ENT-1..3).

Identity data is only ever shown masked: a stolen session must not reveal a document number.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, Self

import segno
import strawberry
from strawberry import relay

from models.verification import Verification as VerificationModel
from models.verification import VerificationAttempt as AttemptModel
from schema.context import Context
from schema.enums import AttemptReason, DocumentType
from schema.types.common import PageInfo, resolve_owned_nodes
from services.entitlements.service import PERSON_LSS_VOD_CAP_GB, Entitlement, Entitlements
from services.verification import personal, steps
from services.verification import repository as repo
from services.verification.documents import mask_name
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
DOCUMENT_TYPES = {t.value for t in DocumentType}


@strawberry.enum(description="Who the account is verified as (RN-1): the subject owns the account and its resources.")
class SubjectType(Enum):
    PERSON = strawberry.enum_value("person", description="A natural person (RNP).")
    ENTERPRISE = strawberry.enum_value("enterprise", description="An enterprise or any other organisation (RNE).")


@strawberry.enum(description="A way to verify (RNP-1).")
class VerificationMethod(Enum):
    FACE = strawberry.enum_value(
        "face", description="Document + liveness check on a phone, by scanning a QR code (RNP-2, RNP-3). No limit."
    )
    BANK_CARD = strawberry.enum_value(
        "bank_card",
        description="Name, mainland ID number, UnionPay card, reserved phone and an SMS code (RNP-4); at most 10 "
        "attempts per account (RNP-5).",
    )
    LEGAL_REP_FACE = strawberry.enum_value(
        "legal_rep_face",
        description="Organisation: the legal representative's face check, or an authorised employee's for other "
        "organisations (RNE-2, RNE-3); at most 10 attempts per account.",
    )
    BANK_TRANSFER = strawberry.enum_value(
        "bank_transfer",
        description="Organisation: the handler's face check, then a random 0.01-1.00 CNY paid into the corporate "
        "account to confirm within 8 days (RNE-4, RNE-5); at most 10 attempts per account; not for public "
        "institutions or payment-licence holders (RNE-6).",
    )
    RECHARGE = strawberry.enum_value(
        "recharge",
        description="Organisation: pay a given amount from an account in the organisation's name into the dedicated "
        "remittance account within 3 days (RNE-8).",
    )
    CONTACT_FACE = strawberry.enum_value(
        "contact_face",
        description="Subject change to another enterprise (CHG-3): the original subject's contact's face check "
        "(`subjectChangeContactFaceStart`). It never verifies an account.",
    )
    IDENTITY_FACE = strawberry.enum_value(
        "identity_face",
        description="Subject change (CHG-4, CHG-5): the account's verified person proves it is them by face "
        "(`subjectChangeIdentityFaceStart`). It never verifies an account.",
    )
    IDENTITY_BANK_CARD = strawberry.enum_value(
        "identity_bank_card",
        description="Subject change (CHG-4, CHG-5): the account's verified person proves it is them by bank card "
        "(`subjectChangeIdentityBankCardSubmit`); CHG-5: at most 5 attempts in one change.",
    )


@strawberry.enum(description="Where a verification stands. A personal verification is always VERIFIED.")
class VerificationStatus(Enum):
    FACE_CHECK_PENDING = strawberry.enum_value(
        "face_pending", description="Waiting for the face check (the URL from the start, 10 minutes)."
    )
    PAYOUT_PENDING = strawberry.enum_value(
        "payout_pending",
        description="The face check passed; paying out (RNE-4), or finding out from the bank whether a payout "
        "request that failed was paid (it is never paid twice).",
    )
    AMOUNT_PENDING = strawberry.enum_value(
        "amount_pending",
        description="Paid: once the money has arrived (`payoutArrivedAt`, which may take up to 2 days), enter the "
        "amount received before `amountDeadline` (8 days after the arrival; RNE-4) with "
        "`enterpriseVerificationAmountConfirm`.",
    )
    IN_REVIEW = strawberry.enum_value(
        "in_review", description="With a reviewer, due by `review.dueAt` (2 working days; RNE-3, RNE-7)."
    )
    WAITING_FOR_MATERIAL = strawberry.enum_value(
        "waiting_user",
        description="The reviewer asked for more material (`review.moreMaterialMessage`); answer with "
        "`enterpriseVerificationMaterialAnswer`. The review clock stops meanwhile (REV-4).",
    )
    REMITTANCE_PENDING = strawberry.enum_value(
        "remittance_pending", description="Pay as `remittance` says before `remittance.payBefore` (3 days; RNE-8)."
    )
    VERIFIED = strawberry.enum_value("verified", description="Verified; permanent unless changed (CHG) or cancelled.")
    FAILED = strawberry.enum_value("failed", description="Did not pass; see `failureReason`. Start a new one.")
    REJECTED = strawberry.enum_value(
        "rejected", description="Rejected by a reviewer or by the remittance match; see `failureReason`."
    )
    EXPIRED = strawberry.enum_value(
        "expired", description="The amount was not confirmed within 8 days, or the remittance not paid within 3."
    )


@strawberry.enum(description="How an attempt ended (RN-7).")
class AttemptOutcome(Enum):
    PENDING = strawberry.enum_value(
        "pending",
        description="Under way: a face check waiting for the phone (10 minutes), or an enterprise verification's "
        "later steps (payout, amount, review, remittance; see `viewer.enterpriseVerifications`).",
    )
    PASSED = strawberry.enum_value("passed", description="Passed: the account is verified.")
    FAILED = strawberry.enum_value("failed", description="Did not pass; see `reason`.")
    EXPIRED = strawberry.enum_value("expired", description="The face check was not completed in time, or superseded.")
    ERROR = strawberry.enum_value(
        "error", description="An outside check did not answer; not counted against the account. Try again."
    )


@strawberry.interface(
    description="The account's verified subject (RN-1). It cannot be cancelled or unbound: only a change request "
    "(CHG) or cancelling the account (CAN-6) clears it (RN-5)."
)
class Verification(relay.Node):
    id: relay.NodeID[int]
    subject_type: SubjectType = strawberry.field(description="Person or enterprise (RN-1).")
    status: VerificationStatus = strawberry.field(description="Where the verification stands.")
    method: VerificationMethod = strawberry.field(description="How it was verified.")
    verified_at: datetime | None = strawberry.field(description="When it was verified; null until then.")


@strawberry.type(description="A person's verification (RNP).")
class PersonalVerification(Verification):
    name_masked: str = strawberry.field(description="The verified name, masked (`**明`).")
    document_type: DocumentType = strawberry.field(description="The document verified with (RNP-2).")
    document_number_masked: str = strawberry.field(description="The document number, masked (`110***********002X`).")

    @classmethod
    def from_model(cls, row: VerificationModel) -> Self:
        return cls(
            id=row.id,
            subject_type=SubjectType(row.subject_type),
            status=VerificationStatus(row.status),
            method=VerificationMethod(row.method),
            verified_at=row.verified_at,
            name_masked=mask_name(row.name),
            document_type=DocumentType(row.document_type),
            document_number_masked=row.document_masked,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        row = await context.read(repo.verification_of, viewer.account.id)  # an account has at most one
        return [cls.from_model(row)] if row is not None and row.id in ids else []


@strawberry.type(name="VerificationAttempt", description="One verification attempt in the history (RN-7).")
class VerificationAttemptType(relay.Node):
    id: relay.NodeID[int]
    subject_type: SubjectType = strawberry.field(description="Person or enterprise.")
    method: VerificationMethod = strawberry.field(description="The method tried.")
    outcome: AttemptOutcome = strawberry.field(
        description="How it ended; a pending face check past its 10 minutes reads as EXPIRED."
    )
    reason: AttemptReason | None = strawberry.field(description="Why it did not pass; null when passed or pending.")
    document_type: DocumentType | None = strawberry.field(
        description="The identity document of the person checked; null for a recharge (no person is checked)."
    )
    name_masked: str = strawberry.field(description="The name submitted, masked.")
    document_number_masked: str = strawberry.field(description="The document number submitted, masked.")
    card_number_masked: str | None = strawberry.field(description="Bank-card attempts: the card, masked.")
    counts_against_limit: bool = strawberry.field(
        description="Whether it used one of the method's limited attempts (bank card, RNP-5); provider errors never do."
    )
    created_at: datetime = strawberry.field(description="When it was submitted.")
    completed_at: datetime | None = strawberry.field(description="When it ended; null while pending.")
    face_check_expires_at: datetime | None = strawberry.field(
        description="Face checks: when the QR code stops working (10 minutes after the start)."
    )

    @classmethod
    def from_model(cls, row: AttemptModel, now: datetime) -> Self:
        outcome, reason = personal.shown_outcome(row, now)
        return cls(
            id=row.id,
            subject_type=SubjectType(row.subject_type),
            method=VerificationMethod(row.method),
            outcome=AttemptOutcome(outcome),
            reason=AttemptReason(reason) if reason else None,
            document_type=DocumentType(row.document_type) if row.document_type in DOCUMENT_TYPES else None,
            name_masked=mask_name(row.name),
            document_number_masked=row.document_masked,
            card_number_masked=row.card_masked,
            counts_against_limit=row.counted,
            created_at=row.created_at,
            completed_at=row.completed_at,
            face_check_expires_at=row.ticket_expires_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        rows = await context.read(repo.attempts_by_ids, viewer.account.id, ids)
        now = context.deps.clock.now()
        return [cls.from_model(r, now) for r in rows]


@strawberry.type(description="An edge of `VerificationAttemptConnection`.")
class VerificationAttemptEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this attempt.")
    node: VerificationAttemptType = strawberry.field(description="The attempt.")


@strawberry.type(description="The account's verification attempts, newest first (RN-7).")
class VerificationAttemptConnection:
    edges: list[VerificationAttemptEdge] = strawberry.field(description="This page of attempts.")
    page_info: PageInfo = strawberry.field(description="Whether more attempts follow.")
    total_count: int = strawberry.field(description="All attempts, not only this page.")


@strawberry.type(description="A verification method as offered to this account, with its attempts (RNP-1, RNP-5).")
class VerificationMethodStatus:
    method: VerificationMethod = strawberry.field(description="The method.")
    available: bool = strawberry.field(
        description="Whether the account may use it now: false once verified (RN-5) or when its attempts are used up."
    )
    attempts_limit: int | None = strawberry.field(description="Attempts allowed per account; null for no limit.")
    attempts_used: int = strawberry.field(description="Attempts counted so far.")
    attempts_remaining: int | None = strawberry.field(description="Attempts left; null for no limit.")
    attempts_limit_per_day: int | None = strawberry.field(
        description="Starts allowed per Asia/Shanghai day (face: 10, as each asks the identity registry); null for "
        "no daily limit."
    )
    attempts_remaining_today: int | None = strawberry.field(
        description="Starts left today; null for no daily limit. Provider errors are not counted."
    )

    @classmethod
    def of(cls, status: steps.MethodStatus) -> Self:
        return cls(
            method=VerificationMethod(status.method),
            available=status.available,
            attempts_limit=status.limit,
            attempts_used=status.used,
            attempts_remaining=status.remaining,
            attempts_limit_per_day=status.daily_limit,
            attempts_remaining_today=status.remaining_today,
        )


@strawberry.type(description="Open this on the phone to do the liveness check (RNP-2); single use, 10 minutes.")
class FaceCheck:
    url: str = strawberry.field(description="The liveness page (in sandbox mode `/sandbox/face/{ticket}`).")
    qr_code_svg: str = strawberry.field(
        description="`url` as a QR code: an SVG image as a `data:` URI, ready for `<img src>`."
    )
    expires_at: datetime = strawberry.field(description="When the ticket stops working (10 minutes).")

    @classmethod
    def of(cls, url: str, expires_at: datetime) -> Self:
        svg = segno.make(url, error="m").svg_data_uri(scale=4, border=2)
        return cls(url=url, qr_code_svg=svg, expires_at=expires_at)


@strawberry.type(description="What the account may do, from its verified subject (RN-2, ENT-1..3). Ask, do not infer.")
class EntitlementSet:
    subject_type: SubjectType | None = strawberry.field(description="The verified subject; null when unverified.")
    cloud_services: bool = strawberry.field(description="May buy and use cloud services (ENT-1: not unverified).")
    invoices: bool = strawberry.field(description="May apply for invoices (ENT-1: not unverified).")
    special_vat_invoice: bool = strawberry.field(
        description="May apply for special VAT invoices: general enterprises only, organisation types 1-2 (ENT-2); "
        "not a person (ENT-3)."
    )
    sms_service: bool = strawberry.field(
        description="May use the SMS service: every enterprise-verified account, of any organisation type (ENT-2); "
        "not a person (ENT-3)."
    )
    online_contracts: bool = strawberry.field(description="May apply for online contracts (ENT-1: not unverified).")
    lss_vod_traffic_cap_gb: int | None = strawberry.field(
        description=f"Live-streaming (LSS) and video-on-demand (VOD) traffic cap in GB: {PERSON_LSS_VOD_CAP_GB} for a "
        "person (ENT-3), 0 when unverified (no cloud services), null for no cap."
    )

    @classmethod
    def of(cls, found: Entitlements) -> Self:
        return cls(
            subject_type=SubjectType(found.subject_type) if found.subject_type else None,
            cloud_services=found.allows(Entitlement.CLOUD_SERVICES),
            invoices=found.allows(Entitlement.INVOICES),
            special_vat_invoice=found.allows(Entitlement.SPECIAL_VAT_INVOICE),
            sms_service=found.allows(Entitlement.SMS_SERVICE),
            online_contracts=found.allows(Entitlement.ONLINE_CONTRACTS),
            lss_vod_traffic_cap_gb=found.lss_vod_traffic_cap_gb,
        )


def verification_of(row: VerificationModel | None) -> Verification | None:
    if row is None:
        return None
    return PersonalVerification.from_model(row)
