"""Accounts: registration, portal accounts, activation, profile, password, phone and e-mail.

REG-1 cloud accounts (username + password) and portal accounts (keyed by phone).
REG-2 usernames unique case-insensitively, never reusable after cancellation.
REG-3 at most 10 cloud accounts per phone.  REG-4 a phone holds at most 1 portal account, is bound to at
most 5, and its SMS sign-in reaches only the one it holds.
REG-5 registration needs an SMS code and the three agreements, recorded with version and time.
REG-6 account IDs: cloud at registration, portal at activation.  REG-7 password rules.
PROF-1..4 profile, phone change with two codes, e-mail binding with a code, account ID.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.accounts import Account, AgreementAcceptance
from services.accounts import phones, strength
from services.accounts import repository as repo
from services.accounts.agreements import CURRENT, SIGN_UP_AGREEMENTS, Acceptance, AgreementKind
from services.accounts.errors import AccountErrorCode
from services.auth import policy, throttle
from services.auth import repository as auth_repo
from services.clock import SHANGHAI, shanghai_day, shanghai_day_start
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions, ViewerTransactions
from services.errors import Problems, ServiceError, checked
from services.history import service as history
from services.history.service import EventKind
from services.identifiers import national, normalize_email, normalize_phone
from services.mfa import service as mfa
from services.text import has_control_characters
from services.uow import Uow
from services.viewer import SIGN_IN_FIRST, Viewer

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{3,31}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 128  # REG-7
IDLE_TIMEOUT_MIN, IDLE_TIMEOUT_MAX = 15, 1439  # AUTH-3
PROFILE_LIMITS = {"contact_name": 64, "company_name": 128, "industry": 64, "address": 256}


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


def check_password_length(password: str, field: str = "password") -> None:
    """REG-7: 8..128 characters. Judges the input alone, so it may run before any secret is checked."""
    if len(password) < PASSWORD_MIN:
        raise ServiceError(AccountErrorCode.PASSWORD_TOO_SHORT, "A password has at least 8 characters.", field)
    if len(password) > PASSWORD_MAX:
        raise ServiceError(AccountErrorCode.PASSWORD_TOO_LONG, "A password has at most 128 characters.", field)


def check_password_rules(password: str, *, username: str | None, phone: str | None, field: str = "password") -> None:
    """REG-7's cheap rules: 8..128 characters, not the username or phone; every broken one at once.
    Compares with the values given: where those are the account's data, not the caller's own input, run
    it only after a secret was checked (REC-1)."""
    problems = Problems()
    checked(problems, check_password_length, password, field)
    if username and password.lower() == username.lower():
        problems.add(AccountErrorCode.PASSWORD_SAME_AS_USERNAME, "The password must differ from the username.", field)
    if phone and password in {phone, national(phone)}:
        problems.add(AccountErrorCode.PASSWORD_SAME_AS_PHONE, "The password must differ from the phone number.", field)
    if (refusal := problems.refusal()) is not None:
        raise refusal


async def check_password_strength(
    password: str,
    *,
    username: str | None,
    phone: str | None,
    email: str | None = None,
    names: tuple[str | None, ...] = (),
    field: str = "password",
) -> None:
    """REG-7: hard to guess (zxcvbn score >= 3) with the user's own username, phone, e-mail and names as
    the first words tried. Up to ~15 ms of CPU on zxcvbn's own thread (`strength.judge`): await it with
    no transaction open, and, where a secret gates the request, only after that secret was checked and
    counted (an anonymous caller must not get zxcvbn to run for free). Run `check_password_rules`
    first."""
    local_part = email.partition("@")[0] if email else None
    numbers = (phone, national(phone)) if phone else ()
    judged = await strength.judge(password, (username, *numbers, email, local_part, *names))
    if not judged.acceptable:
        advice = " ".join(filter(None, (judged.warning, *judged.suggestions)))
        raise ServiceError(
            AccountErrorCode.PASSWORD_TOO_WEAK,
            f"This password is too easy to guess. {advice}".strip(),
            field,
        )


def _titles(kinds: tuple[AgreementKind, ...]) -> str:
    """`the user service agreement, the online ordering agreement and the privacy policy`."""
    names = [f"the {CURRENT[k].title.rpartition(' / ')[2].lower()}" for k in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def check_agreements(
    accepted: list[Acceptance], field: str = "agreements", required: tuple[AgreementKind, ...] = SIGN_UP_AGREEMENTS
) -> list[Acceptance]:
    """Every `required` agreement, in its current version: by default the three of REG-5 / REG-6;
    student status asks for the two student agreements (STU-3). Other kinds sent along are ignored.
    Every problem at once: the missing kinds on `field`, each outdated version on its own item
    (`agreements.1.version`)."""
    by_kind = {a.kind: (index, a) for index, a in enumerate(accepted)}
    problems = Problems()
    missing = [k for k in required if k not in by_kind]
    if missing:
        problems.add(
            AccountErrorCode.AGREEMENTS_REQUIRED,
            f"Accept {_titles(required)} (missing: {', '.join(k.value for k in missing)}).",
            field,
        )
    for kind in required:
        if kind in by_kind and by_kind[kind][1].version != CURRENT[kind].version:
            problems.add(
                AccountErrorCode.AGREEMENT_VERSION_OUTDATED,
                f"Accept the current version of {kind.value}.",
                f"{field}.{by_kind[kind][0]}.version",
            )
    if (refusal := problems.refusal()) is not None:
        raise refusal
    return [by_kind[k][1] for k in required]


def _username_taken() -> ServiceError:
    return ServiceError(AccountErrorCode.USERNAME_TAKEN, "This username is not available.", "username")


def _email_taken() -> ServiceError:
    return ServiceError(AccountErrorCode.EMAIL_TAKEN, "This e-mail address is bound to another account.", "email")


async def _flush_unique(uow: Uow, column: str, error: ServiceError) -> None:
    """Flush; a unique-key race lost to a concurrent request (PostgreSQL) becomes `error`."""
    if not await repo.flush_unique(uow, column):
        raise error


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


@dataclass(frozen=True, slots=True)
class _Registration:
    """A registration whose input passed every check that needs no state."""

    username: str
    phone: str
    code: str
    agreements: list[Acceptance]


async def register_cloud(tx: Transactions, cmd: RegisterCommand) -> Account | ServiceError:
    """REG-2..REG-7 in steps, so nothing about other accounts is told before the code is checked and
    no write transaction waits on zxcvbn or argon2: the checks that need no state; a short write that
    checks (and counts) the code, then the username and the phone's quota; the password's strength
    and the hash, outside any transaction; a short write that checks again and creates the account."""
    try:
        registration = _checked_registration(cmd)
    except ServiceError as err:
        return err
    gate = await tx.write(_registration_gate, registration)
    if isinstance(gate, ServiceError):
        return gate
    await tx.release()
    try:
        # REG-7: zxcvbn only once the code is right, so a document of aliased registrations without a
        # code cannot make it run. A weak password leaves the code unused and uncounted: its owner
        # corrects the password and sends the same code again.
        await check_password_strength(cmd.password, username=registration.username, phone=registration.phone)
    except ServiceError as err:
        return err
    password_hash = await tx.deps.hasher.hash(cmd.password)
    return await tx.write(_create_cloud_account, registration, password_hash)


def _checked_registration(cmd: RegisterCommand) -> _Registration:
    """The input alone judged, every problem at once: a refusal here tells nothing, moves no counter
    and uses no code. REG-7's cheap rules only: zxcvbn waits for the code (`register_cloud`)."""
    problems = Problems()
    username = checked(problems, check_username, cmd.username)  # REG-2
    phone = checked(problems, _required_phone, cmd.phone)  # REG-3
    # REG-7, against the name and phone as typed (a name with a problem of its own still counts)
    typed_username = (cmd.username or "").strip()
    checked(problems, check_password_rules, cmd.password, username=typed_username, phone=phone)
    accepted = checked(problems, check_agreements, cmd.agreements)  # REG-5
    code = checked(problems, codes.check_format, cmd.code)  # CODE-1
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert username is not None
    assert phone is not None
    assert accepted is not None
    assert code is not None
    return _Registration(username, phone, code, accepted)


async def _registration_gate(uow: Uow, registration: _Registration) -> int:
    """The code's ID once the code, the username and the phone's quota allow the registration."""
    # REG-5 first: a valid SMS code sent to the phone, checked and counted (CODE-2) before anything
    # about other accounts is answered, so usernames cannot be listed without a code.
    code_id = await codes.check(
        uow, destination=registration.phone, purpose=CodePurpose.REGISTRATION, code=registration.code
    )
    # REG-2 (CAN-5: retired names included) and REG-3: each such refusal after a right code costs one
    # of its 5 tries, so one code probes at most 5 names while its owner can still correct the name.
    if await repo.username_in_use(uow, registration.username.lower()):
        raise await codes.refused_after_code(uow, code_id, _username_taken())
    if await repo.cloud_accounts_on_phone(uow, registration.phone) >= repo.MAX_CLOUD_ACCOUNTS_PER_PHONE:
        raise await codes.refused_after_code(uow, code_id, phones.quota_reached("phone"))
    return code_id


async def _create_cloud_account(uow: Uow, registration: _Registration, password_hash: str) -> Account:
    # Again: since the first check another request may have taken the name, the last slot or the code.
    code_id = await _registration_gate(uow, registration)
    # REG-3: the atomic count; a concurrent registration may have taken the 10th slot.
    if not await repo.take_cloud_slot(uow, registration.phone):
        raise await codes.refused_after_code(uow, code_id, phones.quota_reached("phone"))
    await codes.use(uow, code_id)  # CODE-2: single use
    username, now = registration.username, uow.now()
    new_account = Account(
        kind="cloud",
        status="active",
        account_number=await _new_account_number(uow),  # REG-6: at registration
        username=username,
        username_key=username.lower(),
        phone=registration.phone,
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
    repo.stage(uow, new_account)  # written by the flush below
    # REG-2 under concurrency (PostgreSQL): a registration of the same name that committed after this
    # transaction's check. The name was free when checked, so this tells a prober nothing.
    await _flush_unique(uow, "username_key", _username_taken())
    await record_acceptances(uow, new_account.id, registration.agreements, "registration")
    return new_account


# --- REG-4 / REG-6: portal accounts -----------------------------------------------------------


async def portal_account_for_sms_sign_in(uow: Uow, phone: str) -> tuple[Account, bool]:
    """REG-4: the portal account the phone holds, created on the first SMS sign-in; (account, created).

    Only the held one: portal accounts that merely bind the phone are never reached by its SMS sign-in.
    A phone holding none gets a new one, unless 5 portal accounts bind it already
    (PHONE_PORTAL_QUOTA_REACHED; the caller checked the code, so only the phone's holder learns it)."""
    await repo.lock_phone(uow, phone)
    existing = await repo.portal_account_by_phone(uow, phone)
    if existing is not None:
        return existing, False
    if await repo.portal_accounts_on_phone(uow, phone) >= repo.MAX_PORTAL_ACCOUNTS_PER_PHONE:
        raise phones.portal_quota_reached("phone")
    account = await repo.add(
        uow,
        Account(
            kind="portal",
            status="active",
            phone=phone,
            phone_holder=True,
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


def _profile_values(changes: ProfileChanges, prefix: str = "") -> dict[str, str | None]:
    """PROF-1: the fields to set (None clears), every field's problem at once. `prefix` is where the
    profile sits in the input (`profile.` at activation), for the problems' paths."""
    problems = Problems()
    values: dict[str, str | None] = {}
    for name, limit in PROFILE_LIMITS.items():
        value = getattr(changes, name)
        if value is None:
            continue
        value = value.strip()
        field = prefix + _camel(name)
        if has_control_characters(value):  # one line each; PostgreSQL refuses NUL outright
            problems.add(AccountErrorCode.VALUE_INVALID, "No control characters or line breaks.", field)
        elif len(value) > limit:
            problems.add(AccountErrorCode.VALUE_TOO_LONG, f"At most {limit} characters.", field)
        values[name] = value or None
    if (refusal := problems.refusal()) is not None:
        raise refusal
    return values


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


async def activate_portal(uow: Uow, viewer: Viewer, agreements: list[Acceptance], profile: ProfileChanges) -> Account:
    """REG-6: accept the three agreements on first entry; the account ID is bound for life."""
    account = viewer.account
    # The input first, every problem at once: the agreements (REG-5) and the basic information (PROF-1).
    problems = Problems()
    accepted = checked(problems, check_agreements, agreements)
    values = checked(problems, _profile_values, profile, "profile.")
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert accepted is not None
    assert values is not None
    if account.kind != "portal":
        raise ServiceError(AccountErrorCode.NOT_A_PORTAL_ACCOUNT, "Only portal accounts are activated.", None)
    if account.account_number is not None:
        raise ServiceError(AccountErrorCode.ALREADY_ACTIVATED, "This account is already activated.", None)
    for name, value in values.items():
        setattr(account, name, value)
    account.account_number = await _new_account_number(uow)
    account.activated_at = uow.now()
    await uow.session.flush()
    await record_acceptances(uow, account.id, accepted, "activation")
    return account


async def update_profile(uow: Uow, viewer: Viewer, changes: ProfileChanges) -> Account:
    """PROF-1: the owner edits the basic information."""
    account = viewer.account
    for name, value in _profile_values(changes).items():
        setattr(account, name, value)
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


# --- PROF-4 / PROF-5: usernames -----------------------------------------------------------------

USERNAME_CHANGE_INTERVAL_YEARS = 1  # PROF-5
USERNAME_CHECKS_PER_DAY = 10  # taken-name answers per account and Asia/Shanghai day


def username_changeable_at(account: Account, now: datetime) -> datetime | None:
    """PROF-5: when a portal account may next change its username; None when it may now (it has none
    yet, never changed it, or its last change is a year old). A cloud account never may (PROF-4): None
    as well, the caller tells the kinds apart."""
    if account.kind != "portal" or account.username is None or account.username_changed_at is None:
        return None
    at = add_years(account.username_changed_at, USERNAME_CHANGE_INTERVAL_YEARS)
    return at if at > now else None


def add_years(when: datetime, years: int) -> datetime:
    """The same instant `years` calendar years later; 29 February gives 1 March (never less than a year)."""
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February into a common year
        return when.replace(year=when.year + years, month=3, day=1)


def _username_checks_budget(uow: Uow, account_id: int) -> throttle.Budget:
    """Whether a name is taken is told a signed-in account at most USERNAME_CHECKS_PER_DAY times a day:
    any portal account may ask (no code gates it), so the answers are counted, per account and
    Asia/Shanghai day, before the name is looked up."""
    day = shanghai_day(uow.now())
    return throttle.Budget(
        f"username-check:{account_id}:{day}", USERNAME_CHECKS_PER_DAY, timedelta(0), window=timedelta(days=1)
    )


async def set_username(uow: Uow, viewer: Viewer, raw: str) -> Account:
    """PROF-4: a cloud account's username never changes. PROF-5: a portal account chooses its first
    username at any time (it is not a change: until then it signs in with its phone or e-mail), and
    changes it at most once a year after that; the refusal says when the next change is possible.
    The name it gives up is retired, never given to another account (as for cancelled accounts, REG-2).
    Choosing the name it already has changes nothing."""
    username = check_username(raw)  # REG-2's form first: it needs no state
    # The account locked and read afresh: of two changes racing, the second sees the first (PROF-5).
    account = await repo.get_for_update(uow, viewer.account.id)
    assert account is not None, viewer.account.id
    if account.kind != "portal":
        raise ServiceError(AccountErrorCode.USERNAME_IMMUTABLE, "A username can never be changed.", "username")
    if account.username == username:
        return account
    now = uow.now()
    changeable_at = username_changeable_at(account, now)
    if changeable_at is not None:  # PROF-5
        shown = changeable_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        raise ServiceError(
            AccountErrorCode.USERNAME_CHANGE_TOO_SOON,
            f"The username can be changed once a year; the next change is possible from {shown} (Asia/Shanghai).",
            "username",
            retry_after=policy.retry_after_seconds((changeable_at - now).total_seconds()),
        )
    key = username.lower()
    if key != account.username_key:  # a change of letter case only is the account's own name
        # The answer "taken" is counted before the name is looked up, atomically, so racing requests
        # get no more answers than the budget allows; a counted answer stays counted (persist).
        budget = _username_checks_budget(uow, account.id)
        if await throttle.reserve(uow, budget) is None:
            _, until_tomorrow = shanghai_day_start(now)
            raise ServiceError(
                AccountErrorCode.USERNAME_CHECK_LIMIT_REACHED,
                f"At most {USERNAME_CHECKS_PER_DAY} usernames can be tried a day; try again tomorrow.",
                "username",
                retry_after=until_tomorrow,
            )
        if await repo.username_in_use(uow, key):
            raise ServiceError(
                AccountErrorCode.USERNAME_TAKEN, "This username is not available.", "username", persist=True
            )
    old_key = account.username_key
    if account.username is not None:
        account.username_changed_at = now  # PROF-5: a change, not the first choice
    account.username = username
    account.username_key = key
    await _flush_unique(uow, "username_key", _username_taken())
    if old_key is not None and old_key != key:
        await repo.retire_username(uow, old_key, now)
    return account


# --- AUTH-4 / MFA-3: password change ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PasswordChange:
    account_id: int
    password_hash: str | None  # the current password's hash judged against; None: no password yet
    counted: throttle.Try | None  # the try counted against the account's budget (AUTH-5)


async def change_password(
    tx: ViewerTransactions,
    *,
    current_password: str | None,
    new_password: str,
    step_up_token: str | None,
) -> tuple[int, Account] | ServiceError:
    """Returns how many other sessions were ended (AUTH-4), and the account.

    In steps, like password sign-in, so no write transaction waits on zxcvbn or argon2: the new password
    judged against the account as a read sees it (REG-7; the caller's own data, so it may come first),
    outside any transaction; a short write that checks the grant and counts a try of the current
    password (AUTH-5); the hashes in worker threads; a short write that settles the try and stores the
    new password.
    """
    viewer = await tx.auth()
    if viewer is None:
        return ServiceError(AccountErrorCode.AUTHENTICATION_REQUIRED, SIGN_IN_FIRST, None)
    account = viewer.account
    try:
        check_password_rules(new_password, username=account.username, phone=account.phone, field="newPassword")
        await tx.release()
        await check_password_strength(new_password, username=account.username, phone=account.phone, field="newPassword")
    except ServiceError as err:
        return err
    attempt = await tx.write_viewer(
        AccountErrorCode.AUTHENTICATION_REQUIRED,
        _password_change_attempt,
        step_up_token=step_up_token,
    )
    if isinstance(attempt, ServiceError):
        return attempt
    await tx.release()
    hasher = tx.deps.hasher
    right = attempt.password_hash is None or await hasher.verify(attempt.password_hash, current_password or "")
    new_hash = await hasher.hash(new_password) if right else None
    return await tx.write_viewer(
        AccountErrorCode.AUTHENTICATION_REQUIRED, _password_change_outcome, attempt, new_hash, step_up_token
    )


async def _password_change_attempt(uow: Uow, viewer: Viewer, *, step_up_token: str | None) -> _PasswordChange:
    account, session_id = viewer.account, viewer.session_id
    # REG-7 was judged before this transaction (`change_password`). The grant first (checked, not yet
    # used): without it the current password is not even tried.
    await mfa.require_step_up(uow, account, session_id, step_up_token, consume=False)
    if account.password_hash is None:
        return _PasswordChange(account.id, None, None)
    # AUTH-5: a wrong current password is counted against the account's budget, the one its sign-ins
    # share, before the hash; a locked or spent budget refuses unhashed.
    budget = throttle.account_budget(account.id)
    counted = await throttle.reserve(uow, budget)
    if counted is None:
        raise _current_password_locked(await throttle.retry_at(uow, budget), uow.now(), persist=False)
    return _PasswordChange(account.id, account.password_hash, counted)


async def _password_change_outcome(
    uow: Uow, viewer: Viewer, attempt: _PasswordChange, new_hash: str | None, step_up_token: str | None
) -> tuple[int, Account]:
    account, session_id = viewer.account, viewer.session_id
    now = uow.now()
    # The password must still be the one judged (another change may have happened meanwhile).
    unchanged = account.id == attempt.account_id and account.password_hash == attempt.password_hash
    if new_hash is None or not unchanged:
        if attempt.counted is None:
            raise ServiceError(
                AccountErrorCode.WRONG_PASSWORD, "The password was set meanwhile; try again.", "currentPassword"
            )
        lock = await throttle.failed(uow, attempt.counted)
        if lock is not None:
            raise _current_password_locked(lock, now, persist=True)
        remaining = attempt.counted.remaining
        raise ServiceError(
            AccountErrorCode.WRONG_PASSWORD,
            f"The current password is wrong; {remaining} tries left before a 15-minute lock.",
            "currentPassword",
            persist=True,
            attempts_remaining=remaining,
        )
    if attempt.counted is not None:
        # AUTH-5: a lock set by a racing sign-in or change while the hash ran holds (and rolls back).
        until = await throttle.succeeded(uow, attempt.counted.budget)
        if until is not None:
            raise _current_password_locked(until, now, persist=False)
    await mfa.require_step_up(uow, account, session_id, step_up_token)
    account.password_hash = new_hash
    account.password_changed_at = now
    await uow.session.flush()
    ended = await auth_repo.end_all_sessions(uow, account.id, now, "password_changed", session_id)
    await history.record(uow, account.id, EventKind.PASSWORD_CHANGED, viewer.client, "changed")  # HIST-1
    return ended, account


def _current_password_locked(until: datetime, now: datetime, *, persist: bool) -> ServiceError:
    return ServiceError(
        AccountErrorCode.TOO_MANY_ATTEMPTS,
        "Too many wrong passwords; try again later.",
        "currentPassword",
        persist=persist,
        retry_after=policy.retry_after_seconds((until - now).total_seconds()),
    )


# --- PROF-2: phone change with two codes --------------------------------------------------------


async def change_phone(uow: Uow, viewer: Viewer, *, new_phone: str, new_phone_code: str, step_up_token: str) -> Account:
    """PROF-2: a code to the current phone (the SMS step-up grant), then one to the new phone.

    Whether the new phone has accounts (REG-3, REG-4) is told only after its code was found right, and
    each such answer costs one of the code's tries: the account learns nothing about a phone it does
    not hold, whatever grant it has."""
    account, session_id = viewer.account, viewer.session_id
    # The input alone first, every problem at once. The grant is always required (PROF-2): an empty
    # one is as unknown as a wrong one.
    problems = Problems()
    phone = checked(problems, _required_phone, new_phone, "newPhone")
    checked(problems, codes.check_format, new_phone_code, "newPhoneCode")
    if not step_up_token.strip():
        problems.add(
            AccountErrorCode.STEP_UP_INVALID,
            "The step-up grant is unknown, used or expired; verify again.",
            "stepUpToken",
        )
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert phone is not None
    if phone == account.phone:
        raise ServiceError(AccountErrorCode.PHONE_UNCHANGED, "This is already the bound phone.", "newPhone")
    # The grant first (checked, not yet used): without it nothing below is revealed or counted.
    await mfa.require_step_up(uow, account, session_id, step_up_token, require_sms=True, consume=False)
    # Then the new phone's code (CODE-2: a wrong one is counted and committed), before anything about
    # the phone's other accounts is answered; it is used only once the change is decided.
    code_id = await codes.check(
        uow, destination=phone, purpose=CodePurpose.PHONE_CHANGE_NEW, code=new_phone_code, field="newPhoneCode"
    )
    # REG-3 / REG-4: a phone the account cannot move to, each refusal a counted try of the code.
    await phones.check_bindable(uow, account, phone, code_id=code_id)
    old = await phones.rebind(uow, account, phone, code_id=code_id)  # REG-3 / REG-4, atomically
    await codes.use(uow, code_id, "newPhoneCode")  # CODE-2: single use
    # The grant is used only by a change that happens (a refusal above leaves it for another phone).
    await mfa.require_step_up(uow, account, session_id, step_up_token, require_sms=True)
    await uow.deps.notifier.send(
        uow,
        channel="sms",
        destination=old,
        purpose="PHONE_CHANGED",
        text="【账号中心】您的账号已更换绑定手机。 Account center: the phone bound to your account was changed.",
    )
    await history.record(uow, account.id, EventKind.PHONE_CHANGED, viewer.client)  # HIST-1
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
    # The input alone first, every problem at once.
    problems = Problems()
    address = checked(problems, _required_email, email)
    checked(problems, codes.check_format, code)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert address is not None
    # The grant first (checked, not yet used): without it nothing below is revealed or counted.
    await mfa.require_step_up(uow, account, session_id, step_up_token, consume=False)
    # Then the code sent to that address (a counted wrong code must not use up the grant): only the
    # address's holder learns whether another account has it, and each such answer costs one of the
    # code's tries, as for a taken username (REG-2) or a phone with accounts (PROF-2).
    code_id = await codes.check(uow, destination=address, purpose=CodePurpose.EMAIL_BIND, code=code)
    if await repo.email_in_use(uow, address.lower(), except_account_id=account.id):
        raise await codes.refused_after_code(uow, code_id, _email_taken())
    await codes.use(uow, code_id)
    await mfa.require_step_up(uow, account, session_id, step_up_token)
    detail = "changed" if account.email else "bound"
    account.email = address
    account.email_key = address.lower()
    await _flush_unique(uow, "email_key", _email_taken())
    await history.record(uow, account.id, EventKind.EMAIL_CHANGED, viewer.client, detail)  # HIST-1
    return account
