"""The security history (HIST-1) and the new-device notice (HIST-2).

HIST-1 every security-relevant event of an account is recorded once, where it happens, in the
       transaction of the change it records (a refused or rolled-back operation records nothing): its
       kind, time, the client's address and user agent when there is a client (none for the sweeper or a
       reviewer's decision), and a short non-secret detail (a sign-in method, an outcome). No password,
       code, token, ID number or other value the user typed is ever part of an event. A wrong password
       through a name that names no account records nothing; through a known account's name it records on
       that account, and the answer is the same either way (AUTH-5).
HIST-2 a successful sign-in (any method) from a client (address + user agent) the account has not signed
       in from within NEW_DEVICE_WINDOW sends a notice to the bound phone, and to the e-mail when one is
       bound: when (Beijing time), from where, and what to do if it was not the owner. The account's
       first sign-in ever (registration's) sends none. Decided from the history, in the sign-in's
       transaction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from models.accounts import Account
from models.history import SecurityEvent
from services import metrics
from services.client import ClientInfo
from services.clock import SHANGHAI, as_utc
from services.history import repository as repo
from services.sql import ListCount
from services.uow import Uow

NEW_DEVICE_WINDOW = timedelta(days=90)  # HIST-2


class EventKind(StrEnum):
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_LOCKED = "sign_in_locked"
    SIGN_IN_CHALLENGED = "sign_in_challenged"
    SIGNED_OUT = "signed_out"
    SESSION_REVOKED = "session_revoked"
    PASSWORD_CHANGED = "password_changed"
    PHONE_CHANGED = "phone_changed"
    EMAIL_CHANGED = "email_changed"
    MFA_BOUND = "mfa_bound"
    MFA_UNBOUND = "mfa_unbound"
    PROTECTION_CHANGED = "protection_changed"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    VERIFICATION_PASSED = "verification_passed"
    VERIFICATION_FAILED = "verification_failed"
    SUBJECT_CHANGE_COMPLETED = "subject_change_completed"
    SUBJECT_CHANGE_WITHDRAWN = "subject_change_withdrawn"
    SUBJECT_CHANGE_REJECTED = "subject_change_rejected"
    SUBJECT_CHANGE_LAPSED = "subject_change_lapsed"
    APPEAL_FILED = "appeal_filed"
    APPEAL_DECIDED = "appeal_decided"
    DATA_EXPORT_PREPARED = "data_export_prepared"  # issue 15 item 3: a copy of the account's data


async def record(
    uow: Uow, account_id: int, kind: EventKind, client: ClientInfo | None = None, detail: str | None = None
) -> None:
    """HIST-1: one event, in the caller's transaction. `detail` is a fixed word chosen by the code (a method,
    an outcome), never a value from the request."""
    await repo.add(
        uow,
        SecurityEvent(
            account_id=account_id,
            kind=kind.value,
            occurred_at=uow.now(),
            client_ip=client.ip if client else None,
            user_agent=client.stored_user_agent if client else None,
            detail=detail[:64] if detail else None,
        ),
    )
    # Issue 16 item 3: every recorded event is counted by kind (and a sign-in's by outcome and method)
    # once the transaction commits, so the metrics agree with the history.
    metrics.count_event(uow, kind.value, detail[:64] if detail else None)


async def events(
    uow: Uow, account_id: int, kinds: list[EventKind] | None, limit: int, after_id: int | None
) -> tuple[list[SecurityEvent], ListCount]:
    return await repo.page(uow, account_id, [k.value for k in kinds] if kinds is not None else None, limit, after_id)


async def signed_in(uow: Uow, account: Account, method: str, client: ClientInfo, *, created: bool = False) -> None:
    """A session was issued: HIST-2's notice if the client is new to the account, then HIST-1's event.
    `created`: the sign-in made the account (registration's), which is never told of."""
    if not created:
        before, known = await repo.sign_in_history(
            uow,
            account.id,
            EventKind.SIGNED_IN.value,
            client.ip,
            client.stored_user_agent,
            uow.now() - NEW_DEVICE_WINDOW,
        )
        if before and not known:  # HIST-2: never on the account's first sign-in (registration's)
            await _new_device_notice(uow, account, client)
    await record(uow, account.id, EventKind.SIGNED_IN, client, method)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
_UNSAFE = re.compile(r"[^\w ./;()-]")


def short_user_agent(user_agent: str | None) -> str:
    """A short form of a user agent for a notice ("Chrome on Windows"); the first words of an unknown one."""
    if not user_agent:
        return "unknown client"
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system or ""
    return _UNSAFE.sub("", user_agent)[:40].strip() or "unknown client"


def _beijing(value: datetime) -> str:
    return as_utc(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def _new_device_notice(uow: Uow, account: Account, client: ClientInfo) -> None:
    when, where, device = _beijing(uow.now()), client.ip or "unknown address", short_user_agent(client.user_agent)
    text = (
        f"【账号中心 Account center】您的账号于北京时间{when}在新设备上登录（{where}，{device}）。"
        "如非本人操作，请立即修改密码并退出其他会话。"
        f" Your account was signed in to from a new device at {when} Beijing time ({where}, {device})."
        " If this was not you, change your password now and sign out your other sessions."
    )
    await uow.deps.notifier.send(uow, channel="sms", destination=account.phone, purpose="NEW_DEVICE", text=text)
    if account.email:
        await uow.deps.notifier.send(uow, channel="email", destination=account.email, purpose="NEW_DEVICE", text=text)
