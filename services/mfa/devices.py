"""The virtual MFA device (MFA-1, MFA-4, MFA-5, MFA-6), recovery codes, and the protections (MFA-2).

TOTP follows RFC 6238: 6 digits, 30-second steps, SHA-1 (what authenticator apps expect). A code is
accepted for the current step and one step either side (clock drift of up to 30 s), and only for a
step later than the last one accepted: the device's `last_step` is compared and set in one
conditional UPDATE, so a code works once, also when sent ten times at once (MFA-5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from models.accounts import Account
from models.mfa import MfaDevice
from services.accounts import repository as accounts_repo
from services.auth import repository as auth_repo
from services.client import ClientInfo
from services.codes import service as codes
from services.errors import Problems, ServiceError
from services.history import service as history
from services.history.service import EventKind
from services.identifiers import national
from services.mfa import repository as repo
from services.mfa.errors import MfaErrorCode as Code
from services.secretbox import open_sealed, seal
from services.security import random_digits
from services.text import is_ascii_digits
from services.uow import Uow
from services.viewer import Viewer

ISSUER = "Account Center"
STEP_SECONDS = 30  # RFC 6238
DRIFT_STEPS = 1  # one step either side: codes from 30 s ago to 30 s ahead
BIND_LOOKBACK_STEPS = 4  # two consecutive codes typed within two minutes bind the device
RECOVERY_CODES = 10
RECOVERY_CODE_GROUPS = 2  # shown as two groups of five digits: 12345-67890
RECOVERY_CODE_DIGITS = 10
MAX_GUESSES = 5  # wrong TOTP or recovery codes per account ...
GUESS_WINDOW = timedelta(minutes=15)  # ... in 15 minutes, then the factor is locked for 15 minutes


@dataclass(frozen=True, slots=True)
class BindingStarted:
    secret: str
    uri: str


@dataclass(frozen=True, slots=True)
class Bound:
    device: MfaDevice
    recovery_codes: list[str]


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=6, interval=STEP_SECONDS)


def _code_at(secret: str, step: int) -> str:
    return str(_totp(secret).at(step * STEP_SECONDS))


def _totp_value(code: str) -> str:
    return (code or "").strip().replace(" ", "")


def totp_code_problem(code: str, field: str) -> ServiceError | None:
    """The refusal of a TOTP code that is not 6 ASCII digits, or None. Stateless: reads and counts nothing."""
    value = _totp_value(code)
    if len(value) != 6 or not is_ascii_digits(value):
        return ServiceError(Code.CODE_FORMAT_INVALID, "A code is 6 digits.", field)
    return None


def _recovery_digits(code: str) -> str:
    return (code or "").strip().replace("-", "").replace(" ", "")


def recovery_code_problem(code: str, field: str) -> ServiceError | None:
    """The refusal of a recovery code that is not 10 ASCII digits (12345-67890), or None. Stateless."""
    digits = _recovery_digits(code)
    if len(digits) != RECOVERY_CODE_DIGITS or not is_ascii_digits(digits):
        return ServiceError(Code.CODE_FORMAT_INVALID, "A recovery code is 10 digits (12345-67890).", field)
    return None


def factor_code_problem(factor: str, code: str, field: str = "code") -> ServiceError | None:
    """MFA-1: the format of a code for the factor that is to judge it (an SMS or TOTP code is 6 digits, a
    recovery code 10), checked before any state is read, so a malformed code is refused alone, counts
    nothing and tells nothing about the account, the device or a challenge."""
    if factor == "recovery_code":
        return recovery_code_problem(code, field)
    if factor == "sms":
        try:
            codes.check_format(code, field)
        except ServiceError as err:
            return err
        return None
    return totp_code_problem(code, field)


def _check_format(code: str, field: str) -> str:
    if (problem := totp_code_problem(code, field)) is not None:
        raise problem
    return _totp_value(code)


def login_label(account: Account) -> str:
    return account.username or national(account.phone)


async def bound_device(uow: Uow, account_id: int) -> MfaDevice | None:
    device = await repo.device_of(uow, account_id)
    return device if device is not None and device.state == "bound" else None


def _not_bound(field: str | None) -> ServiceError:
    return ServiceError(Code.MFA_DEVICE_NOT_BOUND, "No virtual MFA device is bound: bind one first (MFA-4).", field)


# --- binding (MFA-4) -----------------------------------------------------------------------------


async def start_binding(uow: Uow, viewer: Viewer) -> BindingStarted:
    """A new secret for a pending device (replacing an earlier pending one); at most one device (MFA-4)."""
    account = viewer.account
    await accounts_repo.lock_account(uow, account.id)
    device = await repo.device_of(uow, account.id)
    if device is not None and device.state == "bound":
        raise ServiceError(
            Code.MFA_DEVICE_ALREADY_BOUND, "A virtual MFA device is already bound; unbind it first.", None
        )
    secret = pyotp.random_base32()
    sealed = seal(uow.settings.secret_key, secret)
    now = uow.now()
    if device is None:
        await repo.add_device(
            uow, MfaDevice(account_id=account.id, state="pending", secret_sealed=sealed, created_at=now)
        )
    else:
        device.secret_sealed, device.created_at, device.last_step = sealed, now, None
        await uow.session.flush()
    uri = _totp(secret).provisioning_uri(name=login_label(account), issuer_name=ISSUER)
    return BindingStarted(secret=secret, uri=uri)


async def bind(uow: Uow, viewer: Viewer, first_code: str, second_code: str) -> Bound:
    """MFA-4: two consecutive codes prove the device; only then is it bound. Both codes' formats are
    checked first and reported together."""
    problems = Problems()
    problems.check(totp_code_problem(first_code, "firstCode"))
    problems.check(totp_code_problem(second_code, "secondCode"))
    if (refusal := problems.refusal()) is not None:
        raise refusal
    first, second = _totp_value(first_code), _totp_value(second_code)
    account = viewer.account
    await accounts_repo.lock_account(uow, account.id)
    device = await repo.device_of(uow, account.id)
    if device is None:
        raise ServiceError(Code.MFA_BINDING_NOT_STARTED, "Start the binding first (mfaDeviceBindingStart).", None)
    if device.state == "bound":
        raise ServiceError(
            Code.MFA_DEVICE_ALREADY_BOUND, "A virtual MFA device is already bound; unbind it first.", None
        )
    secret = open_sealed(uow.settings.secret_key, device.secret_sealed)
    now_step = _step(uow.now())
    matched = next(
        (
            s
            for s in range(now_step + DRIFT_STEPS - 1, now_step - BIND_LOOKBACK_STEPS - 1, -1)
            if _code_at(secret, s) == first and _code_at(secret, s + 1) == second
        ),
        None,
    )
    if matched is None:
        raise ServiceError(
            Code.MFA_BIND_CODES_INVALID,
            "Enter two consecutive codes from the app: the current one, then the next one after it changes.",
            "secondCode",
        )
    device.state, device.last_step, device.bound_at = "bound", matched + 1, uow.now()
    await uow.session.flush()
    await history.record(uow, account.id, EventKind.MFA_BOUND, viewer.client)  # HIST-1
    return Bound(device=device, recovery_codes=await _new_recovery_codes(uow, account.id))


# --- codes (MFA-1, MFA-5) ---------------------------------------------------------------------------


def _guess_key(account_id: int, at_sign_in: bool) -> str:
    # Guesses at sign-in and guesses by a signed-in session are counted apart: someone who only knows
    # the password must not be able to lock the owner's own step-ups.
    return f"mfa-login:{account_id}" if at_sign_in else f"mfa:{account_id}"


async def _refuse_if_locked(uow: Uow, account_id: int, field: str, at_sign_in: bool) -> None:
    now = uow.now()
    until = await auth_repo.locked_until(uow, [_guess_key(account_id, at_sign_in)], now)
    if until is not None:
        raise _too_many(until, now, field)


def _too_many(until: datetime, now: datetime, field: str) -> ServiceError:
    return ServiceError(
        Code.TOO_MANY_ATTEMPTS,
        "Too many wrong second-factor codes; try again later.",
        field,
        retry_after=max(1, int((until - now).total_seconds() + 0.999)),
        persist=True,
    )


async def _wrong_guess(
    uow: Uow, account_id: int, code: Code, message: str, field: str, at_sign_in: bool
) -> ServiceError:
    """A wrong TOTP or recovery code is counted per account: 5 in 15 minutes lock the factor for 15
    minutes, so six digits cannot be guessed with a stolen session or password."""
    now = uow.now()
    key = _guess_key(account_id, at_sign_in)
    failures = await auth_repo.record_failure(uow, key, now, GUESS_WINDOW)
    if failures >= MAX_GUESSES:
        await auth_repo.lock(uow, key, now + GUESS_WINDOW, now)
        locked = _too_many(now + GUESS_WINDOW, now, field)
        locked.attempts_remaining = 0  # this guess was made (and counted); a refusal before guessing has None
        return locked
    return ServiceError(code, message, field, persist=True, attempts_remaining=MAX_GUESSES - failures)


async def accept_code(
    uow: Uow,
    account_id: int,
    code: str,
    field: str = "code",
    *,
    at_sign_in: bool = False,
    device_field: str = "factor",
) -> None:
    """Accept a current TOTP code of the bound device once (MFA-5), or raise. The account row is locked
    first, so concurrent guesses are counted one after another (the 5-guess limit holds on PostgreSQL).
    `device_field` is the input field a missing device is reported on (the factor chosen, or the code)."""
    value = _check_format(code, field)
    await accounts_repo.lock_account(uow, account_id)
    device = await bound_device(uow, account_id)
    if device is None:
        raise _not_bound(device_field)
    await _refuse_if_locked(uow, account_id, field, at_sign_in)
    secret = open_sealed(uow.settings.secret_key, device.secret_sealed)
    now_step = _step(uow.now())
    steps = [s for s in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1) if _code_at(secret, s) == value]
    if not steps:
        raise await _wrong_guess(
            uow,
            account_id,
            Code.TOTP_CODE_INVALID,
            "The code is not correct; use the current code from the app.",
            field,
            at_sign_in,
        )
    step = max(steps)
    if not await repo.take_totp_step(uow, device.id, step):
        raise ServiceError(
            Code.TOTP_CODE_USED, "This code was already used; wait for the next one in the app (MFA-5).", field
        )


def _recovery_hash(uow: Uow, code: str) -> str:
    return uow.keyed("mfa-recovery:" + code.replace("-", "").replace(" ", ""))


async def _new_recovery_codes(uow: Uow, account_id: int) -> list[str]:
    await repo.delete_recovery_codes(uow, account_id)
    codes = [f"{random_digits(5)}-{random_digits(5)}" for _ in range(RECOVERY_CODES)]
    await repo.add_recovery_codes(uow, account_id, [_recovery_hash(uow, c) for c in codes], uow.now())
    return codes


async def regenerate_recovery_codes(uow: Uow, account_id: int, client: ClientInfo | None = None) -> list[str]:
    if await bound_device(uow, account_id) is None:
        raise _not_bound(None)  # about the request as a whole: its input names no factor
    await history.record(uow, account_id, EventKind.RECOVERY_CODES_REGENERATED, client)  # HIST-1
    return await _new_recovery_codes(uow, account_id)


async def accept_recovery_code(
    uow: Uow,
    account_id: int,
    code: str,
    field: str = "code",
    *,
    at_sign_in: bool = False,
    client: ClientInfo | None = None,
) -> None:
    """A recovery code passes as the second factor once; a wrong one tells nothing more."""
    if (problem := recovery_code_problem(code, field)) is not None:
        raise problem
    value = (code or "").strip()
    await accounts_repo.lock_account(uow, account_id)
    await _refuse_if_locked(uow, account_id, field, at_sign_in)
    if not await repo.use_recovery_code(uow, account_id, _recovery_hash(uow, value), uow.now()):
        raise await _wrong_guess(
            uow,
            account_id,
            Code.RECOVERY_CODE_INVALID,
            "This recovery code is not valid or was already used.",
            field,
            at_sign_in,
        )
    # HIST-1: in the transaction that used it (a use rolled back with its operation records nothing).
    await history.record(uow, account_id, EventKind.RECOVERY_CODE_USED, client, "sign_in" if at_sign_in else None)


async def recovery_codes_left(uow: Uow, account_id: int) -> int:
    return await repo.unused_recovery_codes(uow, account_id)


# --- unbinding (MFA-6) and protections (MFA-2) -------------------------------------------------------


async def remove_device(uow: Uow, account: Account, client: ClientInfo | None = None, detail: str = "owner") -> None:
    """Remove the device and its recovery codes, and TOTP from both protections. Operation protection
    stays on (with SMS, as for a new account, MFA-3); login protection keeps SMS if it had it and is off
    otherwise, so a user who lost the device signs in with the password after an approved appeal."""
    await repo.delete_device_and_recovery_codes(uow, account.id)
    if account.op_protection_totp:
        account.op_protection_totp, account.op_protection_sms = False, True
    account.login_protection_totp = False
    await uow.session.flush()
    await history.record(uow, account.id, EventKind.MFA_UNBOUND, client, detail)  # HIST-1


def looks_like_recovery_code(code: str) -> bool:
    return len((code or "").replace("-", "").replace(" ", "")) == RECOVERY_CODE_DIGITS


def unbind_code_problem(code: str, field: str = "code") -> ServiceError | None:
    """MFA-6: the format of an unbinding code, a device code (6 digits) or a recovery code (10), or None."""
    if looks_like_recovery_code(code):
        return recovery_code_problem(code, field)
    return totp_code_problem(code, field)


async def accept_unbind_code(uow: Uow, viewer: Viewer, code: str) -> None:
    """MFA-6: a current code from the device, or a recovery code when the device is lost (so a user who
    kept the recovery codes never needs the 5-day appeal)."""
    if await bound_device(uow, viewer.account.id) is None:
        raise _not_bound("code")
    if looks_like_recovery_code(code):
        await accept_recovery_code(uow, viewer.account.id, code, client=viewer.client)
    else:
        await accept_code(uow, viewer.account.id, code, device_field="code")


async def unbind(uow: Uow, viewer: Viewer) -> Account:
    """Remove the device once the code was accepted and the step-up grant used (see the resolver)."""
    account = await repo.account_afresh(uow, viewer.account.id)
    assert account is not None
    await remove_device(uow, account, viewer.client)
    return account


async def set_protections(
    uow: Uow, viewer: Viewer, *, login: tuple[bool, bool], operation: tuple[bool, bool]
) -> Account:
    """MFA-2: each protection on with SMS and/or TOTP, or off; TOTP needs a bound device (MFA-4). Without
    one, every protection that asks for TOTP is reported, so a form marks each switch."""
    asking = [f for on, f in ((login[1], "loginProtection.totp"), (operation[1], "operationProtection.totp")) if on]
    if asking and await bound_device(uow, viewer.account.id) is None:
        problems = Problems()
        for field in asking:
            problems.check(_not_bound(field))
        refusal = problems.refusal()
        assert refusal is not None  # `asking` is not empty
        raise refusal
    account = await repo.account_afresh(uow, viewer.account.id)
    assert account is not None
    before = (
        (account.login_protection_sms, account.login_protection_totp),
        (account.op_protection_sms, account.op_protection_totp),
    )
    account.login_protection_sms, account.login_protection_totp = login
    account.op_protection_sms, account.op_protection_totp = operation
    await uow.session.flush()
    changed = [
        name for name, was, now in (("login", before[0], login), ("operation", before[1], operation)) if was != now
    ]
    if changed:  # HIST-1: a change, not a no-op save
        await history.record(uow, account.id, EventKind.PROTECTION_CHANGED, viewer.client, "+".join(changed))
    return account
