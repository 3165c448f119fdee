"""All SQL of recovery (REC-1, REC-2): the recovery tickets and the look-up of accounts by real-name
information."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from models.accounts import Account
from models.auth import RecoveryTicket
from models.verification import Verification
from services.uow import Uow


async def add_ticket(uow: Uow, ticket: RecoveryTicket) -> None:
    uow.session.add(ticket)
    await uow.session.flush()


async def ticket_by_hash(uow: Uow, digest: str, kind: str) -> RecoveryTicket | None:
    """The recovery ticket of `kind` with this token hash, live or not (the caller decides)."""
    return await uow.session.scalar(
        select(RecoveryTicket).where(RecoveryTicket.token_hash == digest, RecoveryTicket.kind == kind)
    )


async def count_wrong_entry(uow: Uow, ticket_id: int, limit: int) -> int | None:
    """REC-1: count one more wrong code on the ticket, atomically, never past `limit` (of 60 racing wrong
    codes, `limit` are counted); the new count, or None when it had reached `limit`."""
    result = await uow.session.execute(
        update(RecoveryTicket)
        .where(RecoveryTicket.id == ticket_id, RecoveryTicket.attempts < limit)
        .values(attempts=RecoveryTicket.attempts + 1)
        .returning(RecoveryTicket.attempts)
    )
    return result.scalar_one_or_none()


async def consume_live_ticket(uow: Uow, ticket_id: int, now: datetime) -> bool:
    """REC-1: use the ticket once, atomically, if it is unused and unexpired: of two completions racing,
    one does. Whether this caller did."""
    used = await uow.session.execute(
        update(RecoveryTicket)
        .where(
            RecoveryTicket.id == ticket_id,
            RecoveryTicket.consumed_at.is_(None),
            RecoveryTicket.expires_at > now,
        )
        .values(consumed_at=now)
        .returning(RecoveryTicket.id)
    )
    return used.scalar_one_or_none() is not None


async def accounts_by_identity(uow: Uow, document_key: str, name: str) -> list[Account]:
    """REC-2: live accounts verified with the ID number of this keyed hash and this exact name, most
    recently verified first."""
    rows = await uow.session.scalars(
        select(Account)
        .join(Verification, Verification.account_id == Account.id)
        .where(Verification.document_key == document_key, Verification.name == name, Account.status == "active")
        .order_by(Verification.verified_at.desc(), Verification.id.desc())
    )
    return list(rows)
