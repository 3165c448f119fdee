"""One-time codes: send (purpose-bound, 60 s gap, daily cap) and verify (5 tries, single use, expiry).

CODE-1 6 digits; SMS codes live 5 minutes, e-mail codes 30.
CODE-2 bound to purpose and destination, single use, void after 5 wrong entries.
CODE-3 one send per destination and purpose per 60 s; a daily cap per destination.
CODE-4 delivered through the notifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.codes import OneTimeCode
from services.clock import shanghai_day
from services.codes import repository as repo
from services.codes.errors import CodeErrorCode
from services.codes.purposes import (
    CODE_LENGTH,
    EMAIL_TTL,
    LABELS,
    MAX_WRONG_ENTRIES,
    RESEND_GAP,
    SMS_TTL,
    CodePurpose,
)
from services.errors import ServiceError
from services.security import random_digits
from services.text import is_ascii_digits
from services.uow import Uow


@dataclass(frozen=True, slots=True)
class SentCode:
    destination: str
    channel: str
    purpose: CodePurpose
    expires_at: datetime
    resend_available_at: datetime
    daily_remaining: int


def _message(code: str, purpose: CodePurpose, channel: str) -> str:
    zh, en = LABELS[purpose]
    minutes = int((SMS_TTL if channel == "sms" else EMAIL_TTL).total_seconds() // 60)
    # SANDBOX.md: the code is the only 6-digit number in the text.
    return (
        f"【账号中心 Account center】验证码 / code: {code}。用于{zh} / for {en}；"
        f"{minutes}分钟内有效 / valid for {minutes} minutes；请勿告诉他人 / do not share it."
    )


async def send(
    uow: Uow,
    *,
    channel: str,
    destination: str,
    purpose: CodePurpose,
    account_id: int | None = None,
    field: str | None = None,
    scope: str | None = None,
) -> SentCode:
    """Issue a new code and deliver it. The caller has validated and normalised `destination`.

    `scope` keeps codes of the same address apart per owner (student e-mail codes are per account, so
    one account cannot void or burn another's): the 60 s gap, voiding and matching use it; the daily
    cap stays per address (CODE-3)."""
    slot = destination if scope is None else scope
    now = uow.now()
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
    # CODE-3: a daily cap per destination (Asia/Shanghai day), all purposes together.
    day = shanghai_day(now)
    cap = uow.settings.code_daily_cap
    count = await repo.take_daily_slot(uow, destination, day, cap)
    if count is None:
        raise ServiceError(
            CodeErrorCode.DAILY_LIMIT_REACHED,
            f"At most {cap} codes a day can be sent to this destination; try again tomorrow.",
            field,
        )
    # CODE-2: a new code replaces the previous one for the same destination and purpose.
    await repo.void_active(uow, slot, purpose.value, now)
    code = random_digits(CODE_LENGTH)
    ttl = SMS_TTL if channel == "sms" else EMAIL_TTL
    await repo.add_code(
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
    await uow.deps.notifier.send(
        uow, channel=channel, destination=destination, purpose=purpose.value, text=_message(code, purpose, channel)
    )
    return SentCode(
        destination=destination,
        channel=channel,
        purpose=purpose,
        expires_at=now + ttl,
        resend_available_at=now + RESEND_GAP,
        daily_remaining=cap - count,
    )


def check_format(code: str, field: str = "code") -> str:
    value = (code or "").strip()
    if len(value) != CODE_LENGTH or not is_ascii_digits(value):
        raise ServiceError(CodeErrorCode.CODE_FORMAT_INVALID, "A code is 6 digits.", field)
    return value


async def verify(uow: Uow, *, destination: str, purpose: CodePurpose, code: str, field: str = "code") -> int:
    """Accept the code once and return its ID, or raise. A wrong entry is counted and committed (CODE-2)."""
    value = check_format(code, field)
    now = uow.now()
    match = await repo.find_matching(uow, destination, purpose.value, uow.keyed(f"code:{value}"))
    if match is not None:
        if match.expires_at <= now:
            raise ServiceError(CodeErrorCode.CODE_EXPIRED, "This code has expired; request a new one.", field)
        if match.attempts >= MAX_WRONG_ENTRIES:
            raise _exhausted(field)
        if await repo.consume(uow, match.id, now):
            return match.id
        raise _exhausted(field)  # a concurrent request used up the last try or the code itself
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
