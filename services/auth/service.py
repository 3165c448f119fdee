"""Sign-in, sessions, throttling and QR login.

AUTH-1 cloud accounts: username + password only.
AUTH-2 portal accounts: phone + SMS code, login name (username, phone or e-mail) + password, or QR.
AUTH-3 sessions expire after a period without activity (per account, 15..1439 minutes), and in any
       case SESSION_MAX_AGE_HOURS (default 24) after sign-in, however active (absolute lifetime).
AUTH-4 sign-out ends the session at once; a password change or reset ends all others.
AUTH-5 wrong passwords are throttled per login name (5 in 15 minutes), per account (5: a portal
       account's phone, username and e-mail share one budget, as does the current-password check of a
       password change) and per client address (20), each then locked for 15 minutes; a try is counted
       before its password is judged (see `services.auth.throttle`), with the same answer whether or
       not the account exists.

No answer through a login name tells the state of another name's budget. The account's budget is
shared by several names, so it never shows in an answer: were "locked" the answer once it is spent, an
attacker could lock an account through its username and then probe phone numbers, and the one answering
"locked" (where an unknown phone does not) would be that account's phone. So while the account's budget
is locked or spent, a try through a name whose own budget is not is answered exactly like a wrong
password for that name (INVALID_CREDENTIALS, whose message says sign-in may be paused, and the name's
`attemptsRemaining`) and counted against the name and the address, after a hash against the dummy hash,
as for an unknown name, so the time and the number of hashes tell nothing either; the password is not
judged. TOO_MANY_ATTEMPTS only ever reports the name's own lock or the client address's lock. The one
exception needs the password: a right password whose account was locked by a racing request while its
hash ran is refused with TOO_MANY_ATTEMPTS (no session is issued while a lock runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.accounts import Account
from models.auth import AuthSession, QrLoginTicket
from services.accounts import repository as accounts_repo
from services.accounts import service as accounts
from services.auth import challenge, throttle
from services.auth import repository as repo
from services.auth.errors import AuthErrorCode
from services.auth.policy import retry_after_seconds
from services.client import ClientInfo
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions
from services.errors import Problems, ServiceError
from services.history import service as history
from services.history.service import EventKind
from services.identifiers import normalize_email, normalize_phone
from services.security import new_token, token_hash
from services.sql import ListCount
from services.text import has_control_characters
from services.uow import Uow
from services.viewer import Viewer
from settings import Settings

# AUTH-3: last activity is written at most once a minute, so reads stay reads.
TOUCH_GRANULARITY = timedelta(seconds=60)
QR_TICKET_TTL = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    session: AuthSession
    account: Account
    expires_at: datetime
    account_created: bool = False


def max_session_age(settings: Settings) -> timedelta:
    """The absolute lifetime of a session, whatever its activity."""
    return timedelta(hours=settings.session_max_age_hours)


def session_deadlines(
    created_at: datetime, last_seen_at: datetime, idle_timeout_minutes: int, settings: Settings
) -> tuple[datetime, datetime]:
    """(the idle deadline: last activity + the account's idle timeout, AUTH-3; the absolute deadline:
    sign-in + the maximum age). A session ends at the earlier of the two."""
    return last_seen_at + timedelta(minutes=idle_timeout_minutes), created_at + max_session_age(settings)


def session_expires_at(session: AuthSession, account: Account, settings: Settings) -> datetime:
    """When the session ends unless used again: whichever of its deadlines comes first."""
    return min(session_deadlines(session.created_at, session.last_seen_at, account.idle_timeout_minutes, settings))


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
            user_agent=client.stored_user_agent,
            created_at=now,
            last_seen_at=now,
        ),
    )
    await history.signed_in(uow, account, method, client, created=created)  # HIST-1 / HIST-2
    return IssuedSession(
        token=token,
        session=session,
        account=account,
        expires_at=session_expires_at(session, account, uow.settings),
        account_created=created,
    )


async def authenticate(uow: Uow, bearer: str | None, client: ClientInfo | None = None) -> Viewer | None:
    """The session behind a bearer token, if it is live (AUTH-3, AUTH-4, the absolute lifetime). Reads only."""
    if not bearer:
        return None
    found = await repo.live_session(uow, token_hash(bearer))
    if found is None:
        return None
    account, session_id, last_seen_at, created_at = found
    now = uow.now()
    deadlines = session_deadlines(created_at, last_seen_at, account.idle_timeout_minutes, uow.settings)
    if account.status != "active" or min(deadlines) <= now:
        return None
    return Viewer(account, session_id, last_seen_at, needs_touch=now - last_seen_at >= TOUCH_GRANULARITY, client=client)


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


def _too_many(until: datetime, now: datetime, *, persist: bool) -> ServiceError:
    retry = retry_after_seconds((until - now).total_seconds())
    return ServiceError(
        AuthErrorCode.TOO_MANY_ATTEMPTS,
        f"Too many wrong passwords; try again in {retry // 60 + (1 if retry % 60 else 0)} minutes.",
        "password",
        retry_after=retry,
        persist=persist,
    )


def login_throttle_key(uow: Uow, canonical: str) -> str:
    return throttle.name_budget(uow, canonical).key


async def clear_login_throttle(uow: Uow, login_name: str) -> None:
    await repo.clear(uow, login_throttle_key(uow, _login_key(login_name)[1]))


async def clear_account_throttle(uow: Uow, account_id: int) -> None:
    """After a password reset (REC-1): the account's shared budget starts again."""
    await repo.clear(uow, throttle.account_budget(account_id).key)


@dataclass(frozen=True, slots=True)
class _PasswordAttempt:
    address: throttle.Try
    name: throttle.Try
    # The account's try; None when the name names no account, or when the account's budget is locked
    # or spent (then the password is not judged: it is answered as wrong, through this name only).
    account: throttle.Try | None
    account_id: int | None
    password_hash: str | None  # None: verify against the hasher's dummy hash (same time, never right)
    named_account_id: int | None = None  # the account the name names, judged or not (HIST-1's events only)


async def sign_in_with_password(
    tx: Transactions, login_name: str, password: str, client: ClientInfo
) -> IssuedSession | challenge.IssuedChallenge | ServiceError:
    """AUTH-1 / AUTH-2 / AUTH-5 in three steps, so no database lock is held while argon2 runs: a short
    write that reserves the try (or refuses it, unhashed), the hash in a worker thread, a short write
    that settles the try and issues the session."""
    attempt = await tx.write(_reserve_password_try, login_name, client)
    if isinstance(attempt, ServiceError):
        return attempt
    await tx.release()  # no connection is held while the hash waits for a core
    # Hash even when the account does not exist or is locked, so timing does not tell (AUTH-5).
    ok = await tx.deps.hasher.verify(attempt.password_hash, password or "")
    return await tx.write(_password_outcome, attempt, ok, client)


async def _reserve_password_try(uow: Uow, login_name: str, client: ClientInfo) -> _PasswordAttempt:
    # AUTH-5: the try is counted against the address, the login name and the account before the hash.
    # Budgets are taken in this order (address, name, account) everywhere, so racing transactions on
    # PostgreSQL wait for each other instead of deadlocking.
    canonical, account = await resolve_login_name(uow, login_name)
    address_budget, name_budget = throttle.address_budget(client.ip), throttle.name_budget(uow, canonical)
    address = await throttle.reserve(uow, address_budget)
    name = await throttle.reserve(uow, name_budget) if address is not None else None
    if address is None or name is None:
        # Locked or spent: refused unhashed; the transaction rolls back, so nothing is counted.
        refused = address_budget if address is None else name_budget
        raise _too_many(await throttle.retry_at(uow, refused, address_budget, name_budget), uow.now(), persist=False)
    # The account's budget is never revealed through a login name: when it is locked or spent, this try
    # is answered (and counted) exactly like a wrong password for this name, after a dummy hash.
    counted = await throttle.reserve(uow, throttle.account_budget(account.id)) if account is not None else None
    judged = account if counted is not None else None
    return _PasswordAttempt(
        address,
        name,
        counted,
        judged.id if judged else None,
        judged.password_hash if judged else None,
        account.id if account is not None else None,
    )


async def _password_outcome(
    uow: Uow, attempt: _PasswordAttempt, ok: bool, client: ClientInfo
) -> IssuedSession | challenge.IssuedChallenge:
    now = uow.now()
    account = await accounts_repo.get(uow, attempt.account_id) if attempt.account_id is not None else None
    # The password must still be the one we checked (a reset may have happened meanwhile).
    if ok and account is not None and account.status == "active" and account.password_hash == attempt.password_hash:
        assert attempt.account is not None  # a password is judged only with the account's try counted
        await throttle.give_back(uow, attempt.address)  # a right password is no failure of the address
        # AUTH-5: a lock set by a racing request while the hash ran holds: no session, no challenge, and
        # the transaction rolls back (nothing cleared, the tries stay counted).
        until = await throttle.succeeded(uow, attempt.name.budget, attempt.account.budget)
        if until is not None:
            raise _too_many(until, now, persist=False)
        if challenge.login_factors(account):  # AUTH-6: login protection asks for a second factor first
            await history.record(uow, account.id, EventKind.SIGN_IN_CHALLENGED, client, "password")
            return await challenge.issue(uow, account, challenge.client_key(uow, client.ip, client.user_agent))
        return await _issue(uow, account, "password", client)
    address_lock = await throttle.failed(uow, attempt.address)
    name_lock = await throttle.failed(uow, attempt.name)
    account_lock = await throttle.failed(uow, attempt.account) if attempt.account is not None else None
    # (the account's lock is never part of the answer, see the module docstring)
    if attempt.named_account_id is not None:
        # HIST-1: on the named account only; an unknown name records nothing, and the answer below is the same.
        # A try not judged because the account's budget is spent counts as a locked sign-in.
        locked = name_lock is not None or account_lock is not None or attempt.account is None
        kind = EventKind.SIGN_IN_LOCKED if locked else EventKind.SIGN_IN_FAILED
        await history.record(uow, attempt.named_account_id, kind, client, "password")
    if address_lock is not None or name_lock is not None:
        raise _too_many(max(u for u in (address_lock, name_lock) if u is not None), now, persist=True)
    remaining = attempt.name.remaining
    raise ServiceError(
        AuthErrorCode.INVALID_CREDENTIALS,
        "The login name or the password is wrong, or sign-in is paused for a while after too many wrong "
        f"passwords; {remaining} more tries with this login name before a 15-minute lock.",
        "password",
        persist=True,
        attempts_remaining=remaining,
    )


# --- AUTH-2 / REG-4: SMS sign-in --------------------------------------------------------------


async def sign_in_with_sms(
    uow: Uow, phone_raw: str, code: str, client: ClientInfo
) -> IssuedSession | challenge.IssuedChallenge:
    # AUTH-2: both formats first, reported together; then the code is checked (a wrong one is counted,
    # CODE-2) before anything about the phone's account is read.
    phone = normalize_phone(phone_raw)
    problems = Problems()
    if phone is None:
        problems.add(AuthErrorCode.INVALID_PHONE, "Enter a mainland mobile number.", "phone")
    try:
        codes.check_format(code)
    except ServiceError as malformed:
        problems.check(malformed)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert phone is not None  # an invalid phone is one of the problems above
    await codes.verify(uow, destination=phone, purpose=CodePurpose.LOGIN, code=code)
    account, created = await accounts.portal_account_for_sms_sign_in(uow, phone)
    # AUTH-6 / MFA-1: the SMS code counts as the second factor only where login protection enables SMS;
    # with TOTP alone, SMS sign-in must not bypass the device.
    factors = challenge.login_factors(account)
    if factors and "sms" not in factors:
        await history.record(uow, account.id, EventKind.SIGN_IN_CHALLENGED, client, "sms")
        return await challenge.issue(uow, account, challenge.client_key(uow, client.ip, client.user_agent))
    return await _issue(uow, account, "sms", client, created=created)


# --- AUTH-4: sign-out and session management ------------------------------------------------


async def sign_out(uow: Uow, auth: Viewer) -> None:
    if await repo.end_session(uow, auth.session_id, auth.account.id, uow.now(), "signed_out"):
        await history.record(uow, auth.account.id, EventKind.SIGNED_OUT, auth.client)


async def revoke(uow: Uow, auth: Viewer, session_id: int) -> Account:
    """End one of the account's own sessions; the account, whose sessions no longer list it, is returned.
    Another account's ID behaves as unknown."""
    if not await repo.end_session(uow, session_id, auth.account.id, uow.now(), "revoked"):
        raise ServiceError(AuthErrorCode.SESSION_NOT_FOUND, "No such session.", "id")
    await history.record(uow, auth.account.id, EventKind.SESSION_REVOKED, auth.client)
    return auth.account


async def list_sessions(
    uow: Uow, account: Account, first: int, after_id: int | None
) -> tuple[list[AuthSession], ListCount]:
    now = uow.now()
    idle_cutoff = now - timedelta(minutes=account.idle_timeout_minutes)
    return await repo.live_sessions(uow, account.id, idle_cutoff, now - max_session_age(uow.settings), first, after_id)


async def sessions_by_ids(uow: Uow, account: Account, ids: list[int]) -> list[AuthSession]:
    """Those of `ids` that are the account's live sessions, however old (the `node` of a session)."""
    now = uow.now()
    idle_cutoff = now - timedelta(minutes=account.idle_timeout_minutes)
    return await repo.live_sessions_by_ids(uow, account.id, idle_cutoff, now - max_session_age(uow.settings), ids)


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


async def qr_ticket_confirm(uow: Uow, auth: Viewer, code: str) -> tuple[str, datetime]:
    """A client signed in to a portal account approves the ticket shown on the other screen; answers the
    ticket's new state and expiry, like `qr_ticket_status`."""
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
    return "CONFIRMED", ticket.expires_at


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
    account = await challenge.answer(
        uow, token, challenge.client_key(uow, client.ip, client.user_agent), factor, code, client
    )
    return await _issue(uow, account, "password", client)


async def send_challenge_code(uow: Uow, token: str, client: ClientInfo) -> codes.SentCode:
    return await challenge.send_code(uow, token, challenge.client_key(uow, client.ip, client.user_agent), client.ip)


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
    return Viewer(account, 0, uow.now(), client=client)
