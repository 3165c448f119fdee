"""APL-2 with REG-3 / REG-4: an approved phone-rebind appeal moves the account through the same
`phones.rebind` as the owner's phone change (PROF-2), so the per-phone limits hold when reviewers
approve at once, on both engines; a refused approval changes nothing and leaves the item claimed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.accounts import Account, PhoneQuota
from models.appeals import Appeal
from models.codes import OneTimeCode, OutboxMessage
from models.review import ReviewAuditEntry, Reviewer, ReviewItem
from services.accounts import phones
from services.appeals import service as appeals
from services.errors import ServiceError
from services.review import service as review
from services.review.kinds import RejectReason
from services.uow import Uow
from tests.helpers import last_code, mutate, registered_and_signed_in, send_code, step_up

NEW_PHONE = "+8613900000009"
OLD_PHONES = ("+8613700000001", "+8613700000002")
QUOTA_MESSAGE = "This phone number already has 10 cloud accounts (REG-3)."


def _account(uow: Uow, kind: str, phone: str, name: str) -> Account:
    return Account(
        kind=kind, status="active", phone=phone, phone_holder=kind == "portal", username=name,
        username_key=name, idle_timeout_minutes=60, op_protection_sms=True,
        op_protection_totp=False, login_protection_sms=False, login_protection_totp=False, created_at=uow.now(),
    )  # fmt: skip


async def seed_rebind_appeals(
    uow: Uow, *, count: int, already_on_phone: int, kind: str = "cloud", claim: bool = True
) -> tuple[list[int], list[Reviewer]]:
    """`already_on_phone` cloud accounts bound to NEW_PHONE, and `count` accounts of `kind` on other
    phones (cloud ones counted on OLD_PHONES, at most 10 each), each with a phone-rebind appeal to
    NEW_PHONE in the 5-day queue, claimed (when `claim`) by a reviewer of its own: (item ids, reviewers)."""
    here = [_account(uow, "cloud", NEW_PHONE, f"here{i}") for i in range(already_on_phone)]
    movers = [
        _account(uow, kind, OLD_PHONES[i % 2] if kind == "cloud" else f"+861380000{i:04d}", f"mover{i}")
        for i in range(count)
    ]
    staff = [
        Reviewer(username=f"rev{i}", display_name=f"Reviewer {i}", role="reviewer", active=True, password_hash="x",
                 totp_secret="x", totp_last_step=0, created_at=uow.now())
        for i in range(count)
    ]  # fmt: skip
    uow.session.add_all([*here, *movers, *staff])
    quotas = {NEW_PHONE: already_on_phone}
    if kind == "cloud":
        for i in range(count):
            quotas[OLD_PHONES[i % 2]] = quotas.get(OLD_PHONES[i % 2], 0) + 1
    uow.session.add_all([PhoneQuota(phone=p, cloud_accounts=n) for p, n in quotas.items()])
    await uow.session.flush()
    items = []
    for account, reviewer in zip(movers, staff, strict=True):
        appeal = Appeal(
            kind=appeals.KIND, account_id=account.id, subject_type="person", new_phone=NEW_PHONE,
            state="submitted", created_at=uow.now(),
        )  # fmt: skip
        uow.session.add(appeal)
        await uow.session.flush()
        item = await review.submit(
            uow, kind=appeals.KIND, subject_id=appeal.id, account_id=account.id, queue_days=appeals.QUEUE_DAYS
        )
        appeal.review_item_id = item.id
        if claim:
            await review.claim(uow, reviewer, item.id)
        items.append(item.id)
    await uow.session.flush()
    return items, staff


async def _state(db) -> dict[str, object]:
    async with db.read_sessions() as s:
        on_phone = await s.scalar(select(func.count()).select_from(Account).where(Account.phone == NEW_PHONE))
        quotas = {q.phone: q.cloud_accounts for q in await s.scalars(select(PhoneQuota))}
        items = {i.id: (i.state, i.claimed_by) for i in await s.scalars(select(ReviewItem))}
        appeal_states = sorted(a.state for a in await s.scalars(select(Appeal)))
        approvals = await s.scalar(
            select(func.count()).select_from(ReviewAuditEntry).where(ReviewAuditEntry.action == "approve")
        )
        notices = await s.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose == "PHONE_REBOUND")
        )
    return {
        "on_phone": on_phone,
        "quotas": quotas,
        "items": items,
        "appeals": appeal_states,
        "approvals": approvals,
        "notices": notices,
    }


@pytest.mark.slow
@pytest.mark.parametrize("already", [0, 7])
async def test_reg_3_apl_2_twenty_simultaneous_approvals_onto_one_phone_fill_it_to_ten_exactly(
    db, run, already
) -> None:
    # Given a phone with `already` cloud accounts, and 20 cloud accounts on other phones whose
    # phone-rebind appeals to it are each claimed by a reviewer
    items, staff = await run(seed_rebind_appeals, count=20, already_on_phone=already)
    # When the 20 reviewers approve at once
    results = await asyncio.gather(
        *[run(review.approve, reviewer, item_id) for reviewer, item_id in zip(staff, items, strict=True)],
        return_exceptions=True,
    )
    # Then exactly 10 - already were approved and the others refused on REG-3, with the reason shown
    approved = [r for r in results if isinstance(r, ReviewItem)]
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert (len(approved), len(refused)) == (10 - already, 10 + already)
    assert {(e.code.value, e.message) for e in refused} == {("PHONE_QUOTA_REACHED", QUOTA_MESSAGE)}
    # And the phone holds 10 cloud accounts, counted as 10; the old phones gave back the moved slots
    state = await _state(db)
    assert state["on_phone"] == 10
    assert state["quotas"][NEW_PHONE] == 10
    assert sum(state["quotas"][p] for p in OLD_PHONES) == 20 - len(approved)
    # And each refused item is still claimed by its reviewer, its appeal open, nobody told anything
    approved_ids = {r.id for r in approved}
    for reviewer, item_id in zip(staff, items, strict=True):
        expected = ("approved", reviewer.id) if item_id in approved_ids else ("claimed", reviewer.id)
        assert state["items"][item_id] == expected
    assert state["appeals"] == sorted(["approved"] * len(approved) + ["submitted"] * len(refused))
    assert (state["approvals"], state["notices"]) == (len(approved), len(approved))


async def test_reg_3_apl_2_a_refused_approval_can_be_rejected_with_a_reason_instead(db, run) -> None:
    # Given a full phone and a claimed appeal to move one more cloud account onto it
    [item_id], [reviewer] = await run(seed_rebind_appeals, count=1, already_on_phone=10)
    before = await _state(db)
    # When the reviewer approves, the approval is refused and nothing changed
    with pytest.raises(ServiceError) as refused:
        await run(review.approve, reviewer, item_id)
    assert (refused.value.code.value, refused.value.message) == ("PHONE_QUOTA_REACHED", QUOTA_MESSAGE)
    assert await _state(db) == before
    # Then the reviewer still holds the item and rejects it with a reason
    rejected = await run(review.reject, reviewer, item_id, RejectReason.OTHER, "The new phone has 10 accounts.")
    assert rejected.state == "rejected"


@pytest.mark.slow
async def test_reg_4_apl_2_eight_simultaneous_approvals_of_portal_accounts_onto_one_phone_bind_five(db, run) -> None:
    # Given eight portal accounts, each holding its own phone, whose appeals to move to one free phone are claimed
    items, staff = await run(seed_rebind_appeals, count=8, already_on_phone=0, kind="portal")
    # When they are approved at once
    results = await asyncio.gather(
        *[run(review.approve, reviewer, item_id) for reviewer, item_id in zip(staff, items, strict=True)],
        return_exceptions=True,
    )
    # Then five portal accounts are bound to the phone and three approvals were refused (REG-4)
    assert len([r for r in results if isinstance(r, ReviewItem)]) == 5
    assert [r.code.value for r in results if isinstance(r, ServiceError)] == ["PHONE_PORTAL_QUOTA_REACHED"] * 3
    # And the phone holds exactly one of them, the one that arrived first (SMS sign-in reaches it only)
    async with db.read_sessions() as s:
        portal = list(await s.scalars(select(Account).where(Account.kind == "portal", Account.phone == NEW_PHONE)))
    assert len(portal) == 5
    assert sum(a.phone_holder for a in portal) == 1


async def test_reg_3_prof_2_apl_2_the_phone_change_and_the_approval_move_phones_through_one_function(
    client, db, run, monkeypatch
) -> None:
    # Given every call of `phones.rebind` recorded
    calls: list[tuple[int, str]] = []
    rebind = phones.rebind

    async def recorded(uow, account, phone, field="newPhone", **counted_against):
        calls.append((account.id, phone))
        return await rebind(uow, account, phone, field, **counted_against)

    monkeypatch.setattr(phones, "rebind", recorded)
    # When an owner changes their phone (accountPhoneChange) and a reviewer approves an appeal
    token = await registered_and_signed_in(client, "alice01", "13600000001")
    grant = await step_up(client, token, "13600000001")
    await send_code(client, "PHONE_CHANGE_NEW", phone="13600000002", token=token)
    changed = await mutate(
        client,
        "accountPhoneChange",
        {"newPhone": "13600000002", "newPhoneCode": await last_code(client, "13600000002"), "stepUpToken": grant},
        "account { phone }",
        token,
    )
    assert changed["errors"] == []
    [item_id], [reviewer] = await run(seed_rebind_appeals, count=1, already_on_phone=0)
    await run(review.approve, reviewer, item_id)
    # Then both moved the phone through `phones.rebind`
    async with db.read_sessions() as s:
        alice = await s.scalar(select(Account.id).where(Account.username == "alice01"))
        mover = await s.scalar(select(Account.id).where(Account.username == "mover0"))
    assert calls == [(alice, "+8613600000002"), (mover, NEW_PHONE)]


async def test_reg_3_prof_2_apl_2_the_eleventh_account_is_refused_the_same_way_by_both(client, db, run) -> None:
    # Given a phone with 10 cloud accounts, an owner who wants to move to it, and a claimed appeal to it
    [item_id], [reviewer] = await run(seed_rebind_appeals, count=1, already_on_phone=10)
    token = await registered_and_signed_in(client, "alice01", "13600000001")
    grant = await step_up(client, token, "13600000001")
    await send_code(client, "PHONE_CHANGE_NEW", phone=NEW_PHONE[3:], token=token)
    # When the owner changes the phone and the reviewer approves the appeal
    changed = await mutate(
        client,
        "accountPhoneChange",
        {"newPhone": NEW_PHONE[3:], "newPhoneCode": await last_code(client, NEW_PHONE[3:]), "stepUpToken": grant},
        "account { phone }",
        token,
    )
    with pytest.raises(ServiceError) as approval:
        await run(review.approve, reviewer, item_id)
    # Then both are refused with REG-3's code and message; the owner's answer, which came after the new
    # phone's code was found right, cost one of its tries and says so
    [error] = changed["errors"]
    assert (error["code"], error["message"], error["path"]) == (
        "PHONE_QUOTA_REACHED",
        QUOTA_MESSAGE.rstrip(".") + "; 4 tries left with this code.",
        ["input", "newPhone"],
    )
    assert (approval.value.code.value, approval.value.message) == ("PHONE_QUOTA_REACHED", QUOTA_MESSAGE)
    async with db.read_sessions() as s:
        assert await s.scalar(select(PhoneQuota.cloud_accounts).where(PhoneQuota.phone == NEW_PHONE)) == 10


async def _rebind_with_code(uow: Uow, account_id: int, code_id: int) -> str:
    account = await uow.session.get(Account, account_id)
    assert account is not None
    return await phones.rebind(uow, account, NEW_PHONE, code_id=code_id)


async def test_reg_3_prof_2_a_refusal_by_rebind_after_the_new_phones_code_costs_one_of_its_tries(
    db, run, clock
) -> None:
    # Given a full phone, an account that wants to move onto it, and the phone's PHONE_CHANGE_NEW code
    await run(seed_rebind_appeals, count=1, already_on_phone=10, claim=False)
    async with db.write_sessions() as s:
        mover = await s.scalar(select(Account.id).where(Account.username == "mover0"))
        code = OneTimeCode(channel="sms", destination=NEW_PHONE, purpose="PHONE_CHANGE_NEW", code_hash="h",
                           attempts=0, created_at=clock.now(), expires_at=clock.now() + timedelta(minutes=5))  # fmt: skip
        s.add(code)
        await s.commit()
        code_id = code.id
    before = await _state(db)
    # When `rebind` refuses the owner's move (as when a concurrent move took the last slot after the
    # early check), with the code checked
    with pytest.raises(ServiceError) as refused:
        await run(_rebind_with_code, mover, code_id)
    # Then the refusal cost one of the code's tries, which stays, and nothing else changed
    assert (refused.value.code.value, refused.value.attempts_remaining, refused.value.persist) == (
        "PHONE_QUOTA_REACHED",
        4,
        True,
    )
    async with db.read_sessions() as s:
        row = await s.get(OneTimeCode, code_id)
    assert row is not None
    assert (row.attempts, row.consumed_at) == (1, None)
    assert await _state(db) == before
