"""REG-4 under concurrency: however many portal accounts move to one phone at once (`phones.rebind`, the
function a phone change and an approved phone-rebind appeal share), at most 5 are bound to it and exactly
one holds it; a refused move changes nothing. On both engines."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from models.accounts import Account
from services.accounts import phones
from services.errors import ServiceError
from services.uow import Uow

TARGET = "+8613900000009"


async def _seed(uow: Uow, count: int) -> list[Account]:
    """`count` portal accounts, each holding a phone of its own."""
    accounts = [
        Account(kind="portal", status="active", phone=f"+861380000{i:04d}", phone_holder=True, username=f"mover{i}",
                username_key=f"mover{i}", idle_timeout_minutes=60, op_protection_sms=True, op_protection_totp=False,
                login_protection_sms=False, login_protection_totp=False, created_at=uow.now())
        for i in range(count)
    ]  # fmt: skip
    uow.session.add_all(accounts)
    await uow.session.flush()
    return accounts


async def _portal_phones(db) -> dict[int, tuple[str, bool]]:
    async with db.read_sessions() as s:
        return {a.id: (a.phone, a.phone_holder) for a in await s.scalars(select(Account).order_by(Account.id))}


@pytest.mark.slow
async def test_reg_4_sixty_simultaneous_binds_of_one_phone_bind_five_and_one_holds_it(db, run) -> None:
    # Given 60 portal accounts, each holding its own phone, and a free phone
    movers = await run(_seed, 60)
    before = await _portal_phones(db)
    # When all 60 move to the free phone at once
    results = await asyncio.gather(*[run(phones.rebind, account, TARGET) for account in movers], return_exceptions=True)
    # Then exactly 5 moves happened and 55 were refused with REG-4's code
    moved = [m for m, r in zip(movers, results, strict=True) if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert (len(moved), len(refused)) == (5, 55)
    assert {(e.code.value, e.message, e.field) for e in refused} == {
        ("PHONE_PORTAL_QUOTA_REACHED", "This phone number is already bound to 5 portal accounts (REG-4).", "newPhone")
    }
    # And the phone is bound to those 5, exactly one of which holds it; every refused account is unchanged
    after = await _portal_phones(db)
    on_target = {account_id: holds for account_id, (phone, holds) in after.items() if phone == TARGET}
    assert set(on_target) == {m.id for m in moved}
    assert sum(on_target.values()) == 1
    assert {k: v for k, v in after.items() if k not in on_target} == {
        k: v for k, v in before.items() if k not in on_target
    }
