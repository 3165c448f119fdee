"""What a decision does to the thing under review. Each kind registers a handler, so the queue code
knows no kind by name (phone-rebind appeals, other-organisation verifications, changes, ...)."""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from models.documents import Document
from models.review import ReviewItem
from services.uow import Uow


class RejectReason(Enum):
    """REV-4: the list a rejection reason is chosen from (plus free text)."""

    MATERIAL_UNCLEAR = "MATERIAL_UNCLEAR"
    MATERIAL_MISSING = "MATERIAL_MISSING"
    MATERIAL_MISMATCH = "MATERIAL_MISMATCH"
    INFORMATION_INCONSISTENT = "INFORMATION_INCONSISTENT"
    SUSPECTED_FRAUD = "SUSPECTED_FRAUD"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    OTHER = "OTHER"

    @property
    def zh(self) -> str:
        return REASON_LABELS[self][0]

    @property
    def en(self) -> str:
        return REASON_LABELS[self][1]

    @property
    def label(self) -> str:
        """Both languages, Chinese first, as in the back office's reason list."""
        return f"{self.zh} / {self.en}"


# REV-4, REV-5: the one table of the reasons' words, Chinese then English. The rejection notice names the
# chosen reason with them (REV-5) and the back office's reason list shows them (REV-4).
REASON_LABELS: dict[RejectReason, tuple[str, str]] = {
    RejectReason.MATERIAL_UNCLEAR: ("材料无法辨认", "a material cannot be read"),
    RejectReason.MATERIAL_MISSING: ("缺少所需材料", "a required material is missing"),
    RejectReason.MATERIAL_MISMATCH: ("材料与账号或申请不符", "a material does not match the account or request"),
    RejectReason.INFORMATION_INCONSISTENT: ("材料与所填信息不一致", "the materials and the information given disagree"),
    RejectReason.SUSPECTED_FRAUD: ("材料疑似伪造或篡改", "a material appears altered or forged"),
    RejectReason.NOT_ELIGIBLE: ("不符合办理条件", "the request does not meet the conditions"),
    RejectReason.OTHER: ("其他原因", "another reason"),
}


class ReviewHandler(Protocol):
    """The subject's side of a decision. Called inside the decision's transaction."""

    label: str  # shown to the user in notices, e.g. "手机号换绑申诉 / phone-rebind appeal"

    async def approved(self, uow: Uow, item: ReviewItem) -> None: ...

    async def rejected(self, uow: Uow, item: ReviewItem, reason: RejectReason, text: str) -> None: ...

    async def more_material_requested(self, uow: Uow, item: ReviewItem, message: str) -> None: ...

    async def documents(self, uow: Uow, item: ReviewItem) -> list[Document]:
        """The uploaded material a reviewer looks at (ORG-3: shown to reviewers only)."""
        ...

    async def facts(self, uow: Uow, item: ReviewItem) -> list[tuple[str, str]]:
        """What the reviewer decides on, as label/value pairs (the subject's own data, no secrets)."""
        ...


_HANDLERS: dict[str, ReviewHandler] = {}


def register(kind: str, handler: ReviewHandler) -> None:
    _HANDLERS[kind] = handler


def handler_for(kind: str) -> ReviewHandler | None:
    return _HANDLERS.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)
