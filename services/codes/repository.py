"""All SQL of the one-time codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update

from models.codes import CodeDailyCount, CodeSendWindow, OneTimeCode
from services.codes.purposes import MAX_WRONG_ENTRIES, RESEND_GAP
from services.sql import insert
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


async def take_daily_slot(uow: Uow, destination: str, day: str, cap: int) -> int | None:
    """CODE-3: count one send against the day's cap atomically; None when the cap is reached."""
    stmt = insert(uow, CodeDailyCount).values(destination=destination, day=day, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CodeDailyCount.destination, CodeDailyCount.day],
        set_={"count": CodeDailyCount.count + 1},
        where=CodeDailyCount.count < cap,
    ).returning(CodeDailyCount.count)
    result = await uow.session.execute(stmt)
    return result.scalar_one_or_none()


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


async def add_code(uow: Uow, code: OneTimeCode) -> None:
    uow.session.add(code)
    await uow.session.flush()


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
