"""All SQL of uploaded documents (ORG-3) and the daily upload quota (ORG-2)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from models.accounts import Account
from models.appeals import AppealToken
from models.documents import Document, DocumentBlob, DocumentDailyCount
from services.sql import take_counted_slot
from services.uow import Uow


async def take_upload_slot(uow: Uow, account_id: int, day: str, quota: int) -> int | None:
    """Count one upload against the account's day atomically; None when the quota is reached (nothing changes)."""
    return await take_counted_slot(uow, DocumentDailyCount, {"account_id": account_id, "day": day}, quota)


async def give_back_upload_slot(uow: Uow, account_id: int, day: str) -> None:
    await uow.session.execute(
        update(DocumentDailyCount)
        .where(
            DocumentDailyCount.account_id == account_id,
            DocumentDailyCount.day == day,
            DocumentDailyCount.count > 0,
        )
        .values(count=DocumentDailyCount.count - 1)
    )


async def take_token_upload_slot(uow: Uow, token_id: int, cap: int) -> int | None:
    """Count one upload against an appeal token atomically (APL-2); None at the cap (nothing changes)."""
    counted = await uow.session.execute(
        update(AppealToken)
        .where(AppealToken.id == token_id, AppealToken.uploads < cap)
        .values(uploads=AppealToken.uploads + 1)
        .returning(AppealToken.uploads)
    )
    taken: int | None = counted.scalar_one_or_none()
    return taken


async def give_back_token_upload_slot(uow: Uow, token_id: int) -> None:
    await uow.session.execute(
        update(AppealToken)
        .where(AppealToken.id == token_id, AppealToken.uploads > 0)
        .values(uploads=AppealToken.uploads - 1)
    )


async def delete_upload_counts_before(uow: Uow, day: str) -> int:
    """Drop the quota counts of days before `day`: no quota reads them any more."""
    result = await uow.session.execute(
        delete(DocumentDailyCount).where(DocumentDailyCount.day < day).returning(DocumentDailyCount.day)
    )
    return len(result.all())


async def document_by_id(uow: Uow, document_id: int, *, account_id: int) -> Document | None:
    """The account's document with this row ID (ORG-3: another account's is None; so is one uploaded with an
    appeal token, APL-2, which only that token's appeal uses)."""
    return await uow.session.scalar(
        select(Document).where(
            Document.id == document_id, Document.account_id == account_id, Document.appeal_token_id.is_(None)
        )
    )


async def documents_of_account(uow: Uow, account_id: int, document_ids: list[int]) -> list[Document]:
    if not document_ids:
        return []
    rows = await uow.session.scalars(
        select(Document).where(
            Document.account_id == account_id, Document.id.in_(document_ids), Document.appeal_token_id.is_(None)
        )
    )
    return list(rows)


async def document_by_public_id(
    uow: Uow, public_id: str, *, account_id: int | None = None, live_account: bool = False
) -> Document | None:
    """The document with this upload ID; with `account_id`, only if that account owns it (ORG-3); with
    `live_account`, only if its account is not cancelled (CAN-6)."""
    stmt = select(Document).where(Document.public_id == public_id)
    if account_id is not None:
        stmt = stmt.where(Document.account_id == account_id)
    if live_account:
        stmt = stmt.join(Account, Account.id == Document.account_id).where(Account.status != "cancelled")
    return await uow.session.scalar(stmt)


async def add_document(uow: Uow, document: Document, data: bytes) -> None:
    """The row, then its blob (ORG-3), in the caller's transaction."""
    uow.session.add(document)
    await uow.session.flush()
    await uow.session.execute(insert(DocumentBlob).values(document_id=document.id, data=data))


async def document_with_data_by_id(uow: Uow, document_id: int, *, account_id: int) -> tuple[Document, bytes] | None:
    """`document_by_id` with the document's bytes (one statement: only what serves the file loads them)."""
    found = await uow.session.execute(
        select(Document, DocumentBlob.data)
        .join(DocumentBlob, DocumentBlob.document_id == Document.id)
        .where(Document.id == document_id, Document.account_id == account_id, Document.appeal_token_id.is_(None))
    )
    row = found.one_or_none()
    return None if row is None else (row[0], row[1])


async def document_with_data_by_public_id(uow: Uow, public_id: str) -> tuple[Document, bytes] | None:
    """The document with this upload ID and its bytes, if its account is not cancelled (CAN-6)."""
    found = await uow.session.execute(
        select(Document, DocumentBlob.data)
        .join(DocumentBlob, DocumentBlob.document_id == Document.id)
        .join(Account, Account.id == Document.account_id)
        .where(Document.public_id == public_id, Account.status != "cancelled")
    )
    row = found.one_or_none()
    return None if row is None else (row[0], row[1])
