"""All SQL of student status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update

from models.students import StudentStatus
from services.students.status import month_index
from services.uow import Uow


async def latest(uow: Uow, account_id: int) -> StudentStatus | None:
    return await uow.session.scalar(
        select(StudentStatus).where(StudentStatus.account_id == account_id).order_by(StudentStatus.id.desc()).limit(1)
    )


async def latest_pending(uow: Uow, account_id: int) -> StudentStatus | None:
    return await uow.session.scalar(
        select(StudentStatus)
        .where(StudentStatus.account_id == account_id, StudentStatus.state == "pending")
        .order_by(StudentStatus.id.desc())
        .limit(1)
    )


async def verified_through(uow: Uow, account_id: int, year: int, month: int) -> StudentStatus | None:
    """A verification of the account whose graduation month is (year, month) or later."""
    graduation = StudentStatus.graduation_year * 12 + (StudentStatus.graduation_month - 1)
    return await uow.session.scalar(
        select(StudentStatus)
        .where(
            StudentStatus.account_id == account_id,
            StudentStatus.state == "verified",
            graduation >= month_index(year, month),
        )
        .order_by(StudentStatus.id.desc())
        .limit(1)
    )


async def delete_pending(uow: Uow, account_id: int) -> None:
    await uow.session.execute(
        delete(StudentStatus).where(StudentStatus.account_id == account_id, StudentStatus.state == "pending")
    )


async def add(uow: Uow, row: StudentStatus) -> StudentStatus:
    uow.session.add(row)
    await uow.session.flush()
    return row


async def mark_verified(uow: Uow, status_id: int, now: datetime) -> bool:
    """pending -> verified, once: the conditional UPDATE tells whether this caller made the change (the
    loaded row follows, through the session's synchronisation)."""
    result = await uow.session.execute(
        update(StudentStatus)
        .where(StudentStatus.id == status_id, StudentStatus.state == "pending")
        .values(state="verified", verified_at=now)
        .returning(StudentStatus.id)
    )
    return result.scalar_one_or_none() is not None


async def of_account(uow: Uow, account_id: int, ids: Iterable[int]) -> list[StudentStatus]:
    rows = await uow.session.scalars(
        select(StudentStatus).where(StudentStatus.account_id == account_id, StudentStatus.id.in_(list(ids)))
    )
    return list(rows)
