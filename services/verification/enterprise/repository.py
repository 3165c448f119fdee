"""Queries and conditional updates of enterprise verification: applications, payouts, remittance accounts
and the balance. The rules (which states, which limits) are the callers'; each write here is one atomic
statement whose row count says whether this caller won."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update

from models.documents import Document
from models.enterprise import BalanceEntry, BankPayout, EnterpriseApplication, RemittanceAccount
from models.review import ReviewItem
from services.sql import ListCount, count_list
from services.uow import Uow

ApplicationRow = tuple[EnterpriseApplication, ReviewItem | None, RemittanceAccount | None]

# --- applications ------------------------------------------------------------------------------


async def account_of(uow: Uow, application_id: int) -> int | None:
    return await uow.session.scalar(
        select(EnterpriseApplication.account_id).where(EnterpriseApplication.id == application_id)
    )


async def move_state(
    uow: Uow, application_id: int, from_states: Collection[str], to: str, values: dict[str, object]
) -> bool:
    """Move the application to `to` with `values`, only while it is in one of `from_states`: whether it moved."""
    moved = await uow.session.execute(
        update(EnterpriseApplication)
        .where(EnterpriseApplication.id == application_id, EnterpriseApplication.state.in_(from_states))
        .values(state=to, **values)
        .returning(EnterpriseApplication.id)
    )
    return moved.scalar_one_or_none() is not None


async def overdue(
    uow: Uow, states: Collection[str], now: datetime, account_id: int | None
) -> list[tuple[int, str, int | None]]:
    """The applications in `states` whose step ran out (of one account, or all): ID, state and amount."""
    stmt = select(EnterpriseApplication.id, EnterpriseApplication.state, EnterpriseApplication.amount_fen).where(
        EnterpriseApplication.state.in_(states), EnterpriseApplication.step_expires_at <= now
    )
    if account_id is not None:
        stmt = stmt.where(EnterpriseApplication.account_id == account_id)
    return [(i, s, a) for i, s, a in (await uow.session.execute(stmt)).all()]


async def ids_in_state(uow: Uow, account_id: int, state: str) -> list[int]:
    rows = await uow.session.scalars(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.account_id == account_id, EnterpriseApplication.state == state
        )
    )
    return list(rows)


async def first_in_states(uow: Uow, account_id: int, states: Collection[str]) -> int | None:
    return await uow.session.scalar(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.account_id == account_id, EnterpriseApplication.state.in_(states)
        )
    )


async def running_in_states(uow: Uow, account_id: int, states: Collection[str], now: datetime) -> bool:
    """Whether an application of the account is in one of `states` with its step not run out."""
    found = await uow.session.scalar(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.account_id == account_id,
            EnterpriseApplication.state.in_(states),
            (EnterpriseApplication.step_expires_at.is_(None)) | (EnterpriseApplication.step_expires_at > now),
        )
    )
    return found is not None


async def application_id_of_attempt(uow: Uow, attempt_id: int) -> int | None:
    return await uow.session.scalar(
        select(EnterpriseApplication.id).where(EnterpriseApplication.attempt_id == attempt_id)
    )


async def applications_page(
    uow: Uow, account_id: int, first: int, after_id: int | None
) -> tuple[list[ApplicationRow], ListCount]:
    """The account's enterprise verifications, newest first, and how many there are: two statements."""
    mine = [EnterpriseApplication.account_id == account_id]
    stmt = (
        select(EnterpriseApplication, ReviewItem, RemittanceAccount)
        .outerjoin(ReviewItem, ReviewItem.id == EnterpriseApplication.review_item_id)
        .outerjoin(RemittanceAccount, RemittanceAccount.id == EnterpriseApplication.remittance_account_id)
        .where(*mine)
        .order_by(EnterpriseApplication.id.desc())
        .limit(first)
    )
    if after_id is not None:
        stmt = stmt.where(EnterpriseApplication.id < after_id)
    rows: list[ApplicationRow] = [(a, i, r) for a, i, r in (await uow.session.execute(stmt)).all()]
    return rows, await count_list(uow, EnterpriseApplication.id, mine, after_id)


async def _application_row(uow: Uow, *where: ColumnElement[bool]) -> ApplicationRow | None:
    row = (
        await uow.session.execute(
            select(EnterpriseApplication, ReviewItem, RemittanceAccount)
            .outerjoin(ReviewItem, ReviewItem.id == EnterpriseApplication.review_item_id)
            .outerjoin(RemittanceAccount, RemittanceAccount.id == EnterpriseApplication.remittance_account_id)
            .where(*where)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def applications_of_account(uow: Uow, account_id: int, ids: list[int]) -> list[ApplicationRow]:
    """Those of `ids` that are the account's enterprise verifications, with their review and remittance
    account, however old: one statement."""
    if not ids:
        return []
    stmt = (
        select(EnterpriseApplication, ReviewItem, RemittanceAccount)
        .outerjoin(ReviewItem, ReviewItem.id == EnterpriseApplication.review_item_id)
        .outerjoin(RemittanceAccount, RemittanceAccount.id == EnterpriseApplication.remittance_account_id)
        .where(EnterpriseApplication.id.in_(ids), EnterpriseApplication.account_id == account_id)
    )
    return [(a, i, r) for a, i, r in (await uow.session.execute(stmt)).all()]


async def application_of_attempt(uow: Uow, attempt_id: int) -> ApplicationRow | None:
    return await _application_row(uow, EnterpriseApplication.attempt_id == attempt_id)


async def application_of_account(uow: Uow, account_id: int, application_id: int) -> ApplicationRow | None:
    """One of the account's enterprise verifications with its review and remittance account (one statement)."""
    return await _application_row(
        uow, EnterpriseApplication.id == application_id, EnterpriseApplication.account_id == account_id
    )


async def count_wrong_amount(uow: Uow, application_id: int, state: str, limit: int) -> int | None:
    """Count one more wrong amount while the application is in `state`, never past `limit`: the new count."""
    counted = await uow.session.execute(
        update(EnterpriseApplication)
        .where(
            EnterpriseApplication.id == application_id,
            EnterpriseApplication.state == state,
            EnterpriseApplication.wrong_amount_entries < limit,
        )
        .values(wrong_amount_entries=EnterpriseApplication.wrong_amount_entries + 1)
        .returning(EnterpriseApplication.wrong_amount_entries)
    )
    return counted.scalar_one_or_none()


async def documents_by_id(uow: Uow, ids: list[int]) -> dict[int, Document]:
    if not ids:
        return {}
    return {d.id: d for d in await uow.session.scalars(select(Document).where(Document.id.in_(ids)))}


# --- payouts (RNE-4) -------------------------------------------------------------------------------


async def take_payout_step(uow: Uow, application_id: int, state: str, now: datetime) -> bool:
    """Clear the step's expiry of an application in `state` whose step has not run out: whether this caller did."""
    claimed = await uow.session.execute(
        update(EnterpriseApplication)
        .where(
            EnterpriseApplication.id == application_id,
            EnterpriseApplication.state == state,
            EnterpriseApplication.step_expires_at > now,
        )
        .values(step_expires_at=None)
        .returning(EnterpriseApplication.id)
    )
    return claimed.scalar_one_or_none() is not None


async def requested_payout(uow: Uow, application_id: int) -> BankPayout | None:
    return await uow.session.scalar(
        select(BankPayout).where(BankPayout.application_id == application_id, BankPayout.status == "requested")
    )


async def unresolved_payouts(uow: Uow, limit: int) -> list[int]:
    """The applications whose payout's outcome is unknown, oldest request first."""
    rows = await uow.session.scalars(
        select(BankPayout.application_id)
        .where(BankPayout.status == "requested")
        .order_by(BankPayout.requested_at)
        .limit(limit)
    )
    return list(rows)


async def close_payout(uow: Uow, application_id: int, status: str, values: dict[str, object]) -> BankPayout | None:
    """Record the bank's answer on the requested payout, once: the payout, or None when it was not requested."""
    moved = await uow.session.execute(
        update(BankPayout)
        .where(BankPayout.application_id == application_id, BankPayout.status == "requested")
        .values(status=status, **values)
        .returning(BankPayout.id)
    )
    payout_id = moved.scalar_one_or_none()
    return None if payout_id is None else await uow.session.get(BankPayout, payout_id, populate_existing=True)


async def payouts_to(uow: Uow, account_number: str) -> list[BankPayout]:
    """What the service paid into a corporate account, newest first (the sandbox bank statement)."""
    rows = await uow.session.scalars(
        select(BankPayout)
        .where(BankPayout.account_number == account_number, BankPayout.status == "paid")
        .order_by(BankPayout.id.desc())
        .limit(100)
    )
    return list(rows)


# --- remittance and the balance (RNE-8) ------------------------------------------------------------


async def remittance_account_of(uow: Uow, account_id: int) -> RemittanceAccount | None:
    return await uow.session.scalar(select(RemittanceAccount).where(RemittanceAccount.account_id == account_id))


async def remittance_account_numbered(uow: Uow, number: str) -> RemittanceAccount | None:
    return await uow.session.scalar(select(RemittanceAccount).where(RemittanceAccount.number == number))


async def latest_application_paid_into(
    uow: Uow, remittance_account_id: int, method: str
) -> EnterpriseApplication | None:
    return await uow.session.scalar(
        select(EnterpriseApplication)
        .where(
            EnterpriseApplication.remittance_account_id == remittance_account_id, EnterpriseApplication.method == method
        )
        .order_by(EnterpriseApplication.id.desc())
        .limit(1)
    )


async def balance_fen(uow: Uow, account_id: int) -> int:
    value = await uow.session.scalar(
        select(func.coalesce(func.sum(BalanceEntry.amount_fen), 0)).where(BalanceEntry.account_id == account_id)
    )
    return int(value or 0)
