"""Accounts: registration, portal accounts, activation, profile, password, phone and e-mail.

REG-1 cloud accounts (username + password) and portal accounts (keyed by phone).
REG-2 usernames unique case-insensitively, never reusable after cancellation.
REG-3 at most 10 cloud accounts per phone.  REG-4 at most 1 portal account per phone.
REG-5 registration needs an SMS code and the three agreements, recorded with version and time.
REG-6 account IDs: cloud at registration, portal at activation.  REG-7 password rules.
PROF-1..4 profile, phone change with two codes, e-mail binding with a code, account ID.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from models.accounts import Account, AgreementAcceptance
from services.accounts import repository as repo
from services.accounts.agreements import CURRENT, SIGN_UP_AGREEMENTS, Acceptance, AgreementKind
from services.accounts.errors import AccountErrorCode
from services.auth import policy
from services.auth import repository as auth_repo
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.errors import ServiceError
from services.identifiers import national, normalize_email, normalize_phone
from services.mfa import service as mfa
from services.text import has_control_characters
from services.uow import Uow
from services.viewer import Viewer

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{3,31}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 128  # REG-7
IDLE_TIMEOUT_MIN, IDLE_TIMEOUT_MAX = 15, 1439  # AUTH-3
PROFILE_LIMITS = {"contact_name": 64, "company_name": 128, "industry": 64, "address": 256}


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def _required_phone(raw: str, field: str = "phone") -> str:
    phone = normalize_phone(raw or "")
    if phone is None:
        raise ServiceError(AccountErrorCode.INVALID_PHONE, "Enter a mainland mobile number (11 digits).", field)
    return phone


def check_username(raw: str, field: str = "username") -> str:
    username = (raw or "").strip()
    if not USERNAME_RE.match(username):
        raise ServiceError(
            AccountErrorCode.INVALID_USERNAME,
            "A username is 4 to 32 characters: a letter first, then letters, digits, '_', '-' or '.'.",
            field,
        )
    return username


def check_password(password: str, *, username: str | None, phone: str | None, field: str = "password") -> None:
    """REG-7: 8..128 characters, not the username or phone, not a common password."""
    if len(password) < PASSWORD_MIN:
        raise ServiceError(AccountErrorCode.PASSWORD_TOO_SHORT, "A password has at least 8 characters.", field)
    if len(password) > PASSWORD_MAX:
        raise ServiceError(AccountErrorCode.PASSWORD_TOO_LONG, "A password has at most 128 characters.", field)
    if username and password.lower() == username.lower():
        raise ServiceError(
            AccountErrorCode.PASSWORD_SAME_AS_USERNAME, "The password must differ from the username.", field
        )
    if phone and password in {phone, national(phone)}:
        raise ServiceError(
            AccountErrorCode.PASSWORD_SAME_AS_PHONE, "The password must differ from the phone number.", field
        )
    if password.lower() in _common_passwords():
        raise ServiceError(AccountErrorCode.PASSWORD_TOO_COMMON, "This password is too common; choose another.", field)


def _titles(kinds: tuple[AgreementKind, ...]) -> str:
    """`the user service agreement, the online ordering agreement and the privacy policy`."""
    names = [f"the {CURRENT[k].title.rpartition(' / ')[2].lower()}" for k in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def check_agreements(
    accepted: list[Acceptance], field: str = "agreements", required: tuple[AgreementKind, ...] = SIGN_UP_AGREEMENTS
) -> list[Acceptance]:
    """Every `required` agreement, in its current version: by default the three of REG-5 / REG-6;
    student status asks for the two student agreements (STU-3). Other kinds sent along are ignored."""
    by_kind = {a.kind: a for a in accepted}
    missing = [k for k in required if k not in by_kind]
    if missing:
        raise ServiceError(
            AccountErrorCode.AGREEMENTS_REQUIRED,
            f"Accept {_titles(required)} (missing: {', '.join(k.value for k in missing)}).",
            field,
        )
    outdated = [k for k in required if by_kind[k].version != CURRENT[k].version]
    if outdated:
        raise ServiceError(
            AccountErrorCode.AGREEMENT_VERSION_OUTDATED,
            f"Accept the current version of: {', '.join(k.value for k in outdated)}.",
            field,
        )
    return [by_kind[k] for k in required]


def _username_taken() -> ServiceError:
    return ServiceError(AccountErrorCode.USERNAME_TAKEN, "This username is not available.", "username")


def _email_taken() -> ServiceError:
    return ServiceError(AccountErrorCode.EMAIL_TAKEN, "This e-mail address is bound to another account.", "email")


async def _flush_unique(uow: Uow, column: str, error: ServiceError) -> None:
    """Flush; a unique-key race lost to a concurrent request (PostgreSQL) becomes `error`.

    SQLite never gets here (BEGIN IMMEDIATE serialises writers); the checks before the flush answer.
    """
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        if column not in str(exc.orig):
            raise
        raise error from None


async def record_acceptances(uow: Uow, account_id: int, accepted: list[Acceptance], context: str) -> None:
    """Which agreement, which version, when, in which step (REG-5, REG-6, STU-3)."""
    now = uow.now()
    await repo.add_acceptances(
        uow,
        [
            AgreementAcceptance(
                account_id=account_id, agreement=a.kind.value, version=a.version, context=context, accepted_at=now
            )
            for a in accepted
        ],
    )


async def _new_account_number(uow: Uow) -> int:
    """REG-6: a unique 16-digit account ID, drawn at random (no enumeration)."""
    while True:
        number = 10**15 + secrets.randbelow(9 * 10**15)
        if not await repo.account_number_exists(uow, number):
            return number


# --- REG-2, REG-3, REG-5, REG-6, REG-7: cloud registration -------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterCommand:
    username: str
    password: str
    phone: str
    code: str
    agreements: list[Acceptance]


async def register_cloud(uow: Uow, cmd: RegisterCommand) -> Account:
    # Local checks first: a refused input moves no counter and consumes no code.
    username = check_username(cmd.username)
    phone = _required_phone(cmd.phone)
    check_password(cmd.password, username=username, phone=phone)
    accepted = check_agreements(cmd.agreements)
    codes.check_format(cmd.code)
    key = username.lower()
    if await repo.username_in_use(uow, key):  # REG-2 (CAN-5: retired names included)
        raise _username_taken()
    if await repo.cloud_accounts_on_phone(uow, phone) >= repo.MAX_CLOUD_ACCOUNTS_PER_PHONE:
        raise _phone_quota_error()
    # REG-5: a valid SMS code sent to the phone.
    await codes.verify(uow, destination=phone, purpose=CodePurpose.REGISTRATION, code=cmd.code)
    # REG-3: the atomic count; a concurrent registration may have taken the 10th slot.
    if not await repo.take_cloud_slot(uow, phone):
        raise _phone_quota_error()
    password_hash = await uow.deps.hasher.hash(cmd.password)
    now = uow.now()
    new_account = Account(
        kind="cloud",
        status="active",
        account_number=await _new_account_number(uow),  # REG-6: at registration
        username=username,
        username_key=key,
        phone=phone,
        password_hash=password_hash,
        idle_timeout_minutes=60,
        op_protection_sms=True,  # MFA-3
        op_protection_totp=False,
        login_protection_sms=False,
        login_protection_totp=False,
        created_at=now,
        activated_at=now,
        password_changed_at=now,
    )
    uow.session.add(new_account)
    await _flush_unique(uow, "username_key", _username_taken())  # REG-2 under concurrency
    account = new_account
    await record_acceptances(uow, account.id, accepted, "registration")
    return account


def _phone_quota_error(field: str = "phone") -> ServiceError:
    return ServiceError(
        AccountErrorCode.PHONE_QUOTA_REACHED, "This phone number already has 10 cloud accounts (REG-3).", field
    )


# --- REG-4 / REG-6: portal accounts -----------------------------------------------------------


async def portal_account_for_sms_sign_in(uow: Uow, phone: str) -> tuple[Account, bool]:
    """REG-4: the phone's portal account, created on first SMS sign-in (one per phone); (account, created)."""
    await repo.lock_phone(uow, phone)
    existing = await repo.portal_account_by_phone(uow, phone)
    if existing is not None:
        return existing, False
    account = await repo.add(
        uow,
        Account(
            kind="portal",
            status="active",
            phone=phone,
            idle_timeout_minutes=60,
            op_protection_sms=True,  # MFA-3
            op_protection_totp=False,
            login_protection_sms=False,
            login_protection_totp=False,
            created_at=uow.now(),
        ),
    )
    return account, True


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    contact_name: str | None = None
    company_name: str | None = None
    industry: str | None = None
    address: str | None = None


def _apply_profile(account: Account, changes: ProfileChanges) -> None:
    values = {}
    for name, limit in PROFILE_LIMITS.items():
        value = getattr(changes, name)
        if value is None:
            continue
        value = value.strip()
        if has_control_characters(value):  # one line each; PostgreSQL refuses NUL outright
            raise ServiceError(AccountErrorCode.VALUE_INVALID, "No control characters or line breaks.", _camel(name))
        if len(value) > limit:
            raise ServiceError(AccountErrorCode.VALUE_TOO_LONG, f"At most {limit} characters.", _camel(name))
        values[name] = value or None
    for name, value in values.items():
        setattr(account, name, value)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


async def activate_portal(uow: Uow, viewer: Viewer, agreements: list[Acceptance], profile: ProfileChanges) -> Account:
    """REG-6: accept the three agreements on first entry; the account ID is bound for life."""
    account = viewer.account
    if account.kind != "portal":
        raise ServiceError(AccountErrorCode.NOT_A_PORTAL_ACCOUNT, "Only portal accounts are activated.", None)
    if account.account_number is not None:
        raise ServiceError(AccountErrorCode.ALREADY_ACTIVATED, "This account is already activated.", None)
    accepted = check_agreements(agreements)
    _apply_profile(account, profile)
    account.account_number = await _new_account_number(uow)
    account.activated_at = uow.now()
    await uow.session.flush()
    await record_acceptances(uow, account.id, accepted, "activation")
    return account


async def update_profile(uow: Uow, viewer: Viewer, changes: ProfileChanges) -> Account:
    """PROF-1: the owner edits the basic information."""
    account = viewer.account
    _apply_profile(account, changes)
    await uow.session.flush()
    return account


async def set_idle_timeout(uow: Uow, viewer: Viewer, minutes: int) -> Account:
    """AUTH-3: 15 minutes to 23 h 59 min."""
    account = viewer.account
    if not IDLE_TIMEOUT_MIN <= minutes <= IDLE_TIMEOUT_MAX:
        raise ServiceError(
            AccountErrorCode.TIMEOUT_OUT_OF_RANGE,
            f"The idle timeout is between {IDLE_TIMEOUT_MIN} and {IDLE_TIMEOUT_MAX} minutes.",
            "minutes",
        )
    # Sessions already idle past the old timeout have ended; a longer timeout must not revive them.
    now = uow.now()
    await auth_repo.end_idle_sessions(uow, account.id, now - timedelta(minutes=account.idle_timeout_minutes), now)
    account.idle_timeout_minutes = minutes
    await uow.session.flush()
    return account


async def set_username(uow: Uow, viewer: Viewer, raw: str) -> Account:
    """A portal account may choose a username once, to sign in with it; it never changes (PROF-4)."""
    account = viewer.account
    if account.username is not None:
        raise ServiceError(AccountErrorCode.USERNAME_IMMUTABLE, "A username can never be changed.", "username")
    username = check_username(raw)
    if await repo.username_in_use(uow, username.lower()):
        raise _username_taken()
    account.username = username
    account.username_key = username.lower()
    await _flush_unique(uow, "username_key", _username_taken())
    return account


# --- AUTH-4 / MFA-3: password change ----------------------------------------------------------


async def change_password(
    uow: Uow,
    viewer: Viewer,
    *,
    current_password: str | None,
    new_password: str,
    step_up_token: str | None,
) -> tuple[int, Account]:
    """Returns how many other sessions were ended (AUTH-4), and the account."""
    account, session_id = viewer.account, viewer.session_id
    check_password(new_password, username=account.username, phone=account.phone, field="newPassword")
    # The grant first (checked, not yet used): without it the current password is not even tried.
    await mfa.require_step_up(uow, account, session_id, step_up_token, consume=False)
    if account.password_hash is not None:
        await _check_current_password(uow, account, current_password or "")
    await mfa.require_step_up(uow, account, session_id, step_up_token)
    account.password_hash = await uow.deps.hasher.hash(new_password)
    account.password_changed_at = uow.now()
    await uow.session.flush()
    ended = await auth_repo.end_all_sessions(uow, account.id, uow.now(), "password_changed", session_id)
    return ended, account


async def _check_current_password(uow: Uow, account: Account, password: str) -> None:
    """AUTH-5 for a signed-in session: wrong current passwords are counted and locked like sign-ins."""
    now = uow.now()
    key = f"account:{account.id}"
    until = await auth_repo.locked_until(uow, [key], now)
    if until is not None:
        raise _current_password_locked(until, now)
    if await uow.deps.hasher.verify(account.password_hash, password):
        await auth_repo.clear(uow, key)
        return
    failures = await auth_repo.record_failure(uow, key, now, policy.THROTTLE_WINDOW)
    if failures >= policy.ACCOUNT_MAX_FAILURES:
        await auth_repo.lock(uow, key, now + policy.ACCOUNT_LOCK, now)
        raise _current_password_locked(now + policy.ACCOUNT_LOCK, now)
    remaining = policy.ACCOUNT_MAX_FAILURES - failures
    raise ServiceError(
        AccountErrorCode.WRONG_PASSWORD,
        f"The current password is wrong; {remaining} tries left before a 15-minute lock.",
        "currentPassword",
        persist=True,
        attempts_remaining=remaining,
    )


def _current_password_locked(until: datetime, now: datetime) -> ServiceError:
    return ServiceError(
        AccountErrorCode.TOO_MANY_ATTEMPTS,
        "Too many wrong passwords; try again later.",
        "currentPassword",
        persist=True,
        retry_after=policy.retry_after_seconds((until - now).total_seconds()),
    )


# --- PROF-2: phone change with two codes --------------------------------------------------------


async def change_phone(
    uow: Uow, viewer: Viewer, *, new_phone: str, new_phone_code: str, step_up_token: str | None
) -> Account:
    """PROF-2: a code to the current phone (the SMS step-up grant), then one to the new phone."""
    account, session_id = viewer.account, viewer.session_id
    phone = _required_phone(new_phone, "newPhone")
    if phone == account.phone:
        raise ServiceError(AccountErrorCode.PHONE_UNCHANGED, "This is already the bound phone.", "newPhone")
    codes.check_format(new_phone_code, "newPhoneCode")
    # The grant first (checked, not yet used): without it nothing below is revealed or counted.
    await mfa.require_step_up(uow, account, session_id, step_up_token, require_sms=True, consume=False)
    if account.kind == "portal":
        await repo.lock_phone(uow, phone)
        if await repo.portal_account_by_phone(uow, phone) is not None:  # REG-4
            raise ServiceError(
                AccountErrorCode.PHONE_HAS_PORTAL_ACCOUNT,
                "This phone number already has a portal account.",
                "newPhone",
            )
    elif await repo.cloud_accounts_on_phone(uow, phone) >= repo.MAX_CLOUD_ACCOUNTS_PER_PHONE:
        raise _phone_quota_error("newPhone")
    # A wrong code is committed (counted, CODE-2), so the grant is used only once the code is right.
    await codes.verify(
        uow, destination=phone, purpose=CodePurpose.PHONE_CHANGE_NEW, code=new_phone_code, field="newPhoneCode"
    )
    await mfa.require_step_up(uow, account, session_id, step_up_token, require_sms=True)
    if account.kind == "cloud":  # REG-3 follows the bound phone
        if not await repo.take_cloud_slot(uow, phone):
            raise _phone_quota_error("newPhone")
        await repo.release_cloud_slot(uow, account.phone)
    old = account.phone
    account.phone = phone
    await uow.session.flush()
    await uow.deps.notifier.send(
        uow,
        channel="sms",
        destination=old,
        purpose="PHONE_CHANGED",
        text="【账号中心】您的账号已更换绑定手机。 Account center: the phone bound to your account was changed.",
    )
    return account


# --- PROF-3: e-mail binding ----------------------------------------------------------------------


def _required_email(raw: str) -> str:
    email = normalize_email(raw or "")
    if email is None:
        raise ServiceError(AccountErrorCode.INVALID_EMAIL, "Enter a valid e-mail address.", "email")
    return email


async def bind_email(uow: Uow, viewer: Viewer, *, email: str, code: str, step_up_token: str | None) -> Account:
    """PROF-3: a code sent to that e-mail; MFA-3: the change is a protected operation."""
    account, session_id = viewer.account, viewer.session_id
    address = _required_email(email)
    codes.check_format(code)
    # The grant first (checked, not yet used): without it nothing below is revealed or counted.
    await mfa.require_step_up(uow, account, session_id, step_up_token, consume=False)
    if await repo.email_in_use(uow, address.lower(), except_account_id=account.id):
        raise _email_taken()
    # As for the phone: a counted wrong code must not use up the grant.
    await codes.verify(uow, destination=address, purpose=CodePurpose.EMAIL_BIND, code=code)
    await mfa.require_step_up(uow, account, session_id, step_up_token)
    account.email = address
    account.email_key = address.lower()
    await _flush_unique(uow, "email_key", _email_taken())
    return account
