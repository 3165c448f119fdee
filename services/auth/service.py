"""Sign-in, sessions, throttling and QR login.

AUTH-1 cloud accounts: username + password only.
AUTH-2 portal accounts: phone + SMS code, login name (username, phone or e-mail) + password, or QR.
AUTH-3 sessions expire after a period without activity (per account, 15..1439 minutes).
AUTH-4 sign-out ends the session at once; a password change or reset ends all others.
AUTH-5 wrong passwords are throttled per account name and per client address, with the same
       answer whether or not the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.accounts import Account
from models.auth import AuthSession, QrLoginTicket
from services.accounts import repository as accounts_repo
from services.accounts import service as accounts
from services.auth import challenge
from services.auth import repository as repo
from services.auth.errors import AuthErrorCode
from services.auth.policy import (
    ACCOUNT_LOCK,
    ACCOUNT_MAX_FAILURES,
    ADDRESS_LOCK,
    ADDRESS_MAX_FAILURES,
    THROTTLE_WINDOW,
)
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions
from services.errors import ServiceError
from services.identifiers import normalize_email, normalize_phone
from services.security import new_token, token_hash
from services.text import has_control_characters
from services.uow import Uow
from services.viewer import Viewer

# AUTH-3: last activity is written at most once a minute, so reads stay reads.
TOUCH_GRANULARITY = timedelta(seconds=60)
QR_TICKET_TTL = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    session: AuthSession
    account: Account
    expires_at: datetime
    account_created: bool = False


def idle_deadline(session: AuthSession, account: Account) -> datetime:
    return session.last_seen_at + timedelta(minutes=account.idle_timeout_minutes)


async def _issue(
    uow: Uow, account: Account, method: str, client: ClientInfo, *, created: bool = False
) -> IssuedSession:
    token = new_token("acs")
    now = uow.now()
    session = await repo.add_session(
        uow,
        AuthSession(
            account_id=account.id,
            token_hash=token_hash(token),
            method=method,
            client_ip=client.ip,
            user_agent=(client.user_agent or "")[:256] or None,
            created_at=now,
            last_seen_at=now,
        ),
    )
    return IssuedSession(
        token=token,
        session=session,
        account=account,
        expires_at=idle_deadline(session, account),
        account_created=created,
    )


async def authenticate(uow: Uow, bearer: str | None) -> Viewer | None:
    """The session behind a bearer token, if it is live (AUTH-3, AUTH-4). Reads only."""
    if not bearer:
        return None
    found = await repo.live_session(uow, token_hash(bearer))
    if found is None:
        return None
    account, session_id, last_seen_at = found
    now = uow.now()
    if account.status != "active" or last_seen_at + timedelta(minutes=account.idle_timeout_minutes) <= now:
        return None
    return Viewer(account, session_id, last_seen_at, needs_touch=now - last_seen_at >= TOUCH_GRANULARITY)


async def touch(uow: Uow, session_id: int) -> None:
    await repo.touch(uow, session_id, uow.now())


# --- AUTH-1 / AUTH-2 / AUTH-5: password sign-in --------------------------------------------------


def _login_key(login_name: str) -> tuple[str, str]:
    """(kind, canonical form) of a login name."""
    phone = normalize_phone(login_name)
    if phone:
        return "phone", phone
    if "@" in login_name:
        return "email", (normalize_email(login_name) or login_name.strip()).lower()
    return "username", login_name.strip().lower()


async def resolve_login_name(uow: Uow, login_name: str) -> tuple[str, Account | None]:
    """(canonical login name, the account it names or None)."""
    kind, canonical = _login_key(login_name or "")
    if has_control_characters(canonical):  # no account has such a name (and PostgreSQL refuses NUL outright)
        return canonical, None
    return canonical, (await _resolve(uow, kind, canonical) if canonical else None)


async def _resolve(uow: Uow, kind: str, canonical: str) -> Account | None:
    if kind == "phone":  # AUTH-1: only portal accounts sign in by phone
        return await accounts_repo.portal_account_by_phone(uow, canonical)
    if kind == "email":  # AUTH-1: only portal accounts sign in by e-mail
        return await accounts_repo.by_email_key(uow, canonical)
    return await accounts_repo.by_username_key(uow, canonical)


def _too_many(until: datetime, now: datetime) -> ServiceError:
    retry = max(1, int((until - now).total_seconds() + 0.999))
    return ServiceError(
        AuthErrorCode.TOO_MANY_ATTEMPTS,
        f"Too many wrong passwords; try again in {retry // 60 + (1 if retry % 60 else 0)} minutes.",
        "password",
        retry_after=retry,
        persist=True,
    )


def login_throttle_key(uow: Uow, canonical: str) -> str:
    return "name:" + uow.keyed(f"login:{canonical}")[:48]


async def clear_login_throttle(uow: Uow, login_name: str) -> None:
    await repo.clear(uow, login_throttle_key(uow, _login_key(login_name)[1]))


@dataclass(frozen=True, slots=True)
class _PasswordAttempt:
    name_key: str
    address_key: str
    account_id: int | None
    password_hash: str | None
    name_has_failures: bool


async def sign_in_with_password(
    tx: Transactions, login_name: str, password: str, client: ClientInfo
) -> IssuedSession | challenge.IssuedChallenge | ServiceError:
    """AUTH-1 / AUTH-2 / AUTH-5 in three steps, so no database lock is held while argon2 runs:
    a read (throttle state, the account's hash), the hash in a worker thread, a write (the outcome)."""
    try:
        attempt = await tx.read(_password_attempt, login_name, client)
    except ServiceError as err:
        return err
    await tx.release()  # no connection is held while the hash waits for a core
    # Hash even when the account does not exist, so timing does not tell (AUTH-5).
    ok = await tx.deps.hasher.verify(attempt.password_hash, password or "")
    return await tx.write(_password_outcome, attempt, ok, client)


async def _password_attempt(uow: Uow, login_name: str, client: ClientInfo) -> _PasswordAttempt:
    now = uow.now()
    canonical = _login_key(login_name or "")[1]
    name_key, address_key = login_throttle_key(uow, canonical), f"ip:{client.ip or 'unknown'}"
    throttle = await repo.throttle_pair(uow, name_key, address_key)
    # AUTH-5: a locked name or address is refused before any hash is computed.
    locks = [until for _, until in throttle.values() if until is not None and until > now]
    if locks:
        raise _too_many(max(locks), now)
    account = (await resolve_login_name(uow, login_name))[1]
    return _PasswordAttempt(
        name_key,
        address_key,
        account.id if account else None,
        account.password_hash if account else None,
        name_has_failures=throttle.get(name_key, (0, None))[0] > 0,
    )


async def _password_outcome(
    uow: Uow, attempt: _PasswordAttempt, ok: bool, client: ClientInfo
) -> IssuedSession | challenge.IssuedChallenge:
    now = uow.now()
    account = await accounts_repo.get(uow, attempt.account_id) if attempt.account_id is not None else None
    # The password must still be the one we checked (a reset may have happened meanwhile). Failures
    # are counted atomically below, so requests racing the lock cannot pass the limit.
    if ok and account is not None and account.status == "active" and account.password_hash == attempt.password_hash:
        if attempt.name_has_failures:
            await repo.clear(uow, attempt.name_key)
        if challenge.login_factors(account):  # AUTH-6: login protection asks for a second factor first
            return await challenge.issue(uow, account, challenge.client_key(uow, client.ip, client.user_agent))
        return await _issue(uow, account, "password", client)
    name_failures = await repo.record_failure(uow, attempt.name_key, now, THROTTLE_WINDOW)
    address_failures = await repo.record_failure(uow, attempt.address_key, now, THROTTLE_WINDOW)
    if address_failures >= ADDRESS_MAX_FAILURES:
        await repo.lock(uow, attempt.address_key, now + ADDRESS_LOCK, now)
        raise _too_many(now + ADDRESS_LOCK, now)
    if name_failures >= ACCOUNT_MAX_FAILURES:
        await repo.lock(uow, attempt.name_key, now + ACCOUNT_LOCK, now)
        raise _too_many(now + ACCOUNT_LOCK, now)
    remaining = ACCOUNT_MAX_FAILURES - name_failures
    raise ServiceError(
        AuthErrorCode.INVALID_CREDENTIALS,
        f"The login name or the password is wrong; {remaining} tries left before a 15-minute lock.",
        "password",
        persist=True,
        attempts_remaining=remaining,
    )


# --- AUTH-2 / REG-4: SMS sign-in --------------------------------------------------------------


async def sign_in_with_sms(
    uow: Uow, phone_raw: str, code: str, client: ClientInfo
) -> IssuedSession | challenge.IssuedChallenge:
    phone = normalize_phone(phone_raw)
    if phone is None:
        raise ServiceError(AuthErrorCode.INVALID_PHONE, "Enter a mainland mobile number.", "phone")
    await codes.verify(uow, destination=phone, purpose=CodePurpose.LOGIN, code=code)
    account, created = await accounts.portal_account_for_sms_sign_in(uow, phone)
    # AUTH-6 / MFA-1: the SMS code counts as the second factor only where login protection enables SMS;
    # with TOTP alone, SMS sign-in must not bypass the device.
    factors = challenge.login_factors(account)
    if factors and "sms" not in factors:
        return await challenge.issue(uow, account, challenge.client_key(uow, client.ip, client.user_agent))
    return await _issue(uow, account, "sms", client, created=created)


# --- AUTH-4: sign-out and session management ------------------------------------------------


async def sign_out(uow: Uow, auth: Viewer) -> None:
    await repo.end_session(uow, auth.session_id, auth.account.id, uow.now(), "signed_out")


async def revoke(uow: Uow, auth: Viewer, session_id: int) -> None:
    """End one of the account's own sessions. Another account's ID behaves as unknown."""
    if not await repo.end_session(uow, session_id, auth.account.id, uow.now(), "revoked"):
        raise ServiceError(AuthErrorCode.SESSION_NOT_FOUND, "No such session.", "id")


async def list_sessions(uow: Uow, account: Account, first: int, after_id: int | None) -> tuple[list[AuthSession], int]:
    cutoff = uow.now() - timedelta(minutes=account.idle_timeout_minutes)
    return await repo.live_sessions(uow, account.id, cutoff, first, after_id)


# --- AUTH-2: QR login ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedQrTicket:
    code: str  # shown in the QR; confirms
    token: str  # kept by the creating client; redeems
    expires_at: datetime


async def qr_ticket_create(uow: Uow) -> IssuedQrTicket:
    code = new_token("qrc", 18)
    token = new_token("qrt")
    now = uow.now()
    await repo.add_qr_ticket(
        uow,
        QrLoginTicket(
            code_hash=token_hash(code), token_hash=token_hash(token), created_at=now, expires_at=now + QR_TICKET_TTL
        ),
    )
    return IssuedQrTicket(code=code, token=token, expires_at=now + QR_TICKET_TTL)


def _qr_state(ticket: QrLoginTicket, now: datetime) -> str:
    if ticket.redeemed_at is not None:
        return "REDEEMED"
    if ticket.expires_at <= now:
        return "EXPIRED"
    return "CONFIRMED" if ticket.confirmed_at is not None else "PENDING"


async def qr_ticket_status(uow: Uow, token: str) -> tuple[str, datetime] | None:
    ticket = await repo.qr_ticket_by_token(uow, token_hash(token or ""))
    if ticket is None:
        return None
    return _qr_state(ticket, uow.now()), ticket.expires_at


async def qr_ticket_confirm(uow: Uow, auth: Viewer, code: str) -> None:
    """A client signed in to a portal account approves the ticket shown on the other screen."""
    if auth.account.kind != "portal":
        raise ServiceError(AuthErrorCode.QR_LOGIN_NOT_AVAILABLE, "QR login is for portal accounts (AUTH-2).", "code")
    ticket = await repo.qr_ticket_by_code(uow, token_hash(code or ""))
    if ticket is None:
        raise ServiceError(AuthErrorCode.QR_TICKET_NOT_FOUND, "This QR code is not known.", "code")
    state = _qr_state(ticket, uow.now())
    if state == "EXPIRED":
        raise ServiceError(AuthErrorCode.QR_TICKET_EXPIRED, "This QR code has expired.", "code")
    if state != "PENDING" or not await repo.confirm_qr_ticket(uow, ticket.id, auth.account.id, uow.now()):
        raise ServiceError(AuthErrorCode.QR_TICKET_USED, "This QR code was already used.", "code")


async def qr_ticket_redeem(uow: Uow, token: str, client: ClientInfo) -> IssuedSession:
    ticket = await repo.qr_ticket_by_token(uow, token_hash(token or ""))
    if ticket is None:
        raise ServiceError(AuthErrorCode.QR_TICKET_NOT_FOUND, "This QR login ticket is not known.", "token")
    now = uow.now()
    state = _qr_state(ticket, now)
    if state == "EXPIRED":
        raise ServiceError(AuthErrorCode.QR_TICKET_EXPIRED, "This QR login ticket has expired.", "token")
    if state == "PENDING":
        raise ServiceError(AuthErrorCode.QR_TICKET_PENDING, "Not confirmed yet; keep polling.", "token")
    if state == "REDEEMED" or not await repo.redeem_qr_ticket(uow, ticket.id, now):
        raise ServiceError(AuthErrorCode.QR_TICKET_USED, "This QR login ticket was already used.", "token")
    assert ticket.confirmed_account_id is not None
    account = await accounts_repo.get(uow, ticket.confirmed_account_id)
    if account is None or account.status != "active":
        raise ServiceError(AuthErrorCode.QR_TICKET_NOT_FOUND, "This QR login ticket is not known.", "token")
    return await _issue(uow, account, "qr", client)


async def sign_in_by_challenge(uow: Uow, token: str, client: ClientInfo, factor: str, code: str) -> IssuedSession:
    """AUTH-6: the second factor of a protected password sign-in; the session follows."""
    account = await challenge.answer(uow, token, challenge.client_key(uow, client.ip, client.user_agent), factor, code)
    return await _issue(uow, account, "password", client)


async def send_challenge_code(uow: Uow, token: str, client: ClientInfo) -> codes.SentCode:
    return await challenge.send_code(uow, token, challenge.client_key(uow, client.ip, client.user_agent))


async def challenge_viewer(uow: Uow, token: str | None, client: ClientInfo) -> Viewer | None:
    """The account behind a live login challenge of this client (AUTH-6), as a viewer without a session.

    Only the lost-device path accepts it (uploads, filing and answering an MFA-unbind appeal, APL-1): a
    user whose login protection asks for a device they lost cannot get a session, yet has proven the
    password from this client within the last 5 minutes.
    """
    if not token or not token.startswith("lch_"):
        return None
    try:
        _, account = await challenge.live(uow, token, challenge.client_key(uow, client.ip, client.user_agent))
    except ServiceError:
        return None
    return Viewer(account, 0, uow.now())
