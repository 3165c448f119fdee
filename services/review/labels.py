"""REV-2, REV-4: the words the back office shows for the review identifiers, one table each, Chinese then
English as in `kinds.REASON_LABELS` (the reject reasons' table, which these functions read as well).

- a review kind: its handler's `label` (each kind registers one, `kinds.register`);
- a review state, an audit action: `STATE_LABELS`, `ACTION_LABELS`;
- a submitted material's role: `MATERIAL_LABELS`. A kind that takes a new material adds its role here, in
  one line; tests/services/test_review_labels.py fails for a role of the appeal sets without words.

An identifier missing from its table is shown as it is rather than breaking the page.
"""

from __future__ import annotations

from services.review.kinds import RejectReason, ReviewMaterial, handler_for

STATE_LABELS: dict[str, tuple[str, str]] = {
    "pending": ("待领取", "pending, unclaimed"),
    "claimed": ("审核中", "claimed, in review"),
    "waiting_user": ("待用户补充材料", "waiting for the user's material"),
    "approved": ("已通过", "approved"),
    "rejected": ("已驳回", "rejected"),
    "withdrawn": ("用户已撤回", "withdrawn by the user"),
}

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "submit": ("提交", "submitted"),
    "claim": ("领取", "claimed"),
    "release": ("释放", "released"),
    "reassign": ("改派", "reassigned"),
    "approve": ("通过", "approved"),
    "reject": ("驳回", "rejected"),
    "request_more": ("要求补充材料", "asked for more material"),
    "user_answer": ("用户已补充材料", "the user sent material"),
    "withdraw": ("用户撤回申请", "the user withdrew the request"),
}

# The roles of the materials reviewers look at. Appeals (APL-1, APL-2) name theirs in
# services/appeals/service.py MATERIALS; enterprise verifications carry the certificate (ORG-4) and,
# with an authorised employee, the authorisation letter (RNE-3).
MATERIAL_LABELS: dict[str, tuple[str, str]] = {
    "ID_CARD_IN_HAND": ("手持身份证照片（正反面）", "ID card held in hand, both sides"),
    "APPLICATION_LETTER": ("签字的申请函", "signed application letter"),
    "PAYMENT_PROOF": ("付款凭证（发票或付款确认）", "payment proof (invoice or payment confirmation)"),
    "LEGAL_REP_ID_CARD": ("法定代表人身份证照片", "legal representative's ID card"),
    "LEGAL_REP_ID_CARD_IN_HAND": (
        "法定代表人手持身份证照片（露出上半身）",
        "legal representative's ID card held in hand, upper body showing",
    ),
    "BUSINESS_LICENCE": ("营业执照", "business licence"),
    "STAMPED_APPLICATION_LETTER": ("加盖公章的申请函", "application letter bearing the company stamp"),
    "AUTHORISATION_LETTER": ("法定代表人授权书（签字并盖章）", "authorisation letter, signed and stamped"),
    "ORGANISATION_CERTIFICATE": ("组织证照", "organisation's certificate"),
}


def _words(table: dict[str, tuple[str, str]], key: str | None) -> str:
    if key is None:
        return ""
    found = table.get(key)
    return f"{found[0]} / {found[1]}" if found else key


def kind_label(kind: str) -> str:
    handler = handler_for(kind)
    return handler.label if handler is not None else kind


def state_label(state: str) -> str:
    return _words(STATE_LABELS, state)


def action_label(action: str) -> str:
    return _words(ACTION_LABELS, action)


def reason_label(reason: str | None) -> str:
    """A stored reason (the `RejectReason` value) in words; empty for none."""
    if reason is None:
        return ""
    return RejectReason(reason).label if reason in RejectReason.__members__ else reason


def material_label(role: str) -> str:
    return _words(MATERIAL_LABELS, role)


def material_caption(material: ReviewMaterial) -> str:
    """The role in words, then what narrows it (the certificate named for the organisation's type)."""
    label = material_label(material.role)
    return f"{label}: {material.detail}" if material.detail else label
