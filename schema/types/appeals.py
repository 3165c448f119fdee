"""Appeals as their owner sees them (APL-1, APL-2)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, Self

import strawberry
from strawberry import relay

from models.appeals import Appeal as AppealModel
from models.review import ReviewItem
from schema.context import Context
from schema.enums import RejectReason
from schema.types.common import PageInfo, resolve_owned_nodes
from services.appeals import repository as appeals_repo
from services.appeals import service as appeals
from services.appeals import tokens as appeal_tokens
from services.viewer import Viewer

Info = strawberry.Info[Context, None]


@strawberry.enum(description="A material of an appeal; which ones apply depends on the account (APL-1, APL-2).")
class AppealMaterialRole(Enum):
    ID_CARD_IN_HAND = strawberry.enum_value(
        "ID_CARD_IN_HAND", description="Person: both sides of the ID card held in hand, showing the upper body."
    )
    APPLICATION_LETTER = strawberry.enum_value(
        "APPLICATION_LETTER", description="Person: the filled-in and signed application letter."
    )
    PAYMENT_PROOF = strawberry.enum_value(
        "PAYMENT_PROOF", description="Person: an invoice or payment confirmation of the account."
    )
    LEGAL_REP_ID_CARD = strawberry.enum_value(
        "LEGAL_REP_ID_CARD",
        description="Enterprise, MFA unbind (APL-1): the legal representative's ID card (not held in hand).",
    )
    LEGAL_REP_ID_CARD_IN_HAND = strawberry.enum_value(
        "LEGAL_REP_ID_CARD_IN_HAND",
        description="Enterprise, phone rebind (APL-2): the legal representative's ID card photos held in hand, "
        "showing the upper body.",
    )
    BUSINESS_LICENCE = strawberry.enum_value("BUSINESS_LICENCE", description="Enterprise: the business licence.")
    STAMPED_APPLICATION_LETTER = strawberry.enum_value(
        "STAMPED_APPLICATION_LETTER",
        description="Enterprise, MFA unbind (APL-1): the application letter bearing the company stamp.",
    )


@strawberry.enum(description="What an appeal asks for (APL-1, APL-2).")
class AppealKind(Enum):
    MFA_UNBIND = strawberry.enum_value(
        "mfa_unbind", description="Unbind a lost virtual MFA device and its recovery codes (APL-1, MFA-6)."
    )
    PHONE_REBIND = strawberry.enum_value(
        "phone_rebind", description="Bind a new phone in place of a lost one (APL-2, PROF-2)."
    )


@strawberry.enum(description="Where an appeal stands.")
class AppealStatus(Enum):
    SUBMITTED = strawberry.enum_value("submitted", description="In the 5-working-day review queue.")
    WAITING_USER = strawberry.enum_value(
        "waiting_user", description="The reviewer asked for more material (see `moreMaterialMessage`); the clock stops."
    )
    APPROVED = strawberry.enum_value(
        "approved",
        description="Approved. MFA_UNBIND: the virtual MFA device and its recovery codes are removed, and the "
        "protections no longer ask for TOTP. PHONE_REBIND: the new phone is the bound phone.",
    )
    REJECTED = strawberry.enum_value("rejected", description="Rejected: see `rejectReason` and `rejectText`.")
    WITHDRAWN = strawberry.enum_value(
        "withdrawn", description="Withdrawn when the account was cancelled (CAN-5); it left the review queue."
    )


@strawberry.type(name="Appeal", description="An appeal reviewed by staff within 5 working days (APL-1, APL-2).")
class AppealType(relay.Node):
    id: relay.NodeID[int]
    kind: AppealKind = strawberry.field(description="What the appeal asks for.")
    status: AppealStatus = strawberry.field(description="Where the appeal stands.")
    required_materials: list[AppealMaterialRole] = strawberry.field(
        description="The materials this appeal takes (its kind's person or enterprise set); `appealAnswer` "
        "replaces any of them."
    )
    new_phone_masked: str | None = strawberry.field(
        description="PHONE_REBIND: the phone to bind, masked; null for other kinds."
    )
    submitted_at: datetime = strawberry.field(description="When it was filed.")
    due_at: datetime | None = strawberry.field(
        description="When the review is due (5 working days, Asia/Shanghai); it moves on while waiting for you."
    )
    reject_reason: RejectReason | None = strawberry.field(
        description="The reason the reviewer chose from the list (REV-4), when rejected; null otherwise."
    )
    reject_text: str | None = strawberry.field(description="The reviewer's words, when rejected.")
    more_material_message: str | None = strawberry.field(description="What the reviewer asked for, when waiting.")

    @classmethod
    def from_model(cls, appeal: AppealModel, item: ReviewItem | None) -> Self:
        return cls(
            id=appeal.id,
            kind=AppealKind(appeal.kind),
            status=AppealStatus(appeal.state),
            required_materials=[AppealMaterialRole(r) for r in appeals.materials_for(appeal.kind, appeal.subject_type)],
            new_phone_masked=appeals.masked_new_phone(appeal),
            submitted_at=appeal.created_at,
            due_at=item.due_at if item is not None and appeal.state == "submitted" else None,
            reject_reason=RejectReason(appeal.reject_reason) if appeal.reject_reason else None,
            reject_text=appeal.reject_text,
            more_material_message=appeal.more_message if appeal.state == "waiting_user" else None,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        return [cls.from_model(a, i) for a, i in await context.read(appeals_repo.of_account, viewer.account.id, ids)]


@strawberry.type(
    name="AppealToken",
    description="The credential of an appeal filer without a session (APL-2): shown once, stored hashed. Send it "
    "as `Authorization: Bearer` to `POST /uploads` (at most 12 uploads a token, usable only by its own appeal), "
    "and as `appealToken` to `phoneRebindAppealSubmit`, `appealByToken` and `appealAnswerByToken`. It reads that "
    "appeal and nothing else of the account.",
)
class AppealTokenType:
    token: str = strawberry.field(description="The token; keep it, it is shown only here.")
    expires_at: datetime | None = strawberry.field(
        description="A draft's deadline to file (24 hours after `phoneRebindAppealStart`); null for a filed "
        "appeal's token, which reads the appeal until 30 days after its decision."
    )

    @classmethod
    def from_issued(cls, issued: appeal_tokens.IssuedToken | None) -> AppealTokenType | None:
        return None if issued is None else cls(token=issued.token, expires_at=issued.expires_at)


@strawberry.type(description="An edge of `AppealConnection`.")
class AppealEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this appeal.")
    node: AppealType = strawberry.field(description="The appeal.")


@strawberry.type(description="The viewer's appeals, newest first.")
class AppealConnection:
    edges: list[AppealEdge] = strawberry.field(description="This page of appeals.")
    page_info: PageInfo = strawberry.field(description="Whether more appeals follow.")
    total_count: int = strawberry.field(description="All of the viewer's appeals, not only this page.")
