"""Enterprise verification as the account's owner sees it (RNE-1..9, ORG-1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry

from models.enterprise import EnterpriseApplication, RemittanceAccount
from models.review import ReviewItem
from schema.context import Context
from schema.enums import AttemptReason, FaceBy, OrganisationType, RejectReason
from schema.types.common import PageInfo, resolve_owned_nodes
from schema.types.verification import SubjectType, Verification, VerificationMethod, VerificationStatus
from services.providers.bank import format_cny
from services.verification.documents import mask_name
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import shown_reason, shown_state
from services.verification.enterprise.transfer import MAX_WRONG_AMOUNTS, payout_arrived_at
from services.verification.organisations import TYPES, transfer_offered
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
REMITTANCE_BANK = "招商银行"  # where the dedicated remittance accounts are held (sandbox)
REMITTANCE_PAYEE = "账号中心 Account Center Ltd."


@strawberry.type(description="An organisation type with its certificate (ORG-1).")
class OrganisationTypeInfo:
    type: OrganisationType = strawberry.field(description="The type, for inputs.")
    number: int = strawberry.field(description="Its number in ORG-1, 1 to 18.")
    name: str = strawberry.field(description="The type's name, Chinese / English.")
    certificate_name: str = strawberry.field(description="The certificate it registers with, Chinese / English.")
    is_enterprise: bool = strawberry.field(
        description="Types 1-2 are enterprises; the others are other organisations, which may use an authorised "
        "employee and go to review (RNE-3)."
    )
    bank_transfer_offered: bool = strawberry.field(
        description="Whether corporate bank transfer is offered: not to public institutions (RNE-6); payment-licence "
        "holders are refused after the registry look-up."
    )


def organisation_types() -> list[OrganisationTypeInfo]:
    return [
        OrganisationTypeInfo(
            type=t.type,
            number=t.number,
            name=f"{t.name_zh} / {t.name_en}",
            certificate_name=f"{t.certificate_zh} / {t.certificate_en}",
            is_enterprise=t.is_enterprise,
            bank_transfer_offered=transfer_offered(t.type, False),
        )
        for t in TYPES.values()
    ]


@strawberry.type(description="Where and how much to pay for a recharge verification (RNE-8).")
class RemittanceInstructions:
    payee_name: str = strawberry.field(description="The payee name to enter at the bank.")
    bank_name: str = strawberry.field(description="The payee's bank.")
    account_number: str = strawberry.field(description="The account's dedicated remittance account number.")
    amount: str = strawberry.field(description="Exactly this amount in CNY (two decimals, e.g. `0.37`).")
    payer_account_name: str = strawberry.field(
        description="The paying bank account must be named exactly so: the organisation's name."
    )
    pay_before: datetime = strawberry.field(description="The payment must arrive before this (3 days; RNE-8).")


@strawberry.type(description="The review of an enterprise verification (RNE-3, RNE-7; REV-1..5).")
class EnterpriseReview:
    due_at: datetime | None = strawberry.field(
        description="When the review is due (2 working days, Asia/Shanghai); null while waiting for you."
    )
    more_material_message: str | None = strawberry.field(description="What the reviewer asked for, when waiting.")
    reject_reason: RejectReason | None = strawberry.field(
        description="The reason the reviewer chose from the list (REV-4), when rejected; null otherwise."
    )
    reject_text: str | None = strawberry.field(description="The reviewer's words, when rejected.")


@strawberry.type(
    description="An organisation's verification by one method (RNE-1), from its start to its outcome. The one that "
    "is VERIFIED is also `viewer.verification`."
)
class EnterpriseVerification(Verification):
    organisation_name: str = strawberry.field(description="The organisation's registered name.")
    uscc: str = strawberry.field(description="Its unified social credit code (public registry data).")
    organisation_type: OrganisationType = strawberry.field(description="Its type (ORG-1).")
    legal_representative_name_masked: str = strawberry.field(description="The legal representative, masked.")
    face_by: FaceBy | None = strawberry.field(
        description="Who does the face check: the legal representative or an authorised employee (RNE-2, RNE-3), the "
        "handler of a bank transfer (RNE-4); null for a recharge."
    )
    failure_reason: AttemptReason | None = strawberry.field(
        description="Why it failed, was rejected or expired; null otherwise."
    )
    submitted_at: datetime = strawberry.field(description="When it was started.")
    bank_name: str | None = strawberry.field(description="Bank transfer: the opening bank.")
    account_number_masked: str | None = strawberry.field(description="Bank transfer: the corporate account, masked.")
    payout_arrived_at: datetime | None = strawberry.field(
        description="Bank transfer: when the payout arrived in the corporate account; null while it has not arrived "
        "yet (RNE-4: within 0-2 days of the face check; the amount cannot be entered before, PAYOUT_NOT_ARRIVED) "
        "and for the other methods."
    )
    amount_deadline: datetime | None = strawberry.field(
        description="Bank transfer: enter the amount received before this: 8 days after the payout arrived in the "
        "account (RNE-4); null until it has arrived. Recharge: see `remittance.payBefore`."
    )
    wrong_amount_entries_left: int | None = strawberry.field(
        description="Bank transfer: wrong amounts still allowed before it fails (2 in all; RNE-5)."
    )
    remittance: RemittanceInstructions | None = strawberry.field(
        description="Recharge: what to pay, where and by when, while pending (RNE-8)."
    )
    review: EnterpriseReview | None = strawberry.field(description="The manual review, once it has gone to one.")

    @classmethod
    def from_model(
        cls,
        row: EnterpriseApplication,
        item: ReviewItem | None,
        remittance: RemittanceAccount | None,
        now: datetime,
        verified_at: datetime | None = None,
        organisation_name: str | None = None,
    ) -> Self:
        """`verified_at` and `organisation_name` of the account's verification, when this is the application it
        stands on: a name change (CHG-2) renames the verification, while the application keeps the name it
        verified."""
        state = shown_state(row, now)
        waiting = state == "waiting_user"
        arrived = payout_arrived_at(row, now)
        return cls(
            id=row.id,
            subject_type=SubjectType.ENTERPRISE,
            status=VerificationStatus(state),
            method=VerificationMethod(row.method),
            verified_at=verified_at if verified_at is not None else (row.decided_at if state == "verified" else None),
            organisation_name=organisation_name or row.organisation_name,
            uscc=row.uscc,
            organisation_type=OrganisationType(row.organisation_type),
            legal_representative_name_masked=mask_name(row.legal_rep_name),
            face_by=FaceBy(row.face_by) if row.face_by else None,
            failure_reason=AttemptReason(reason) if (reason := shown_reason(row, now)) in REASONS else None,
            submitted_at=row.created_at,
            bank_name=row.bank_name,
            account_number_masked=_mask_account(row.account_number),
            payout_arrived_at=arrived,
            amount_deadline=row.amount_deadline if arrived is not None else None,
            wrong_amount_entries_left=(
                MAX_WRONG_AMOUNTS - row.wrong_amount_entries if state == "amount_pending" else None
            ),
            remittance=(
                RemittanceInstructions(
                    payee_name=REMITTANCE_PAYEE,
                    bank_name=REMITTANCE_BANK,
                    account_number=remittance.number,
                    amount=format_cny(row.amount_fen),
                    payer_account_name=row.organisation_name,
                    pay_before=row.amount_deadline,
                )
                if state == "remittance_pending"
                and remittance is not None
                and row.amount_fen is not None
                and row.amount_deadline is not None
                else None
            ),
            review=(
                EnterpriseReview(
                    due_at=item.due_at if state == "in_review" else None,
                    more_material_message=row.more_message if waiting else None,
                    reject_reason=RejectReason(row.review_reason)
                    if state == "rejected" and row.review_reason
                    else None,
                    reject_text=row.reject_text if state == "rejected" else None,
                )
                if item is not None
                else None
            ),
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        rows = await context.read(enterprise_repo.applications_of_account, viewer.account.id, ids)
        now = context.deps.clock.now()
        return [cls.from_model(a, i, r, now) for a, i, r in rows]


REASONS = {r.value for r in AttemptReason}


def _mask_account(number: str | None) -> str | None:
    if not number:
        return None
    return "*" * max(0, len(number) - 4) + number[-4:]


@strawberry.type(description="An edge of `EnterpriseVerificationConnection`.")
class EnterpriseVerificationEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this verification.")
    node: EnterpriseVerification = strawberry.field(description="The enterprise verification.")


@strawberry.type(description="The account's enterprise verifications, newest first.")
class EnterpriseVerificationConnection:
    edges: list[EnterpriseVerificationEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow.")
    total_count: int = strawberry.field(description="All of the account's enterprise verifications.")
