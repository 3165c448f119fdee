"""What a decision does to the thing under review. Each kind registers a handler, so the queue code
knows no kind by name (phone-rebind appeals, other-organisation verifications, changes, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from models.documents import Document
from models.review import ReviewItem
from services.uow import Uow


class RejectReason(Enum):
    """REV-4: the list a rejection reason is chosen from (plus free text)."""

    # ORG-4: what an organisation's certificate image must be
    CERTIFICATE_WRONG_TYPE = "CERTIFICATE_WRONG_TYPE"
    CERTIFICATE_NOT_ORIGINAL = "CERTIFICATE_NOT_ORIGINAL"
    CERTIFICATE_NOT_LEGIBLE = "CERTIFICATE_NOT_LEGIBLE"
    CERTIFICATE_ALTERED = "CERTIFICATE_ALTERED"
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
    # ORG-4
    RejectReason.CERTIFICATE_WRONG_TYPE: (
        "证照不是该组织类型对应的执照或登记证书",
        "the certificate is not the licence or registration certificate named for the organisation type",
    ),
    RejectReason.CERTIFICATE_NOT_ORIGINAL: (
        "证照不是原件的彩色照片或彩色扫描件，也不是加盖鲜章的复印件（电子章无效）",
        "the certificate is not a colour photo or scan of the original nor a copy bearing a fresh company stamp "
        "(electronic seals are not accepted)",
    ),
    RejectReason.CERTIFICATE_NOT_LEGIBLE: (
        "证照未正面拍摄，或四角不全、文字或印章不清晰",
        "the certificate is not taken from the front with all four corners visible and the text and stamp legible",
    ),
    RejectReason.CERTIFICATE_ALTERED: (
        "证照图片为翻拍、截图、镜像或经过编辑",
        "the certificate image is re-photographed, a screenshot, mirrored or edited",
    ),
    RejectReason.MATERIAL_UNCLEAR: ("材料无法辨认", "a material cannot be read"),
    RejectReason.MATERIAL_MISSING: ("缺少所需材料", "a required material is missing"),
    RejectReason.MATERIAL_MISMATCH: ("材料与账号或申请不符", "a material does not match the account or request"),
    RejectReason.INFORMATION_INCONSISTENT: ("材料与所填信息不一致", "the materials and the information given disagree"),
    RejectReason.SUSPECTED_FRAUD: ("材料疑似伪造或篡改", "a material appears altered or forged"),
    RejectReason.NOT_ELIGIBLE: ("不符合办理条件", "the request does not meet the conditions"),
    RejectReason.OTHER: ("其他原因", "another reason"),
}


@dataclass(frozen=True, slots=True)
class ReviewMaterial:
    """One submitted material as a reviewer sees it: its role (a key of `labels.MATERIAL_LABELS`, shown in
    words) and the uploaded image; `detail` narrows the role in words, e.g. the certificate named for the
    organisation's type (ORG-1, ORG-4)."""

    role: str
    document: Document
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """A fact shown side by side, before and after (a subject change: the verified subject and the one it
    changes to); the back office shows a kind's comparisons as one two-column table."""

    label: str
    before: str
    after: str


Fact = tuple[str, str] | Comparison


class ReviewHandler(Protocol):
    """The subject's side of a decision. Called inside the decision's transaction."""

    label: str  # shown to the user in notices, e.g. "手机号换绑申诉 / phone-rebind appeal"

    async def approved(self, uow: Uow, item: ReviewItem) -> tuple[str, str] | None:
        """Apply the approval; optionally the next step in words (Chinese, English), which the one approval
        notice (REV-5) then adds, e.g. a deadline the user must now meet."""
        ...

    async def rejected(self, uow: Uow, item: ReviewItem, reason: RejectReason, text: str) -> None: ...

    async def more_material_requested(self, uow: Uow, item: ReviewItem, message: str) -> None: ...

    async def materials(self, uow: Uow, item: ReviewItem) -> list[ReviewMaterial]:
        """The uploaded material a reviewer looks at, each with its role (ORG-3: shown to reviewers only)."""
        ...

    async def facts(self, uow: Uow, item: ReviewItem) -> Sequence[Fact]:
        """What the reviewer decides on, as label/value pairs or before/after comparisons (the subject's own
        data, masked as the API shows it, no secrets)."""
        ...


_HANDLERS: dict[str, ReviewHandler] = {}


def register(kind: str, handler: ReviewHandler) -> None:
    _HANDLERS[kind] = handler


def handler_for(kind: str) -> ReviewHandler | None:
    return _HANDLERS.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)
