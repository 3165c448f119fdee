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
