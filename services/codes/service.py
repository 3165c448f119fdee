"""One-time codes: send (purpose-bound, 60 s gap, daily budgets, per-address caps) and verify (5 tries,
single use, expiry).

CODE-1 6 digits; SMS codes live 5 minutes, e-mail codes 30.
CODE-2 bound to purpose and destination, single use, void after 5 wrong entries.
CODE-3 one send per destination and purpose per 60 s; daily caps per destination, one per class of
       purposes (`CodeBudget`), so what anyone can trigger cannot use up the owner's codes; of the
       budgets anyone can spend but the owner needs (SMS sign-in, password reset), one client network
       may spend only a part a day. Beyond the rules: the codes one client address can have sent to
       destinations it does not own are capped per hour and per day.
CODE-4 delivered through the notifier; the outbox masks a code once it has expired.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.codes import OneTimeCode
from services import metrics
from services.clock import as_utc, shanghai_day, shanghai_day_start
from services.codes import repository as repo
from services.codes.errors import CodeErrorCode
from services.codes.purposes import (
    ADDRESS_CAPPED,
    BUDGETS,
    CODE_LENGTH,
    EMAIL_TTL,
    LABELS,
    MAX_WRONG_ENTRIES,
    NETWORK_CAPPED,
    RESEND_GAP,
    SMS_TTL,
    CodeBudget,
    CodePurpose,
)
from services.errors import ServiceError
from services.identifiers import client_network
from services.security import random_digits
from services.text import is_ascii_digits
from services.uow import Uow
from settings import Settings


@dataclass(frozen=True, slots=True)
class SentCode:
    code_id: int
    destination: str
    channel: str
    purpose: CodePurpose
    expires_at: datetime
    resend_available_at: datetime
    daily_remaining: int


def _message(code: str, purpose: CodePurpose, channel: str) -> str:
    zh, en = LABELS[purpose]
    minutes = int((SMS_TTL if channel == "sms" else EMAIL_TTL).total_seconds() // 60)
    # docs/sandbox.md: the code is the only 6-digit number in the text.
    return (
        f"【账号中心 Account center】验证码 / code: {code}。用于{zh} / for {en}；"
        f"{minutes}分钟内有效 / valid for {minutes} minutes；请勿告诉他人 / do not share it."
    )


def daily_cap(settings: Settings, budget: CodeBudget) -> int:
    """CODE-3: how many codes of a budget one destination may receive per Asia/Shanghai day."""
    return {
        CodeBudget.PUBLIC: settings.code_daily_cap,
        CodeBudget.LOGIN: settings.code_daily_cap_login,
        CodeBudget.RESET: settings.code_daily_cap_reset,
        CodeBudget.RECOVERY: settings.code_daily_cap_recovery,
        CodeBudget.SIGNED_IN: settings.code_daily_cap_signed_in,
        CodeBudget.OWNER: settings.code_daily_cap_owner,
    }[budget]


def network_cap(settings: Settings, budget: CodeBudget) -> int | None:
    """CODE-3: how much of a destination's daily budget the requests from one client network may spend,
    or None when the budget has no such share (`NETWORK_CAPPED`)."""
    if budget not in NETWORK_CAPPED:
        return None
    if budget is CodeBudget.LOGIN:
        return settings.code_daily_cap_login_per_network
    return settings.code_daily_cap_reset_per_network


def _address_key(uow: Uow, client_ip: str) -> str:
    """One client for the per-address caps (`client_network`: an IPv4 address or an IPv6 /64), kept as
    a keyed hash: the counters need equality, not the address."""
    return uow.keyed(f"code-client:{client_network(client_ip)}")


async def reserve_for_address(uow: Uow, client_ip: str | None, field: str | None = None) -> None:
    """Count one code send against the client's address, per clock hour and per Asia/Shanghai day, or
    refuse with ADDRESS_LIMIT_REACHED (the reservation is undone with the refused request). Without an
    address (the CLI, a service call) nothing is counted.

    Beyond the rules: one client must not spray codes over many phones. The refusal depends only on
    the address, so it tells nothing about a destination."""
    if client_ip is None:
        return
    settings, now = uow.settings, as_utc(uow.now())
    address = _address_key(uow, client_ip)
    day_start, until_tomorrow = shanghai_day_start(now)
    if await repo.take_address_slot(uow, address, "day", day_start, settings.code_address_daily_cap) is None:
        raise _address_limit(settings.code_address_daily_cap, "day", until_tomorrow, field)
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    if await repo.take_address_slot(uow, address, "hour", hour_start, settings.code_address_hourly_cap) is None:
        until_next_hour = int((hour_start + timedelta(hours=1) - now).total_seconds() + 0.999)
        raise _address_limit(settings.code_address_hourly_cap, "hour", max(1, until_next_hour), field)


def _address_limit(cap: int, span: str, retry_after: int, field: str | None) -> ServiceError:
    per = "an hour" if span == "hour" else "a day"
    return ServiceError(
        CodeErrorCode.ADDRESS_LIMIT_REACHED,
        f"At most {cap} codes {per} can be sent for requests from your network; try again in {retry_after} s.",
        field,
        retry_after=retry_after,
    )


async def send(
    uow: Uow,
    *,
    channel: str,
    destination: str,
    purpose: CodePurpose,
    client_ip: str | None,
    account_id: int | None = None,
    field: str | None = None,
    scope: str | None = None,
    address_reserved: bool = False,
    refuse: Callable[[], Awaitable[ServiceError | None]] | None = None,
) -> SentCode:
    """Issue a new code and deliver it. The caller has validated and normalised `destination`.

    `client_ip` is the address the request came from (None when there is none): codes a caller can have
    sent to destinations it does not own count against it (`reserve_for_address`), unless the caller
    has already counted this send against it (`address_reserved`); login and reset codes also count
    against its network's share of the destination's budget (`network_cap`).

    `scope` keeps codes of the same address apart per owner (student e-mail codes are per account, so
    one account cannot void or burn another's): the 60 s gap, voiding and matching use it; the daily
    cap stays per address (CODE-3).

    Every limit is reserved atomically before the code exists; a refusal raises, and the edge rolls the
    reservations back with the request, so a refused send changes nothing.

    `refuse` is asked once every limit is reserved and before the code exists: a refusal it returns
    (REG-3 for a registration code) is raised with the reservations kept (`persist`), so the refusal
    costs exactly what a send costs and probing for it is throttled like sending codes."""
    slot = destination if scope is None else scope
    now = uow.now()
    if purpose in ADDRESS_CAPPED and not address_reserved:
        await reserve_for_address(uow, client_ip, field)
    # CODE-3: at most one code per destination and purpose every 60 seconds.
    if await repo.claim_send_window(uow, slot, purpose.value, now) is None:
        last = await repo.last_sent_at(uow, slot, purpose.value)
        retry = max(1, int(((last or now) + RESEND_GAP - now).total_seconds() + 0.999))
        raise ServiceError(
            CodeErrorCode.RESEND_TOO_SOON,
            f"A code was sent less than 60 seconds ago; try again in {retry} s.",
            field,
            retry_after=retry,
        )
    # CODE-3: a daily cap per destination (Asia/Shanghai day) and budget: each class of purposes has
    # its own, so registration sends cannot use up SMS sign-in codes, account lookups cannot use up
    # reset codes, and neither can use up the OPERATION, LOGIN_CHALLENGE or binding codes of the owner.
    budget = BUDGETS[purpose]
    day = shanghai_day(now)
    cap = daily_cap(uow.settings, budget)
    count = await repo.take_daily_slot(uow, destination, budget.value, day, cap)
    if count is None:
        raise ServiceError(
            CodeErrorCode.DAILY_LIMIT_REACHED,
            f"At most {cap} codes of this kind a day can be sent to this destination; try again tomorrow.",
            field,
        )
    remaining = cap - count
    # CODE-3: anyone can spend the login and reset budgets the owner needs; one client network may spend
    # only part of each, so a single network cannot use up the owner's codes for the day.
    share = network_cap(uow.settings, budget)
    if share is not None and client_ip is not None:
        network = _address_key(uow, client_ip)
        taken = await repo.take_network_slot(uow, destination, budget.value, network, day, share)
        if taken is None:
            _, until_tomorrow = shanghai_day_start(as_utc(now))
            raise ServiceError(
                CodeErrorCode.NETWORK_DAILY_LIMIT_REACHED,
                f"At most {share} codes of this kind a day can be sent to this destination for requests from "
                "your network; try again tomorrow.",
                field,
                retry_after=until_tomorrow,
            )
        remaining = min(remaining, share - taken)
    if refuse is not None and (refusal := await refuse()) is not None:
        # Nothing is sent, but the budgets, caps and 60 s window stay spent, as for a code that went out.
        raise ServiceError(
            refusal.code,
            refusal.message,
            refusal.field if field is None else field,
            persist=True,
            retry_after=refusal.retry_after,
        )
    # CODE-2: a new code replaces the previous one for the same destination and purpose.
    await repo.void_active(uow, slot, purpose.value, now)
    code = random_digits(CODE_LENGTH)
    ttl = SMS_TTL if channel == "sms" else EMAIL_TTL
    code_id = await repo.add_code(
        uow,
        OneTimeCode(
            channel=channel,
            destination=slot,
            purpose=purpose.value,
            code_hash=uow.keyed(f"code:{code}"),
            account_id=account_id,
            attempts=0,
            created_at=now,
            expires_at=now + ttl,
        ),
    )
    # CODE-4; the outbox masks the code once it has expired.
    await uow.deps.notifier.send(
        uow,
        channel=channel,
        destination=destination,
        purpose=purpose.value,
        text=_message(code, purpose, channel),
        secret_expires_at=now + ttl,
    )
    metrics.count_code_sent(uow, purpose.value, channel)  # issue 16 item 3, once committed
    return SentCode(
        code_id=code_id,
        destination=destination,
        channel=channel,
        purpose=purpose,
        expires_at=now + ttl,
        resend_available_at=now + RESEND_GAP,
        daily_remaining=remaining,
    )


def check_format(code: str, field: str = "code") -> str:
    value = (code or "").strip()
    if len(value) != CODE_LENGTH or not is_ascii_digits(value):
        raise ServiceError(CodeErrorCode.CODE_FORMAT_INVALID, "A code is 6 digits.", field)
    return value


async def verify(uow: Uow, *, destination: str, purpose: CodePurpose, code: str, field: str = "code") -> int:
    """Accept the code once and return its ID, or raise. A wrong entry is counted and committed (CODE-2)."""
    code_id = await check(uow, destination=destination, purpose=purpose, code=code, field=field)
    await use(uow, code_id, field)
    return code_id


async def use(uow: Uow, code_id: int, field: str = "code") -> None:
    """Use up a code `check` accepted (CODE-2: single use)."""
    if not await repo.consume(uow, code_id, uow.now()):
        raise _exhausted(field)  # a concurrent request used up the last try or the code itself


async def check(uow: Uow, *, destination: str, purpose: CodePurpose, code: str, field: str = "code") -> int:
    """The ID of the live code matching `code`, without using it up; a wrong entry is counted and
    committed (CODE-2). For a use case that must judge more after the code and before using it (`verify`
    then `count_refusal`, or a second transaction)."""
    value = check_format(code, field)
    now = uow.now()
    match = await repo.find_matching(uow, destination, purpose.value, uow.keyed(f"code:{value}"))
    if match is not None:
        if match.expires_at <= now:
            raise ServiceError(CodeErrorCode.CODE_EXPIRED, "This code has expired; request a new one.", field)
        if match.attempts >= MAX_WRONG_ENTRIES:
            raise _exhausted(field)
        return match.id
    latest = await repo.latest_active(uow, destination, purpose.value)
    if latest is None:
        raise ServiceError(
            CodeErrorCode.CODE_INVALID, "The code is not valid; request a new one.", field, attempts_remaining=0
        )
    if latest.expires_at <= now:
        raise ServiceError(CodeErrorCode.CODE_EXPIRED, "This code has expired; request a new one.", field)
    attempts = await repo.count_wrong_entry(uow, latest.id)
    if attempts is None:
        raise _exhausted(field)
    remaining = MAX_WRONG_ENTRIES - attempts
    raise ServiceError(
        CodeErrorCode.CODE_INVALID,
        f"The code is not correct; {remaining} tries left."
        if remaining
        else "The code is not correct; request a new one.",
        field,
        persist=True,
        attempts_remaining=remaining,
    )


async def count_refusal(uow: Uow, code_id: int, field: str = "code") -> int:
    """Count one of the code's 5 tries (CODE-2) against a right code whose request was refused for a
    reason a caller could probe (a taken username, REG-2): it stays usable for a corrected request, but
    one code answers at most 5 such refusals. Returns the tries left; raises once none was left. The
    caller's refusal must persist (`persist=True`) for the count to stay."""
    attempts = await repo.count_wrong_entry(uow, code_id)
    if attempts is None:
        raise _exhausted(field)
    return MAX_WRONG_ENTRIES - attempts


async def refused_after_code(uow: Uow, code_id: int, error: ServiceError, code_field: str = "code") -> ServiceError:
    """`error`, for a request whose code was right but which is refused for a reason a caller could
    probe (a taken username, a phone that has accounts): one of the code's tries is counted
    (`count_refusal`), the message says how many are left, and the refusal persists so the count stays.
    Raises CODE_ATTEMPTS_EXHAUSTED on `code_field`, without telling `error`, once no try was left."""
    remaining = await count_refusal(uow, code_id, code_field)
    tries = f"{remaining} tries left with this code" if remaining else "the code is now void; request a new one"
    return ServiceError(
        error.code,
        f"{error.message.rstrip('.')}; {tries}.",
        error.field,
        persist=True,  # the counted try stays
        attempts_remaining=remaining,
    )


async def matches_issued(uow: Uow, code_id: int, code: str) -> bool:
    """Whether `code` is the code issued as `code_id` and that code can still be used (neither expired,
    voided by a newer one, used, nor void after 5 wrong entries). Counts nothing: for a use case that
    binds one issued code to its own conversation and counts wrong entries there (REC-1)."""
    issued = await repo.get(uow, code_id)
    if issued is None:
        return False
    right = hmac.compare_digest(issued.code_hash, uow.keyed(f"code:{code}"))
    live = (
        issued.consumed_at is None
        and issued.voided_at is None
        and issued.expires_at > uow.now()
        and issued.attempts < MAX_WRONG_ENTRIES
    )
    return right and live


async def count_wrong_entry(uow: Uow, code_id: int) -> None:
    """One more wrong entry on the code issued as `code_id` (CODE-2), never past the limit."""
    await repo.count_wrong_entry(uow, code_id)


def _exhausted(field: str) -> ServiceError:
    return ServiceError(
        CodeErrorCode.CODE_ATTEMPTS_EXHAUSTED,
        "This code was entered wrongly 5 times and is void; request a new one.",
        field,
        attempts_remaining=0,
    )


async def give_back(uow: Uow, code_id: int) -> None:
    """Make a consumed code usable again when the operation it confirmed could not be decided."""
    await repo.give_back(uow, code_id)


async def sent_since(uow: Uow, account_id: int, purpose: CodePurpose, since: datetime) -> int:
    """Codes of `purpose` the account asked for since `since` (whatever their destination)."""
    return await repo.count_sent_by_account(uow, account_id, purpose.value, since)


async def sweep(uow: Uow) -> dict[str, int]:
    """Drop the sending counters no limit reads any more (days before yesterday; windows and address
    periods older than a day). Called by `account-center sweep`."""
    now = uow.now()
    return await repo.delete_counters_before(uow, shanghai_day(now - timedelta(days=1)), now - timedelta(days=1))
