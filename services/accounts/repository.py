"""All SQL of accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from models.accounts import Account, AgreementAcceptance, PhoneQuota, RetiredUsername
from services.sql import insert
from services.uow import Uow

MAX_CLOUD_ACCOUNTS_PER_PHONE = 10  # REG-3
MAX_PORTAL_ACCOUNTS_PER_PHONE = 5  # REG-4: the one the phone holds and the others that bind it


async def get(uow: Uow, account_id: int) -> Account | None:
    return await uow.session.get(Account, account_id)


async def username_in_use(uow: Uow, username_key: str) -> bool:
    """REG-2: live, cancelled and retired usernames alike."""
    taken = await uow.session.scalar(select(exists().where(Account.username_key == username_key)))
    retired = await uow.session.scalar(select(exists().where(RetiredUsername.username_key == username_key)))
    return bool(taken or retired)


async def email_in_use(uow: Uow, email_key: str, except_account_id: int | None = None) -> bool:
    q = exists().where(Account.email_key == email_key)
    if except_account_id is not None:
        q = q.where(Account.id != except_account_id)
    return bool(await uow.session.scalar(select(q)))


async def retire_username(uow: Uow, username_key: str, now: datetime) -> None:
    """A login name given up is never given to another account (REG-2, PROF-5)."""
    await uow.session.execute(
        insert(uow, RetiredUsername)
        .values(username_key=username_key, retired_at=now)
        .on_conflict_do_nothing(index_elements=[RetiredUsername.username_key])
    )


async def account_number_exists(uow: Uow, number: int) -> bool:
    return bool(await uow.session.scalar(select(exists().where(Account.account_number == number))))


async def lock_account(uow: Uow, account_id: int) -> None:
    """Serialise the writes of one account that must see each other: its row FOR UPDATE (on SQLite
    BEGIN IMMEDIATE already serialises every writer)."""
    await uow.session.execute(select(Account.id).where(Account.id == account_id).with_for_update())


async def get_for_update(uow: Uow, account_id: int) -> Account | None:
    """The account's row, locked FOR UPDATE and read afresh (SQLite: BEGIN IMMEDIATE serialises already)."""
    return await uow.session.get(Account, account_id, with_for_update=True, populate_existing=True)


async def take_cloud_slot(uow: Uow, phone: str) -> bool:
    """REG-3: count one more cloud account on this phone, atomically, never past 10."""
    await uow.session.execute(
        insert(uow, PhoneQuota)
        .values(phone=phone, cloud_accounts=0)
        .on_conflict_do_nothing(index_elements=[PhoneQuota.phone])
    )
    result = await uow.session.execute(
        update(PhoneQuota)
        .where(PhoneQuota.phone == phone, PhoneQuota.cloud_accounts < MAX_CLOUD_ACCOUNTS_PER_PHONE)
        .values(cloud_accounts=PhoneQuota.cloud_accounts + 1)
        .returning(PhoneQuota.cloud_accounts)
    )
    return result.scalar_one_or_none() is not None


async def release_cloud_slot(uow: Uow, phone: str) -> None:
    await uow.session.execute(
        update(PhoneQuota)
        .where(PhoneQuota.phone == phone, PhoneQuota.cloud_accounts > 0)
        .values(cloud_accounts=PhoneQuota.cloud_accounts - 1)
    )


async def cloud_accounts_on_phone(uow: Uow, phone: str) -> int:
    value = await uow.session.scalar(select(PhoneQuota.cloud_accounts).where(PhoneQuota.phone == phone))
    return value or 0


async def lock_phone(uow: Uow, phone: str) -> None:
    """Serialise work on one phone: the quota row, locked FOR UPDATE (SQLite: BEGIN IMMEDIATE already)."""
    await uow.session.execute(
        insert(uow, PhoneQuota)
        .values(phone=phone, cloud_accounts=0)
        .on_conflict_do_nothing(index_elements=[PhoneQuota.phone])
    )
    await uow.session.execute(select(PhoneQuota.phone).where(PhoneQuota.phone == phone).with_for_update())


# Login-name look-ups run on every sign-in: built once. REG-4: a phone reaches only the portal account
# it holds, never the others that merely bind it.
_PORTAL_BY_PHONE = select(Account).where(
    Account.phone == bindparam("phone"),
    Account.kind == "portal",
    Account.status == "active",
    Account.phone_holder.is_(True),
)
_BY_USERNAME_KEY = select(Account).where(Account.username_key == bindparam("key"), Account.status == "active")
_PORTAL_BY_EMAIL_KEY = select(Account).where(
    Account.email_key == bindparam("key"), Account.kind == "portal", Account.status == "active"
)


async def portal_account_by_phone(uow: Uow, phone: str) -> Account | None:
    return await uow.session.scalar(_PORTAL_BY_PHONE, {"phone": phone})


async def portal_accounts_on_phone(uow: Uow, phone: str) -> int:
    """REG-4: live portal accounts bound to the phone, the one it holds included. Exact only with the
    phone locked (`lock_phone`)."""
    count = await uow.session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.phone == phone, Account.kind == "portal", Account.status == "active")
    )
    return int(count or 0)


async def by_username_key(uow: Uow, key: str) -> Account | None:
    return await uow.session.scalar(_BY_USERNAME_KEY, {"key": key})


async def with_username_key(uow: Uow, key: str) -> Account | None:
    """The account with this username key, whatever its status (`by_username_key` finds live ones only)."""
    return await uow.session.scalar(select(Account).where(Account.username_key == key))


async def by_email_key(uow: Uow, key: str) -> Account | None:
    return await uow.session.scalar(_PORTAL_BY_EMAIL_KEY, {"key": key})


async def by_account_number(uow: Uow, number: int) -> Account | None:
    return await uow.session.scalar(select(Account).where(Account.account_number == number, Account.status == "active"))


async def accounts_on_phone(uow: Uow, phone: str) -> list[Account]:
    rows = await uow.session.scalars(
        select(Account).where(Account.phone == phone, Account.status == "active").order_by(Account.id)
    )
    return list(rows)


async def accounts_by_ids(uow: Uow, ids: list[int]) -> list[Account]:
    if not ids:
        return []
    rows = await uow.session.scalars(select(Account).where(Account.id.in_(ids)).order_by(Account.id))
    return list(rows)


def stage(uow: Uow, account: Account) -> None:
    """A new account, written with the caller's next flush (`flush_unique`, to answer a lost race)."""
    uow.session.add(account)


async def add(uow: Uow, account: Account) -> Account:
    uow.session.add(account)
    await uow.session.flush()
    return account


async def flush_unique(uow: Uow, column: str) -> bool:
    """Flush; False when it broke the unique key on `column` (a unique-key race lost to a concurrent
    request, PostgreSQL: REG-2, PROF-5, PROF-3), then the transaction is to be rolled back. Another
    integrity error is raised.

    SQLite never gets here (BEGIN IMMEDIATE serialises writers); the checks before the flush answer."""
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        if column not in str(exc.orig):
            raise
        return False
    return True


async def add_acceptances(uow: Uow, rows: list[AgreementAcceptance]) -> None:
    uow.session.add_all(rows)
    await uow.session.flush()


async def acceptances(uow: Uow, account_id: int) -> list[AgreementAcceptance]:
    rows = await uow.session.scalars(
        select(AgreementAcceptance).where(AgreementAcceptance.account_id == account_id).order_by(AgreementAcceptance.id)
    )
    return list(rows)
