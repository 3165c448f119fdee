"""All SQL of the one-time codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update

from models.codes import CodeAddressCount, CodeDailyCount, CodeNetworkCount, CodeSendWindow, OneTimeCode
from services.codes.purposes import MAX_WRONG_ENTRIES, RESEND_GAP
from services.sql import insert, take_counted_slot
from services.uow import Uow


async def claim_send_window(uow: Uow, destination: str, purpose: str, now: datetime) -> datetime | None:
    """CODE-3: take the 60-second slot atomically. None when taken; else the new last-sent time."""
    stmt = insert(uow, CodeSendWindow).values(destination=destination, purpose=purpose, last_sent_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CodeSendWindow.destination, CodeSendWindow.purpose],
        set_={"last_sent_at": now},
        where=CodeSendWindow.last_sent_at <= now - RESEND_GAP,
    ).returning(CodeSendWindow.last_sent_at)
    result = await uow.session.execute(stmt)
    return result.scalar_one_or_none()


async def last_sent_at(uow: Uow, destination: str, purpose: str) -> datetime | None:
    return await uow.session.scalar(
        select(CodeSendWindow.last_sent_at).where(
            CodeSendWindow.destination == destination, CodeSendWindow.purpose == purpose
        )
    )


async def take_daily_slot(uow: Uow, destination: str, budget: str, day: str, cap: int) -> int | None:
    """CODE-3: count one send against the destination's budget for the day, atomically; None when the
    cap is reached (nothing changes then)."""
    key = {"day": day, "destination": destination, "budget": budget}
    return await take_counted_slot(uow, CodeDailyCount, key, cap)


async def take_network_slot(uow: Uow, destination: str, budget: str, network: str, day: str, cap: int) -> int | None:
    """CODE-3: count one send against the part of the destination's budget for the day that one client
    network may spend, atomically; None when the cap is reached (nothing changes then)."""
    key = {"day": day, "destination": destination, "budget": budget, "network": network}
    return await take_counted_slot(uow, CodeNetworkCount, key, cap)


async def take_address_slot(uow: Uow, address: str, span: str, starts_at: datetime, cap: int) -> int | None:
    """Count one send against a client address for the hour or day starting at `starts_at`, atomically;
    None when the cap is reached (nothing changes then)."""
    key = {"starts_at": starts_at, "span": span, "address": address}
    return await take_counted_slot(uow, CodeAddressCount, key, cap)


async def delete_counters_before(uow: Uow, day: str, moment: datetime) -> dict[str, int]:
    """Drop counters no limit reads any more: daily budgets and their per-network shares of days before
    `day`, address counts of
    periods that started before `moment`, and 60-second windows last used before `moment`."""
    budgets = await uow.session.execute(
        delete(CodeDailyCount).where(CodeDailyCount.day < day).returning(CodeDailyCount.day)
    )
    networks = await uow.session.execute(
        delete(CodeNetworkCount).where(CodeNetworkCount.day < day).returning(CodeNetworkCount.day)
    )
    addresses = await uow.session.execute(
        delete(CodeAddressCount).where(CodeAddressCount.starts_at < moment).returning(CodeAddressCount.span)
    )
    windows = await uow.session.execute(
        delete(CodeSendWindow).where(CodeSendWindow.last_sent_at < moment).returning(CodeSendWindow.purpose)
    )
    return {
        "code_daily_counts_deleted": len(budgets.all()),
        "code_network_counts_deleted": len(networks.all()),
        "code_address_counts_deleted": len(addresses.all()),
        "code_send_windows_deleted": len(windows.all()),
    }


async def void_active(uow: Uow, destination: str, purpose: str, now: datetime) -> None:
    await uow.session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.destination == destination,
            OneTimeCode.purpose == purpose,
            OneTimeCode.consumed_at.is_(None),
            OneTimeCode.voided_at.is_(None),
        )
        .values(voided_at=now)
    )


async def add_code(uow: Uow, code: OneTimeCode) -> int:
    uow.session.add(code)
    await uow.session.flush()
    return code.id


async def get(uow: Uow, code_id: int) -> OneTimeCode | None:
    return await uow.session.get(OneTimeCode, code_id)


def _active(destination: str, purpose: str) -> tuple[ColumnElement[bool], ...]:
    return (
        OneTimeCode.destination == destination,
        OneTimeCode.purpose == purpose,
        OneTimeCode.consumed_at.is_(None),
        OneTimeCode.voided_at.is_(None),
    )


async def find_matching(uow: Uow, destination: str, purpose: str, code_hash: str) -> OneTimeCode | None:
    return await uow.session.scalar(
        select(OneTimeCode)
        .where(*_active(destination, purpose), OneTimeCode.code_hash == code_hash)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )


async def latest_active(uow: Uow, destination: str, purpose: str) -> OneTimeCode | None:
    return await uow.session.scalar(
        select(OneTimeCode).where(*_active(destination, purpose)).order_by(OneTimeCode.id.desc()).limit(1)
    )


async def give_back(uow: Uow, code_id: int) -> None:
    """Undo a consumption whose operation could not be decided (an outside provider failed); a code
    voided by a newer one stays void."""
    await uow.session.execute(
        update(OneTimeCode).where(OneTimeCode.id == code_id, OneTimeCode.voided_at.is_(None)).values(consumed_at=None)
    )


async def consume(uow: Uow, code_id: int, now: datetime) -> bool:
    """Single use: only one caller can consume a code, and only while tries remain."""
    result = await uow.session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.id == code_id,
            OneTimeCode.consumed_at.is_(None),
            OneTimeCode.voided_at.is_(None),
            OneTimeCode.attempts < MAX_WRONG_ENTRIES,
        )
        .values(consumed_at=now)
        .returning(OneTimeCode.id)
    )
    return result.scalar_one_or_none() is not None


async def count_wrong_entry(uow: Uow, code_id: int) -> int | None:
    """CODE-2: one more wrong entry, never past the limit. None when the limit was already reached."""
    result = await uow.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code_id, OneTimeCode.attempts < MAX_WRONG_ENTRIES)
        .values(attempts=OneTimeCode.attempts + 1)
        .returning(OneTimeCode.attempts)
    )
    return result.scalar_one_or_none()


async def count_sent_by_account(uow: Uow, account_id: int, purpose: str, since: datetime) -> int:
    value = await uow.session.scalar(
        select(func.count())
        .select_from(OneTimeCode)
        .where(OneTimeCode.account_id == account_id, OneTimeCode.purpose == purpose, OneTimeCode.created_at >= since)
    )
    return value or 0
