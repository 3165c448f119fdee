"""Recovery.

REC-1 Forgot password: name the account, pass the bot check, receive an SMS code on the bound phone,
      set a new password. The answer never tells whether the account exists; the phone is shown
      masked only (an unknown name gets a stable, made-up masked phone and no SMS).
REC-2 Forgot account: look up by phone, by real-name information (name + ID number) or by account
      ID; results show masked login names only (no phone or e-mail that is not one); an SMS code sent
      to the bound phone reveals them in full. Look-ups by name + ID number or by account ID that find
      nothing are throttled per client network (10 an hour).
      Found by name + ID number, the accounts may sit on different phones: the code goes to the
      phone of the most recently verified one, and reveals the accounts bound to that phone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.accounts import Account
from models.auth import RecoveryTicket
from services import botcheck
from services.accounts import repository as accounts_repo
from services.accounts import service as accounts
from services.auth import repository as auth_repo
from services.auth import service as auth
from services.auth import throttle
from services.auth.policy import retry_after_seconds
from services.checksums import normalize_id_number, valid_id_number
from services.client import ClientInfo
from services.clock import SHANGHAI
from services.codes import repository as codes_repo
from services.codes import service as codes
from services.codes.purposes import MAX_WRONG_ENTRIES, RESEND_GAP, SMS_TTL, CodePurpose
from services.database import Transactions
from services.errors import Problems, ServiceError, checked
from services.history import service as history
from services.history.service import EventKind
from services.identifiers import client_network, mask_login_name, mask_phone, national, normalize_phone
from services.recovery import repository as repo
from services.recovery.errors import RecoveryErrorCode
from services.security import new_token, token_hash
from services.text import has_control_characters, is_ascii_digits
from services.uow import Uow
from services.verification.documents import DocumentType, Subject

log = logging.getLogger(__name__)

TICKET_TTL = timedelta(minutes=15)
# REC-2: look-ups by real-name information or account ID that find nothing, per client network.
IDENTITY_LOOKUP_FAILURES = 10
IDENTITY_LOOKUP_WINDOW = timedelta(hours=1)


async def _new_ticket(
    uow: Uow,
    kind: str,
    account_ids: list[int],
    phone: str | None,
    login_name: str | None = None,
    code_id: int | None = None,
) -> tuple[str, datetime]:
    token = new_token("rct")
    now = uow.now()
    await repo.add_ticket(
        uow,
        RecoveryTicket(
            token_hash=token_hash(token),
            kind=kind,
            account_ids=account_ids,
            login_name=login_name,
            phone=phone,
            code_id=code_id,
            attempts=0,
            created_at=now,
            expires_at=now + TICKET_TTL,
        ),
    )
    return token, now + TICKET_TTL


async def _ticket(uow: Uow, token: str, kind: str) -> RecoveryTicket:
    ticket = await repo.ticket_by_hash(uow, token_hash(token or ""), kind)
    if ticket is None or ticket.consumed_at is not None or ticket.expires_at <= uow.now():
        raise _ticket_invalid()
    return ticket


def _ticket_invalid() -> ServiceError:
    return ServiceError(RecoveryErrorCode.TICKET_INVALID, "Start again: this recovery step expired.", "ticket")


def _fake_masked_phone(uow: Uow, canonical: str) -> str:
    """A stable, plausible masked phone for a login name that matches no account."""
    if normalize_phone(canonical) is not None:
        # The user typed this phone: a made-up mask would differ from it and tell that no portal
        # account has it (REC-1).
        return mask_phone(canonical)
    digest = uow.keyed(f"fake-phone:{canonical}")
    digits = "".join(str(int(c, 16) % 10) for c in digest[:4])
    return f"1{3 + int(digest[4], 16) % 7}{int(digest[5], 16) % 10}****{digits}"


# --- REC-1 ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResetStarted:
    ticket: str
    masked_phone: str
    expires_at: datetime
    code_expires_at: datetime


async def password_reset_start(
    tx: Transactions, login_name: str, bot_token: str, client_ip: str | None
) -> ResetStarted | ServiceError:
    """REC-1: the input alone, every problem at once; the bot check, outside any transaction; then one
    short write."""
    try:
        problems = Problems()
        checked(problems, _check_login_name, login_name)
        checked(problems, botcheck.check_token, bot_token, RecoveryErrorCode.BOT_CHECK_FAILED)
        if (refusal := problems.refusal()) is not None:
            raise refusal
        await botcheck.verify(
            tx,
            bot_token,
            client_ip,
            failed=RecoveryErrorCode.BOT_CHECK_FAILED,
            unavailable=RecoveryErrorCode.BOT_CHECK_UNAVAILABLE,
        )
    except ServiceError as err:
        return err
    return await tx.write(_reset_start, login_name, client_ip)


def _check_login_name(login_name: str) -> None:
    if not (login_name or "").strip():
        raise ServiceError(RecoveryErrorCode.LOGIN_NAME_REQUIRED, "Enter the login name.", "loginName")
    if has_control_characters(login_name):  # no login name has one; it would be kept in the ticket
        raise ServiceError(RecoveryErrorCode.LOGIN_NAME_INVALID, "A login name has no control characters.", "loginName")


async def _reset_start(uow: Uow, login_name: str, client_ip: str | None) -> ResetStarted:
    canonical, account = await auth.resolve_login_name(uow, login_name)
    now = uow.now()
    # The per-address cap on code sends counts every reset start, whether or not the name exists, so
    # the address's count tells nothing either (the send below is then not counted again).
    await codes.reserve_for_address(uow, client_ip)
    # CODE-3 per login name, whether or not it exists, so the limit tells nothing either.
    name_key = "reset:" + uow.keyed(f"login:{canonical}")[:48]
    if await codes_repo.claim_send_window(uow, name_key, CodePurpose.PASSWORD_RESET.value, now) is None:
        last = await codes_repo.last_sent_at(uow, name_key, CodePurpose.PASSWORD_RESET.value)
        retry = max(1, int(((last or now) + RESEND_GAP - now).total_seconds() + 0.999))
        raise ServiceError(
            RecoveryErrorCode.RESEND_TOO_SOON,
            f"A code was sent less than 60 seconds ago; try again in {retry} s.",
            None,
            retry_after=retry,
        )
    if account is None:
        token, expires = await _new_ticket(uow, "password_reset", [], None, canonical)
        return ResetStarted(token, _fake_masked_phone(uow, canonical), expires, now + SMS_TTL)
    code_id: int | None = None
    try:
        async with uow.session.begin_nested():
            sent = await codes.send(
                uow,
                channel="sms",
                destination=account.phone,
                purpose=CodePurpose.PASSWORD_RESET,
                client_ip=client_ip,  # its network's share of the phone's reset budget (CODE-3)
                address_reserved=True,  # counted against the address above
                account_id=account.id,
            )
        code_id = sent.code_id
    except ServiceError:
        # The phone's own limits (its daily budget, or its 60 s gap after a reset for another of its
        # login names): answer the same way and send nothing. The ticket then has no code of its own
        # and completes like an unknown name's (REC-1 tells nothing).
        pass
    token, expires = await _new_ticket(uow, "password_reset", [account.id], account.phone, canonical, code_id)
    return ResetStarted(token, mask_phone(account.phone), expires, now + SMS_TTL)


@dataclass(frozen=True, slots=True)
class _ResetGate:
    ticket_id: int
    account_id: int
    code_id: int
    # The account's data the new password is judged against (REG-7), read once the code was right.
    username: str | None
    phone: str
    email: str | None
    names: tuple[str | None, ...]


async def password_reset_complete(
    tx: Transactions, ticket_token: str, code: str, new_password: str, client: ClientInfo | None = None
) -> Account | ServiceError:
    """Set the new password and end every session (AUTH-4), in steps: the checks that need no state;
    a short write that checks and counts the code and only then compares the new password with the
    account's username and phone (REC-1: before the code, nothing may depend on the account's data);
    the password's strength and the hash, outside any transaction; a short write that uses the code and
    the ticket and stores the hash."""
    problems = Problems()  # the input alone, every problem at once
    checked(problems, accounts.check_password_length, new_password, "newPassword")  # REG-7
    checked_code = checked(problems, codes.check_format, code)  # CODE-1
    if (refusal := problems.refusal()) is not None:
        return refusal
    assert checked_code is not None
    code = checked_code
    gate = await tx.write(_reset_gate, ticket_token, code, new_password)
    if isinstance(gate, ServiceError):
        return gate
    await tx.release()
    try:
        # REG-7 against the account, after the code. Its holder has the bound phone, which shows this
        # account's login names anyway (REC-2), so a refusal here costs nothing: the code stays usable
        # for a better password.
        await accounts.check_password_strength(
            new_password,
            username=gate.username,
            phone=gate.phone,
            email=gate.email,
            names=gate.names,
            field="newPassword",
        )
    except ServiceError as err:
        return err
    password_hash = await tx.deps.hasher.hash(new_password)
    return await tx.write(_reset_apply, gate, password_hash, client)


async def _reset_gate(uow: Uow, ticket_token: str, code: str, new_password: str) -> _ResetGate:
    """REC-1: every ticket is judged on its own, alike whether or not its name has an account: it ends
    with the code's lifetime, takes at most 5 wrong codes (counted on the ticket), and only the code its
    own start sent completes it. A ticket whose start sent no code (an unknown name, a phone at its
    send limits), or whose account was cancelled or moved to another phone since, takes no code at
    all. No ticket shares another's code or count, so neither an earlier code nor another login name
    on the same phone shows through."""
    ticket = await _ticket(uow, ticket_token, "password_reset")
    if ticket.created_at + SMS_TTL <= uow.now():  # the lifetime of the code the start sent, or would have
        raise ServiceError(RecoveryErrorCode.CODE_EXPIRED, "This code has expired; request a new one.", "code")
    if ticket.attempts >= MAX_WRONG_ENTRIES:
        raise _code_attempts_exhausted()
    account = await _ticket_account(uow, ticket)
    # The code first, checked (CODE-2: a wrong one is counted below)...
    if account is None or ticket.code_id is None or not await codes.matches_issued(uow, ticket.code_id, code):
        raise await _wrong_code(uow, ticket)
    # ... then REG-7's rules against the account (zxcvbn follows outside this transaction).
    accounts.check_password_rules(new_password, username=account.username, phone=account.phone, field="newPassword")
    return _ResetGate(
        ticket.id,
        account.id,
        ticket.code_id,
        account.username,
        account.phone,
        account.email,
        (account.contact_name, account.company_name),
    )


async def _ticket_account(uow: Uow, ticket: RecoveryTicket) -> Account | None:
    """The live account a reset ticket was started for, still bound to the phone the ticket's code went
    to; None for an unknown name, a cancelled account, or an account whose phone changed since."""
    found = await accounts_repo.accounts_by_ids(uow, ticket.account_ids)
    account = found[0] if found else None
    if account is None or account.status != "active" or account.phone != ticket.phone:
        return None
    return account


async def _wrong_code(uow: Uow, ticket: RecoveryTicket) -> ServiceError:
    """A wrong code (or any code on a ticket without one): the try is counted on the ticket, and on its
    code, atomically (of 60 racing wrong codes, 5 are counted), with the same messages for every ticket
    (REC-1)."""
    attempts = await repo.count_wrong_entry(uow, ticket.id, MAX_WRONG_ENTRIES)
    if attempts is None:
        return _code_attempts_exhausted()
    if ticket.code_id is not None:
        await codes.count_wrong_entry(uow, ticket.code_id)  # CODE-2: the code is void after 5 as well
    remaining = MAX_WRONG_ENTRIES - attempts
    return ServiceError(
        RecoveryErrorCode.CODE_INVALID,
        f"The code is not correct; {remaining} tries left."
        if remaining
        else "The code is not correct; request a new one.",
        "code",
        persist=True,
        attempts_remaining=remaining,
    )


def _code_attempts_exhausted() -> ServiceError:
    return ServiceError(
        RecoveryErrorCode.CODE_ATTEMPTS_EXHAUSTED,
        "This code was entered wrongly 5 times and is void; request a new one.",
        "code",
        attempts_remaining=0,
    )


async def _reset_apply(uow: Uow, gate: _ResetGate, password_hash: str, client: ClientInfo | None) -> Account:
    now = uow.now()
    # The ticket and the code once each, atomically: of two completions racing, one sets the password.
    if not await repo.consume_live_ticket(uow, gate.ticket_id, now):
        raise _ticket_invalid()
    await codes.use(uow, gate.code_id)
    account = await accounts_repo.get(uow, gate.account_id)
    if account is None or account.status != "active":
        raise _ticket_invalid()
    account.password_hash = password_hash
    account.password_changed_at = now
    await uow.session.flush()
    await auth_repo.end_all_sessions(uow, account.id, now, "password_reset")  # AUTH-4
    for name in filter(None, [account.username, account.email, account.phone]):
        await auth.clear_login_throttle(uow, name)
    await auth.clear_account_throttle(uow, account.id)
    await history.record(uow, account.id, EventKind.PASSWORD_CHANGED, client, "reset")  # HIST-1
    return account


# --- REC-2 ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoundAccount:
    """An account found by a look-up (REC-2): its login names, shown masked until the code reveals them.
    Nothing else of the account (no phone or e-mail that is not a login name) is shown."""

    kind: str
    login_names: list[str]

    @property
    def masked_login_names(self) -> list[str]:
        return [mask_login_name(name) for name in self.login_names]


def login_names(account: Account) -> list[str]:
    """What the account signs in with (REG-1, AUTH-1): a cloud account its username only; a portal account
    its username, its e-mail, and its phone (national form) when the phone holds it (REG-4: a phone
    reaches only the portal account it holds)."""
    if account.kind != "portal":
        return [account.username] if account.username else []
    names = [n for n in (account.username, account.email) if n]
    if account.phone_holder:
        names.append(national(account.phone))
    return names


def _found(account: Account) -> FoundAccount:
    return FoundAccount(kind=account.kind, login_names=login_names(account))


@dataclass(frozen=True, slots=True)
class RevealStarted:
    """The code sent to the found accounts' bound phone, and the ticket it reveals them with."""

    ticket: str
    masked_phone: str
    code_expires_at: datetime


@dataclass(frozen=True, slots=True)
class LookupResult:
    accounts: list[FoundAccount]
    reveal: RevealStarted | None  # None when nothing was found: no code went out


@dataclass(frozen=True, slots=True)
class ByPhone:
    phone: str


@dataclass(frozen=True, slots=True)
class ByAccountId:
    account_id: str


@dataclass(frozen=True, slots=True)
class ByIdentity:
    """Real-name information: the verified name and the mainland resident ID number."""

    name: str
    id_number: str


# Exactly one way to look accounts up (REC-2); the input holds it in `by` (`by.phone`, `by.identity.name`).
LookupCriteria = ByPhone | ByAccountId | ByIdentity


@dataclass(frozen=True, slots=True)
class _Lookup:
    phone: str | None
    account_number: int | None
    identity: Subject | None


async def account_lookup(
    tx: Transactions, *, bot_token: str, client_ip: str | None, by: LookupCriteria
) -> LookupResult | ServiceError:
    """REC-2: the input alone, every problem at once; the bot check outside any transaction; then one
    short write."""
    try:
        problems = Problems()
        lookup = checked(problems, _lookup_criteria, tx, by)
        checked(problems, botcheck.check_token, bot_token, RecoveryErrorCode.BOT_CHECK_FAILED)
        if (refusal := problems.refusal()) is not None:
            raise refusal
        assert lookup is not None
        await botcheck.verify(
            tx,
            bot_token,
            client_ip,
            failed=RecoveryErrorCode.BOT_CHECK_FAILED,
            unavailable=RecoveryErrorCode.BOT_CHECK_UNAVAILABLE,
        )
    except ServiceError as err:
        return err
    return await tx.write(_lookup, lookup, client_ip)


def _lookup_criteria(tx: Transactions, by: LookupCriteria) -> _Lookup:
    if isinstance(by, ByPhone):
        number = normalize_phone(by.phone or "")
        if number is None:
            raise ServiceError(RecoveryErrorCode.INVALID_PHONE, "Enter a mainland mobile number.", "by.phone")
        return _Lookup(number, None, None)
    if isinstance(by, ByAccountId):
        raw = (by.account_id or "").strip()
        if not is_ascii_digits(raw) or len(raw) != 16:
            raise ServiceError(RecoveryErrorCode.INVALID_ACCOUNT_ID, "An account ID is 16 digits.", "by.accountId")
        return _Lookup(None, int(raw), None)
    problems = Problems()
    if not (by.name or "").strip():
        problems.add(RecoveryErrorCode.NAME_REQUIRED, "Enter the verified name with the ID number.", "by.identity.name")
    elif has_control_characters(by.name):
        problems.add(
            RecoveryErrorCode.NAME_INVALID, "A name has no control characters or line breaks.", "by.identity.name"
        )
    if not valid_id_number(by.id_number or "", tx.deps.clock.now().astimezone(SHANGHAI).date()):
        problems.add(
            RecoveryErrorCode.ID_NUMBER_INVALID,
            "This is not a valid mainland resident ID number.",
            "by.identity.idNumber",
        )
    if (refusal := problems.refusal()) is not None:
        raise refusal
    identity = Subject(" ".join(by.name.split()), DocumentType.MAINLAND_ID_CARD, normalize_id_number(by.id_number))
    return _Lookup(None, None, identity)


def _identity_lookup_budget(client_ip: str | None) -> throttle.Budget:
    """REC-2: failed look-ups by real-name information or account ID, per client network (an IPv4 address or
    an IPv6 /64) and fixed window."""
    return throttle.Budget(
        f"recovery-lookup:{client_network(client_ip)}",
        IDENTITY_LOOKUP_FAILURES,
        timedelta(0),
        window=IDENTITY_LOOKUP_WINDOW,
    )


async def _lookup(uow: Uow, lookup: _Lookup, client_ip: str | None) -> LookupResult:
    counted: throttle.Try | None = None
    if lookup.phone is None:
        # REC-2: a look-up by real-name information or account ID is counted against the client's budget of
        # failed ones before anything is looked up, atomically (of 60 racing failures, the budget's number
        # get an answer), and given back once it found something. A spent budget refuses every such look-up,
        # matching or not, so the refusal tells nothing about the criteria.
        budget = _identity_lookup_budget(client_ip)
        counted = await throttle.reserve(uow, budget)
        if counted is None:
            until = await throttle.window_ends_at(uow, budget)
            retry = retry_after_seconds((until - uow.now()).total_seconds())
            raise ServiceError(
                RecoveryErrorCode.LOOKUP_LIMIT_REACHED,
                f"Too many look-ups found nothing; try again in {retry // 60 + (1 if retry % 60 else 0)} minutes.",
                None,
                retry_after=retry,
            )
    if lookup.phone is not None:
        found = await accounts_repo.accounts_on_phone(uow, lookup.phone)
    elif lookup.identity is not None:
        found = await _accounts_by_identity(uow, lookup.identity)
    else:
        assert lookup.account_number is not None
        one = await accounts_repo.by_account_number(uow, lookup.account_number)
        found = [one] if one else []
    if not found:
        return LookupResult(accounts=[], reveal=None)  # the failed look-up stays counted
    if counted is not None:
        await throttle.give_back(uow, counted)
    bound_phone = found[0].phone
    sent = await codes.send(
        uow,
        channel="sms",
        destination=bound_phone,
        purpose=CodePurpose.ACCOUNT_REVEAL,
        client_ip=client_ip,
        account_id=found[0].id,
    )
    revealable = [a.id for a in found if a.phone == bound_phone]
    token, _ = await _new_ticket(uow, "account_reveal", revealable, bound_phone)
    return LookupResult(
        accounts=[_found(a) for a in found],
        reveal=RevealStarted(ticket=token, masked_phone=mask_phone(bound_phone), code_expires_at=sent.expires_at),
    )


async def _accounts_by_identity(uow: Uow, identity: Subject) -> list[Account]:
    """Live accounts verified with this ID number and this exact name, most recently verified first.
    The number is matched by its keyed hash (it is not stored readable)."""
    return await repo.accounts_by_identity(uow, identity.key(uow.settings.secret_key), identity.name)


async def account_reveal(uow: Uow, ticket_token: str, code: str) -> list[FoundAccount]:
    codes.check_format(code)  # the input alone first (CODE-1)
    ticket = await _ticket(uow, ticket_token, "account_reveal")
    assert ticket.phone is not None
    await codes.verify(uow, destination=ticket.phone, purpose=CodePurpose.ACCOUNT_REVEAL, code=code)
    ticket.consumed_at = uow.now()
    await uow.session.flush()
    return [_found(a) for a in await accounts_repo.accounts_by_ids(uow, ticket.account_ids)]
