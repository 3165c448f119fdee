"""Review items: submit, claim, release, reassign, decide, and the user's answer.

REV-1 two queues (2 and 5 working days); each item carries its due time.
REV-3 claim before deciding; two reviewers never decide one item (conditional UPDATEs); a claim can
      be released, and a lead can reassign it.
REV-4 approve; reject with a reason from a list plus free text; ask for more material (the clock
      stops until the user answers, then the due time moves on by the working time that was left).
REV-5 every decision notifies the user and is appended to the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.accounts import Account
from models.review import ReviewAuditEntry, Reviewer, ReviewItem
from services.calendar.service import due_at, resumed_due_at
from services.errors import ServiceError
from services.review import repository as repo
from services.review.errors import ReviewErrorCode
from services.review.kinds import Comparison, RejectReason, ReviewMaterial, handler_for
from services.review.labels import state_label
from services.text import has_control_characters
from services.uow import Uow
from services.webhooks import events as webhook_events
from services.webhooks.events import EventType

QUEUES = (2, 5)  # REV-1
MAX_TEXT = 2000


async def submit(uow: Uow, *, kind: str, subject_id: int, account_id: int, queue_days: int) -> ReviewItem:
    """Put an item into its queue, due `queue_days` working days after today (REV-1)."""
    if handler_for(kind) is None:
        raise ServiceError(ReviewErrorCode.UNKNOWN_KIND, f"No handler is registered for {kind!r}.", "kind")
    if queue_days not in QUEUES:
        raise ServiceError(ReviewErrorCode.INVALID_QUEUE, "Items go to the 2- or the 5-working-day queue.", None)
    now = uow.now()
    item = ReviewItem(
        kind=kind,
        subject_id=subject_id,
        account_id=account_id,
        queue_days=queue_days,
        state="pending",
        submitted_at=now,
        due_at=due_at(now, queue_days),
    )
    await repo.add_item(uow, item)
    await _audit(uow, item.id, None, "submit")
    return item


async def _audit(
    uow: Uow, item_id: int, reviewer_id: int | None, action: str, reason: str | None = None, text: str | None = None
) -> None:
    await repo.add_audit_entry(
        uow,
        ReviewAuditEntry(
            item_id=item_id, reviewer_id=reviewer_id, action=action, reason=reason, text=text, created_at=uow.now()
        ),
    )


async def _item(uow: Uow, item_id: int) -> ReviewItem:
    item = await repo.item_afresh(uow, item_id)
    if item is None:
        raise ServiceError(ReviewErrorCode.ITEM_NOT_FOUND, "No such review item.", "item")
    return item


def _state(item: ReviewItem) -> str:
    """The item's state in words for a message (REV-2: the back office shows no raw identifier)."""
    return state_label(item.state)


async def claim(uow: Uow, reviewer: Reviewer, item_id: int) -> ReviewItem:
    """REV-3: only one reviewer gets a pending item, however many try at once."""
    if not await repo.claim_pending(uow, item_id, reviewer.id, uow.now()):
        item = await _item(uow, item_id)  # ITEM_NOT_FOUND when it does not exist
        raise ServiceError(
            ReviewErrorCode.ALREADY_CLAIMED,
            "Someone else holds this item." if item.state == "claimed" else f"This item is {_state(item)}.",
            "item",
        )
    await _audit(uow, item_id, reviewer.id, "claim")
    return await _item(uow, item_id)


async def release(uow: Uow, reviewer: Reviewer, item_id: int) -> ReviewItem:
    await _held(uow, reviewer, item_id, {"state": "pending", "claimed_by": None, "claimed_at": None})
    await _audit(uow, item_id, reviewer.id, "release")
    return await _item(uow, item_id)


async def reassign(uow: Uow, lead: Reviewer, item_id: int, to_reviewer_id: int) -> ReviewItem:
    """REV-3: a lead hands a pending or claimed item to another reviewer."""
    if lead.role != "lead":
        raise ServiceError(ReviewErrorCode.LEAD_ONLY, "Only a lead can reassign an item.", None)
    target = await repo.reviewer_by_id(uow, to_reviewer_id)
    if target is None or not target.active:
        raise ServiceError(ReviewErrorCode.REVIEWER_NOT_FOUND, "No such active reviewer.", "reviewer")
    if not await repo.assign_open(uow, item_id, target.id, uow.now()):
        item = await _item(uow, item_id)
        raise ServiceError(ReviewErrorCode.ALREADY_CLAIMED, f"This item is {_state(item)}.", "item")
    await _audit(uow, item_id, lead.id, "reassign", text=f"to {target.username}")
    return await _item(uow, item_id)


async def _held(uow: Uow, reviewer: Reviewer, item_id: int, values: dict[str, object]) -> None:
    """Move an item the reviewer holds, atomically: a lost claim makes the move fail."""
    if not await repo.move_held(uow, item_id, reviewer.id, values):
        await _item(uow, item_id)
        raise ServiceError(ReviewErrorCode.NOT_CLAIM_HOLDER, "Claim the item before deciding it.", "item")


def _text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if has_control_characters(text, line_breaks=True):
        raise ServiceError(ReviewErrorCode.TEXT_INVALID, "Remove the control characters from the text.", field)
    if len(text) > MAX_TEXT:
        raise ServiceError(ReviewErrorCode.TEXT_TOO_LONG, f"At most {MAX_TEXT} characters.", field)
    return text


def _notice(label: str, zh: str, en: str, reason: RejectReason | None = None) -> str:
    """A bilingual notice from a handler's "中文 / English" label. REV-5: a rejection names the reason chosen
    from the list, in both languages; never the reviewer's free text nor anything the user entered."""
    label_zh, _, label_en = label.partition(" / ")
    if reason is None:
        return f"【账号中心 Account center】您的{label_zh}{zh}。 Your {label_en or label_zh} {en}."
    return (
        f"【账号中心 Account center】您的{label_zh}{zh}，原因：{reason.zh}。"
        f" Your {label_en or label_zh} {en}. Reason: {reason.en}."
    )


async def _notify(uow: Uow, item: ReviewItem, text: str) -> None:
    """REV-5: the account holder hears of every decision, by SMS to the bound phone (a cancelled account has
    none, CAN-6)."""
    account = await repo.account_of_item(uow, item)
    if account is not None and account.status != "cancelled" and account.phone:
        await uow.deps.notifier.send(
            uow, channel="sms", destination=account.phone, purpose=f"REVIEW_{item.kind.upper()}", text=text
        )


async def _decided(uow: Uow, item: ReviewItem, outcome: str, reason: str | None) -> None:
    """WH-1: the decision, to the webhooks: the item's ID, kind, outcome and reason code (no reviewer, no text)."""
    await webhook_events.emit(
        uow,
        EventType.REVIEW_DECIDED,
        item.account_id,
        {"reviewItemId": item.id, "kind": item.kind, "outcome": outcome, "reason": reason},
    )


async def approve(uow: Uow, reviewer: Reviewer, item_id: int, note: str | None = None) -> ReviewItem:
    text = _text(note, "note")
    await _held(uow, reviewer, item_id, {"state": "approved", "decided_at": uow.now()})
    item = await _item(uow, item_id)
    handler = handler_for(item.kind)
    assert handler is not None, item.kind
    next_step = await handler.approved(uow, item)
    await _audit(uow, item_id, reviewer.id, "approve", text=text or None)
    notice = _notice(handler.label, "已通过审核", "was approved")
    if next_step is not None:  # one notice, with what the user must do now
        notice = f"{notice} {next_step[0]} {next_step[1]}"
    await _notify(uow, item, notice)
    await _decided(uow, item, "approved", None)
    return item


async def reject(uow: Uow, reviewer: Reviewer, item_id: int, reason: RejectReason | None, text: str) -> ReviewItem:
    if reason is None:
        raise ServiceError(ReviewErrorCode.REASON_REQUIRED, "Choose a reason from the list.", "reason")
    detail = _text(text, "text")
    await _held(uow, reviewer, item_id, {"state": "rejected", "decided_at": uow.now()})
    item = await _item(uow, item_id)
    handler = handler_for(item.kind)
    assert handler is not None, item.kind
    await handler.rejected(uow, item, reason, detail)
    await _audit(uow, item_id, reviewer.id, "reject", reason=reason.value, text=detail or None)
    await _notify(uow, item, _notice(handler.label, "未通过审核", "was rejected", reason))
    await _decided(uow, item, "rejected", reason.value)
    return item


async def request_more(uow: Uow, reviewer: Reviewer, item_id: int, message: str) -> ReviewItem:
    """REV-4: the item waits on the user; its clock stops until the user answers."""
    text = _text(message, "message")
    if not text:
        raise ServiceError(ReviewErrorCode.MESSAGE_REQUIRED, "Say what material is needed.", "message")
    now = uow.now()
    await _held(
        uow, reviewer, item_id, {"state": "waiting_user", "paused_at": now, "claimed_by": None, "claimed_at": None}
    )
    item = await _item(uow, item_id)
    handler = handler_for(item.kind)
    assert handler is not None, item.kind
    await handler.more_material_requested(uow, item, text)
    await _audit(uow, item_id, reviewer.id, "request_more", text=text)
    await _notify(uow, item, _notice(handler.label, "需要补充材料", "needs more material"))
    return item


async def user_answered(uow: Uow, item_id: int) -> ReviewItem:
    """The user sent the material: back to the queue, due later by the time spent waiting (REV-4)."""
    item = await _item(uow, item_id)
    if item.state != "waiting_user" or item.paused_at is None:
        raise ServiceError(ReviewErrorCode.NOT_WAITING_FOR_USER, "This item is not waiting for material.", "item")
    now = uow.now()
    new_due = resumed_due_at(item.paused_at, item.due_at, now)
    if not await repo.resume_waiting(uow, item_id, new_due):
        raise ServiceError(ReviewErrorCode.NOT_WAITING_FOR_USER, "This item is not waiting for material.", "item")
    await _audit(uow, item_id, None, "user_answer")
    return await _item(uow, item_id)


WITHDRAWABLE = ("pending", "claimed", "waiting_user")


async def withdraw(uow: Uow, item_id: int) -> bool:
    """The user withdrew what the item is about (CHG-7): it leaves the queue as "withdrawn", with an audit
    entry and no notice (the user did it). Whether it was open; a decided item stays as decided."""
    if not await repo.withdraw_open(uow, item_id, uow.now(), WITHDRAWABLE):
        return False
    await _audit(uow, item_id, None, "withdraw")
    return True


async def audit_trail(uow: Uow, item_id: int) -> list[ReviewAuditEntry]:
    return await repo.audit_entries(uow, item_id)


@dataclass(frozen=True, slots=True)
class ItemDetail:
    item: ReviewItem
    account: Account
    holder: str | None
    audit: list[ReviewAuditEntry]
    reviewer_names: dict[int, str]
    reviewers: list[Reviewer]
    materials: list[ReviewMaterial]  # each with its role, for its caption (REV-2)
    history: list[ReviewItem]  # the account's other review items, newest first
    facts: list[tuple[str, str]]  # what the handler says the reviewer decides on
    comparison: list[Comparison]  # what it shows before and after, side by side (subject changes)
    cancelled: bool = False  # CAN-6: the account was cancelled; its items show nothing of the person


def pseudonymous_reference(account: Account) -> str:
    """CAN-6: how the back office names a cancelled account: its row, which nothing links to a person."""
    return f"cancelled account #{account.id}"


CANCELLED_FACTS = "Personal data erased on cancellation (CAN-6)"


async def detail(uow: Uow, item_id: int) -> ItemDetail:
    """Everything the item page shows, in a fixed number of statements."""
    item = await _item(uow, item_id)
    account = await repo.account_of_item(uow, item)
    assert account is not None
    staff = await repo.active_reviewers(uow)
    names = {r.id: r.display_name for r in staff}
    cancelled = account.status == "cancelled"
    # CAN-6: a cancelled account's handler is not asked: no material, no fact of the person.
    handler = None if cancelled else handler_for(item.kind)
    materials = await handler.materials(uow, item) if handler is not None else []
    found = await handler.facts(uow, item) if handler is not None else []
    if cancelled:
        found = [("Account", pseudonymous_reference(account)), ("Personal data", CANCELLED_FACTS)]
        if account.cancelled_at is not None:
            found.append(("Cancelled", account.cancelled_at.strftime("%Y-%m-%d %H:%M UTC")))
    return ItemDetail(
        cancelled=cancelled,
        facts=[f for f in found if not isinstance(f, Comparison)],
        comparison=[f for f in found if isinstance(f, Comparison)],
        item=item,
        account=account,
        holder=names.get(item.claimed_by) if item.claimed_by else None,
        audit=await audit_trail(uow, item_id),
        reviewer_names=names,
        reviewers=staff,
        materials=materials,
        history=await repo.other_items_of_account(uow, item, limit=20),
    )
