"""Moving an account to another phone: the one place REG-3 and REG-4 hold for a phone change, whether
the owner changes it (PROF-2, `accountPhoneChange`) or a reviewer approves a phone-rebind appeal (APL-2).

Whether a phone has accounts is told only to whoever holds it: the owner's paths answer REG-3 / REG-4
only once the new phone's PHONE_CHANGE_NEW code has been checked (a wrong one counted, CODE-2), and
each such answer costs one of that code's 5 tries (`codes.refused_after_code`), as registration does
for a taken username. `check_bindable` refuses early, after the code and before it is used or an
appeal is filed, a phone the account could not move to now; it writes nothing but that count and
decides nothing. `rebind` decides, atomically under concurrency on both engines:
the account's row and the phones' quota rows are locked (always the account first, then the phones in
sorted order, so two rebinds never wait on each other in a cycle), then the cloud-account slot is
taken with a conditional UPDATE that never passes 10, or the portal accounts bound to the phone are
counted with the phone locked, so they never pass 5 (REG-4).

REG-4: a phone holds at most one portal account (the one SMS sign-in with it reaches, `phone_holder`)
and may be bound to at most 5 in all. A portal account moving to a phone that holds none becomes the
one it holds; moving to a phone that holds one, it only binds it: it signs in with its username or
e-mail and password from then on, and SMS sign-in with that phone keeps reaching the phone's own;
one that has neither a username nor an e-mail address is refused (OWN_LOGIN_NAME_REQUIRED), since it
could then never sign in.
"""

from __future__ import annotations

from models.accounts import Account
from services.accounts import repository as repo
from services.accounts.errors import AccountErrorCode
from services.codes import service as codes
from services.errors import ServiceError
from services.uow import Uow


def quota_reached(field: str | None = "newPhone") -> ServiceError:
    return ServiceError(
        AccountErrorCode.PHONE_QUOTA_REACHED,
        f"This phone number already has {repo.MAX_CLOUD_ACCOUNTS_PER_PHONE} cloud accounts (REG-3).",
        field,
    )


async def registration_refusal(uow: Uow, phone: str, field: str | None = "phone") -> ServiceError | None:
    """REG-3, refused early: PHONE_QUOTA_REACHED for a registration code asked for a phone that already
    holds the most cloud accounts, else None (a read; `take_cloud_slot` decides at registration).

    Only for `codes.send(refuse=...)`, which asks it after the send's budgets are reserved and keeps
    them spent on refusal, so the answer costs what a code costs and is no free oracle."""
    if await repo.cloud_accounts_on_phone(uow, phone) >= repo.MAX_CLOUD_ACCOUNTS_PER_PHONE:
        return quota_reached(field)
    return None


def portal_quota_reached(field: str | None = "newPhone") -> ServiceError:
    return ServiceError(
        AccountErrorCode.PHONE_PORTAL_QUOTA_REACHED,
        f"This phone number is already bound to {repo.MAX_PORTAL_ACCOUNTS_PER_PHONE} portal accounts (REG-4).",
        field,
    )


def own_login_name_required(field: str | None = "newPhone") -> ServiceError:
    return ServiceError(
        AccountErrorCode.OWN_LOGIN_NAME_REQUIRED,
        "This phone number signs in to another portal account: choose a username or bind an e-mail address "
        "first, to sign in with after the move (REG-4).",
        field,
    )


async def check_bindable(
    uow: Uow, account: Account, phone: str, *, code_id: int, field: str = "newPhone", code_field: str = "newPhoneCode"
) -> None:
    """Refuse a phone the account cannot move to now (a read: `rebind` decides under locks).

    `code_id` is the phone's code, already checked: each refusal costs one of its tries (and raises
    CODE_ATTEMPTS_EXHAUSTED instead once none is left), so one code answers at most 5 times."""
    if account.kind == "portal":
        if await repo.portal_accounts_on_phone(uow, phone) >= repo.MAX_PORTAL_ACCOUNTS_PER_PHONE:  # REG-4
            raise await codes.refused_after_code(uow, code_id, portal_quota_reached(field), code_field)
        if not _has_own_login_name(account) and await repo.portal_account_by_phone(uow, phone) is not None:
            raise await codes.refused_after_code(uow, code_id, own_login_name_required(field), code_field)
    elif await repo.cloud_accounts_on_phone(uow, phone) >= repo.MAX_CLOUD_ACCOUNTS_PER_PHONE:  # REG-3
        raise await codes.refused_after_code(uow, code_id, quota_reached(field), code_field)


async def rebind(
    uow: Uow,
    account: Account,
    phone: str,
    field: str | None = "newPhone",
    *,
    code_id: int | None = None,
    code_field: str = "newPhoneCode",
) -> str:
    """Make `phone` the account's bound phone, or refuse and change nothing; returns the old phone.

    With `code_id` (the owner's change, its new-phone code checked), a REG-3 / REG-4 refusal costs one
    of the code's tries, as in `check_bindable`; a reviewer's approval passes none."""
    current = await repo.get_for_update(uow, account.id)  # the account as it is now, locked
    assert current is not None, account.id
    if current.phone == phone:
        raise ServiceError(AccountErrorCode.PHONE_UNCHANGED, "This is already the bound phone.", field)
    old = current.phone
    if current.kind == "portal":
        await repo.lock_phone(uow, phone)
        # REG-4: at most 5 live portal accounts bound to a phone, counted with the phone locked; the
        # account holds the phone only if no other live portal account does.
        if await repo.portal_accounts_on_phone(uow, phone) >= repo.MAX_PORTAL_ACCOUNTS_PER_PHONE:
            raise await _refused(uow, portal_quota_reached(field), code_id, code_field)
        # REG-4: the account holds the phone only if no other live portal account does; binding a phone that
        # holds another, it keeps only its own login names, so it needs one (or it could never sign in).
        holder = await repo.portal_account_by_phone(uow, phone)
        if holder is not None and not _has_own_login_name(current):
            raise await _refused(uow, own_login_name_required(field), code_id, code_field)
        current.phone_holder = holder is None
    else:
        for locked in sorted((old, phone)):
            await repo.lock_phone(uow, locked)
        # REG-3: at most 10 cloud accounts per phone; the count follows the bound phone.
        if not await repo.take_cloud_slot(uow, phone):
            raise await _refused(uow, quota_reached(field), code_id, code_field)
        await repo.release_cloud_slot(uow, old)
    current.phone = phone
    await uow.session.flush()
    return old


def _has_own_login_name(account: Account) -> bool:
    """A login name that does not depend on holding the phone: a username or an e-mail address (REG-1)."""
    return account.username is not None or account.email is not None


async def _refused(uow: Uow, error: ServiceError, code_id: int | None, code_field: str) -> ServiceError:
    return error if code_id is None else await codes.refused_after_code(uow, code_id, error, code_field)
