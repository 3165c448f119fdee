"""Moving an account to another phone: the one place REG-3 and REG-4 hold for a phone change, whether
the owner changes it (PROF-2, `accountPhoneChange`) or a reviewer approves a phone-rebind appeal (APL-2).

`check_bindable` refuses early, before a code is spent or an appeal filed, a phone the account could
not move to now; it decides nothing. `rebind` decides, atomically under concurrency on both engines:
the account's row and the phones' quota rows are locked (always the account first, then the phones in
sorted order, so two rebinds never wait on each other in a cycle), then the cloud-account slot is
taken with a conditional UPDATE that never passes 10, or the portal account's phone is checked with
the phone locked.
"""

from __future__ import annotations

from models.accounts import Account
from services.accounts import repository as repo
from services.accounts.errors import AccountErrorCode
from services.errors import ServiceError
from services.uow import Uow


def quota_reached(field: str | None = "newPhone") -> ServiceError:
    return ServiceError(
        AccountErrorCode.PHONE_QUOTA_REACHED,
        f"This phone number already has {repo.MAX_CLOUD_ACCOUNTS_PER_PHONE} cloud accounts (REG-3).",
        field,
    )


def _portal_taken(field: str | None) -> ServiceError:
    return ServiceError(
        AccountErrorCode.PHONE_HAS_PORTAL_ACCOUNT, "This phone number already has a portal account (REG-4).", field
    )


async def check_bindable(uow: Uow, account: Account, phone: str, field: str | None = "newPhone") -> None:
    """Refuse a phone the account cannot move to now (a read: `rebind` decides under locks)."""
    if account.kind == "portal":
        if await repo.portal_account_by_phone(uow, phone) is not None:  # REG-4
            raise _portal_taken(field)
    elif await repo.cloud_accounts_on_phone(uow, phone) >= repo.MAX_CLOUD_ACCOUNTS_PER_PHONE:  # REG-3
        raise quota_reached(field)


async def rebind(uow: Uow, account: Account, phone: str, field: str | None = "newPhone") -> str:
    """Make `phone` the account's bound phone, or refuse and change nothing; returns the old phone."""
    current = await repo.get_for_update(uow, account.id)  # the account as it is now, locked
    assert current is not None, account.id
    if current.phone == phone:
        raise ServiceError(AccountErrorCode.PHONE_UNCHANGED, "This is already the bound phone.", field)
    old = current.phone
    if current.kind == "portal":
        await repo.lock_phone(uow, phone)
        # REG-4: one live portal account per phone, checked with the phone locked.
        if await repo.portal_account_by_phone(uow, phone) is not None:
            raise _portal_taken(field)
    else:
        for locked in sorted((old, phone)):
            await repo.lock_phone(uow, locked)
        # REG-3: at most 10 cloud accounts per phone; the count follows the bound phone.
        if not await repo.take_cloud_slot(uow, phone):
            raise quota_reached(field)
        await repo.release_cloud_slot(uow, old)
    current.phone = phone
    await uow.session.flush()
    return old
