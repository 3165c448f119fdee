"""Queries and atomic counters of real-name verification."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from models.verification import IdentityDocumentUse, Verification, VerificationAttempt, VerificationMethodUse
from services.sql import ListCount, count_list, insert
from services.uow import Uow

MAX_ACCOUNTS_PER_DOCUMENT = 5  # RN-3


async def verification_of(uow: Uow, account_id: int) -> Verification | None:
    return await uow.session.scalar(select(Verification).where(Verification.account_id == account_id))


async def document_uses(uow: Uow, document_key: str) -> int:
    value = await uow.session.scalar(
        select(IdentityDocumentUse.accounts).where(IdentityDocumentUse.document_key == document_key)
    )
    return value or 0


async def take_document_slot(uow: Uow, document_key: str) -> bool:
    """RN-3: count one more account verified by this document, atomically, never past 5."""
    await uow.session.execute(
        insert(uow, IdentityDocumentUse)
        .values(document_key=document_key, accounts=0)
        .on_conflict_do_nothing(index_elements=[IdentityDocumentUse.document_key])
    )
    result = await uow.session.execute(
        update(IdentityDocumentUse)
        .where(
            IdentityDocumentUse.document_key == document_key,
            IdentityDocumentUse.accounts < MAX_ACCOUNTS_PER_DOCUMENT,
        )
        .values(accounts=IdentityDocumentUse.accounts + 1)
        .returning(IdentityDocumentUse.accounts)
    )
    return result.scalar_one_or_none() is not None


async def method_attempts(uow: Uow, account_id: int) -> dict[str, int]:
    rows = await uow.session.execute(
        select(VerificationMethodUse.method, VerificationMethodUse.attempts).where(
            VerificationMethodUse.account_id == account_id
        )
    )
    return {str(m): int(n) for m, n in rows.all()}


async def take_method_attempt(uow: Uow, account_id: int, method: str, limit: int) -> int | None:
    """Count one more attempt of `method`, atomically, never past `limit`; the new count, or None."""
    await uow.session.execute(
        insert(uow, VerificationMethodUse)
        .values(account_id=account_id, method=method, attempts=0)
        .on_conflict_do_nothing(index_elements=[VerificationMethodUse.account_id, VerificationMethodUse.method])
    )
    result = await uow.session.execute(
        update(VerificationMethodUse)
        .where(
            VerificationMethodUse.account_id == account_id,
            VerificationMethodUse.method == method,
            VerificationMethodUse.attempts < limit,
        )
        .values(attempts=VerificationMethodUse.attempts + 1)
        .returning(VerificationMethodUse.attempts)
    )
    return result.scalar_one_or_none()


async def give_back_method_attempt(uow: Uow, account_id: int, method: str) -> None:
    """A provider failure is not the user's: the attempt it took is returned."""
    await uow.session.execute(
        update(VerificationMethodUse)
        .where(
            VerificationMethodUse.account_id == account_id,
            VerificationMethodUse.method == method,
            VerificationMethodUse.attempts > 0,
        )
        .values(attempts=VerificationMethodUse.attempts - 1)
    )


async def attempts_page(
    uow: Uow, account_id: int, first: int, after_id: int | None
) -> tuple[list[VerificationAttempt], ListCount]:
    """The account's attempts, newest first, and how many there are: two statements, whatever the page."""
    mine = [VerificationAttempt.account_id == account_id]
    stmt = select(VerificationAttempt).where(*mine).order_by(VerificationAttempt.id.desc()).limit(first)
    if after_id is not None:
        stmt = stmt.where(VerificationAttempt.id < after_id)
    rows = list(await uow.session.scalars(stmt))
    return rows, await count_list(uow, VerificationAttempt.id, mine, after_id)


async def attempts_by_ids(uow: Uow, account_id: int, ids: list[int]) -> list[VerificationAttempt]:
    if not ids:
        return []
    rows = await uow.session.scalars(
        select(VerificationAttempt).where(VerificationAttempt.account_id == account_id, VerificationAttempt.id.in_(ids))
    )
    return list(rows)


async def attempts_since(uow: Uow, account_id: int, method: str, since: datetime) -> int:
    """Attempts of `method` the account made since `since`; provider errors do not count."""
    value = await uow.session.scalar(
        select(func.count())
        .select_from(VerificationAttempt)
        .where(
            VerificationAttempt.account_id == account_id,
            VerificationAttempt.method == method,
            VerificationAttempt.created_at >= since,
            VerificationAttempt.outcome != "error",
        )
    )
    return value or 0


# --- attempts: taking, tickets and expiry ------------------------------------------------------------


async def take_pending_attempt(uow: Uow, attempt_id: int, now: datetime, *, open_ticket: bool = False) -> bool:
    """Move a `pending` attempt to `deciding`, once (only while its ticket is open, with `open_ticket`):
    whether this caller did."""
    conditions = [VerificationAttempt.id == attempt_id, VerificationAttempt.outcome == "pending"]
    if open_ticket:
        conditions.append(VerificationAttempt.ticket_expires_at.is_not(None))
    claimed = await uow.session.execute(
        update(VerificationAttempt)
        .where(*conditions)
        .values(outcome="deciding", completed_at=now)
        .returning(VerificationAttempt.id)
    )
    return claimed.scalar_one_or_none() is not None


async def open_ticket(uow: Uow, attempt_id: int, ticket_hash: str, expires_at: datetime) -> bool:
    """Give a still `pending` attempt its face-check ticket: whether it was still pending."""
    opened = await uow.session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.id == attempt_id, VerificationAttempt.outcome == "pending")
        .values(ticket_hash=ticket_hash, ticket_expires_at=expires_at)
        .returning(VerificationAttempt.id)
    )
    return opened.scalar_one_or_none() is not None


async def void_live_tickets(uow: Uow, account_id: int, method: str, reason: str, now: datetime) -> None:
    """End the account's pending attempts of `method` that have a ticket, as expired for `reason`."""
    await uow.session.execute(
        update(VerificationAttempt)
        .where(
            VerificationAttempt.account_id == account_id,
            VerificationAttempt.method == method,
            VerificationAttempt.outcome == "pending",
            VerificationAttempt.ticket_hash.is_not(None),
        )
        .values(outcome="expired", reason=reason, completed_at=now, document_sealed=None)
    )


async def attempt_by_ticket_hash(uow: Uow, ticket_hash: str) -> VerificationAttempt | None:
    return await uow.session.scalar(select(VerificationAttempt).where(VerificationAttempt.ticket_hash == ticket_hash))


async def expire_pending(uow: Uow, attempt_id: int, reason: str, now: datetime) -> None:
    """End one attempt as expired for `reason`, if it is still pending."""
    await uow.session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.id == attempt_id, VerificationAttempt.outcome == "pending")
        .values(outcome="expired", reason=reason, completed_at=now, document_sealed=None)
    )


async def expire_run_out_tickets(uow: Uow, reason: str, now: datetime) -> int:
    """End every pending attempt whose ticket ran out, as expired for `reason`: how many."""
    expired = await uow.session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.outcome == "pending", VerificationAttempt.ticket_expires_at <= now)
        .values(outcome="expired", reason=reason, completed_at=now, document_sealed=None)
        .returning(VerificationAttempt.id)
    )
    return len(expired.all())


async def stale_pending_attempts(uow: Uow, method: str, created_before: datetime) -> list[int]:
    """The pending attempts of `method` created at or before `created_before`."""
    rows = await uow.session.scalars(
        select(VerificationAttempt.id).where(
            VerificationAttempt.outcome == "pending",
            VerificationAttempt.method == method,
            VerificationAttempt.created_at <= created_before,
        )
    )
    return list(rows)


async def verified_subject_and_type(uow: Uow, account_id: int) -> tuple[str | None, str | None]:
    """The verified subject type of the account and, for an organisation, its ORG-1 type; (None, None) if unverified."""
    row = (
        await uow.session.execute(
            select(Verification.subject_type, Verification.organisation_type).where(
                Verification.account_id == account_id, Verification.status == "verified"
            )
        )
    ).first()
    return (None, None) if row is None else (row[0], row[1])
