"""The statements of the data export and of the cancellation flow (one query per export section)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update

from models.accounts import AgreementAcceptance
from models.appeals import Appeal
from models.auth import AuthSession, StepUpGrant
from models.changes import SubjectChange
from models.enterprise import BalanceEntry, EnterpriseApplication
from models.lifecycle import Cancellation, DataExport
from models.verification import Verification, VerificationAttempt
from services.uow import Uow


async def _limited(uow: Uow, stmt: Select[Any], limit: int) -> tuple[list[Any], bool]:
    """At most `limit` rows, and whether there were more."""
    rows = list((await uow.session.scalars(stmt.limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit


# --- export sections -----------------------------------------------------------------------------------


async def verification_of(uow: Uow, account_id: int) -> Verification | None:
    return await uow.session.scalar(select(Verification).where(Verification.account_id == account_id))


async def acceptances(uow: Uow, account_id: int, limit: int) -> tuple[list[AgreementAcceptance], bool]:
    stmt = select(AgreementAcceptance).where(AgreementAcceptance.account_id == account_id)
    return await _limited(uow, stmt.order_by(AgreementAcceptance.id), limit)


async def sessions(uow: Uow, account_id: int, limit: int) -> tuple[list[AuthSession], bool]:
    stmt = select(AuthSession).where(AuthSession.account_id == account_id).order_by(AuthSession.id.desc())
    return await _limited(uow, stmt, limit)


async def appeals(uow: Uow, account_id: int, limit: int) -> tuple[list[Appeal], bool]:
    return await _limited(uow, select(Appeal).where(Appeal.account_id == account_id).order_by(Appeal.id), limit)


async def subject_changes(uow: Uow, account_id: int, limit: int) -> tuple[list[SubjectChange], bool]:
    stmt = select(SubjectChange).where(SubjectChange.account_id == account_id).order_by(SubjectChange.id)
    return await _limited(uow, stmt, limit)


async def ledger(uow: Uow, account_id: int, limit: int) -> tuple[list[BalanceEntry], bool]:
    stmt = select(BalanceEntry).where(BalanceEntry.account_id == account_id).order_by(BalanceEntry.id)
    return await _limited(uow, stmt, limit)


# --- exports -------------------------------------------------------------------------------------------


async def replace_export(uow: Uow, row: DataExport) -> None:
    """At most one export per account: the new one replaces the previous."""
    await delete_exports_of(uow, row.account_id)
    uow.session.add(row)
    await uow.session.flush()


async def live_export(uow: Uow, account_id: int, public_id: str, now: datetime) -> DataExport | None:
    return await uow.session.scalar(
        select(DataExport).where(
            DataExport.public_id == public_id, DataExport.account_id == account_id, DataExport.expires_at > now
        )
    )


async def delete_expired_exports(uow: Uow, now: datetime) -> int:
    result = await uow.session.execute(delete(DataExport).where(DataExport.expires_at <= now).returning(DataExport.id))
    return len(result.all())


async def delete_exports_of(uow: Uow, account_id: int) -> None:
    await uow.session.execute(delete(DataExport).where(DataExport.account_id == account_id))


# --- cancellation --------------------------------------------------------------------------------------


async def cancellation_of(uow: Uow, account_id: int, cancellation_id: int | None) -> Cancellation | None:
    return await uow.session.scalar(
        select(Cancellation)
        .where(Cancellation.id == cancellation_id, Cancellation.account_id == account_id)
        .execution_options(populate_existing=True)
    )


async def flow_of(uow: Uow, account_id: int) -> Cancellation | None:
    return await uow.session.scalar(select(Cancellation).where(Cancellation.account_id == account_id))


async def replace_cancellation(uow: Uow, row: Cancellation) -> None:
    """One flow per account: a new start replaces the previous."""
    await uow.session.execute(delete(Cancellation).where(Cancellation.account_id == row.account_id))
    uow.session.add(row)
    await uow.session.flush()


async def balance_fen(uow: Uow, account_id: int) -> int:
    total = await uow.session.scalar(
        select(func.coalesce(func.sum(BalanceEntry.amount_fen), 0)).where(BalanceEntry.account_id == account_id)
    )
    return int(total or 0)


async def use_up_grants(uow: Uow, account_id: int, now: datetime) -> None:
    await uow.session.execute(
        update(StepUpGrant)
        .where(StepUpGrant.account_id == account_id, StepUpGrant.consumed_at.is_(None))
        .values(consumed_at=now)
    )


async def open_change_ids(uow: Uow, account_id: int) -> list[int]:
    return list(await uow.session.scalars(select(SubjectChange.id).where(SubjectChange.open_account_id == account_id)))


async def open_appeals(uow: Uow, account_id: int, states: Sequence[str]) -> list[Appeal]:
    return list(
        await uow.session.scalars(select(Appeal).where(Appeal.account_id == account_id, Appeal.state.in_(states)))
    )


async def open_applications(uow: Uow, account_id: int, states: Sequence[str]) -> list[EnterpriseApplication]:
    return list(
        await uow.session.scalars(
            select(EnterpriseApplication).where(
                EnterpriseApplication.account_id == account_id, EnterpriseApplication.state.in_(states)
            )
        )
    )


async def expire_pending_attempts(uow: Uow, account_id: int, reason: str, now: datetime) -> None:
    await uow.session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.account_id == account_id, VerificationAttempt.outcome == "pending")
        .values(outcome="expired", reason=reason, completed_at=now)
    )
