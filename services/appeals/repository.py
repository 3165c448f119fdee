"""All SQL of appeals (APL-1, APL-2): the appeals and their materials, the appeal tokens of signed-out
filers, the account's list of appeals, and the sweep of drafts never filed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, select, update

from models.appeals import Appeal, AppealDocument, AppealToken
from models.documents import Document
from models.review import ReviewItem
from services.sql import ListCount, count_list
from services.uow import Uow

OPEN = ("submitted", "waiting_user")  # the states in which an appeal is under review (one open per kind)

# --- appeals ----------------------------------------------------------------------------------------


async def get(uow: Uow, appeal_id: int) -> Appeal | None:
    return await uow.session.get(Appeal, appeal_id)


async def get_afresh(uow: Uow, appeal_id: int) -> Appeal | None:
    """The appeal row read again, so the caller sees what the database holds now."""
    return await uow.session.get(Appeal, appeal_id, populate_existing=True)


async def add(uow: Uow, appeal: Appeal) -> Appeal:
    """A new appeal, flushed so it has its ID."""
    uow.session.add(appeal)
    await uow.session.flush()
    return appeal


async def has_appeal(uow: Uow, account_id: int) -> bool:
    """Whether the account has any appeal, in any state."""
    return await uow.session.scalar(select(Appeal.id).where(Appeal.account_id == account_id)) is not None


async def open_appeal_id(uow: Uow, account_id: int, kind: str) -> int | None:
    """APL-1, APL-2: the account's appeal of `kind` still under review, if any (one at a time)."""
    return await uow.session.scalar(
        select(Appeal.id).where(Appeal.account_id == account_id, Appeal.kind == kind, Appeal.state.in_(OPEN))
    )


async def back_to_queue(uow: Uow, appeal_id: int) -> bool:
    """REV-4: a `waiting_user` appeal goes back to `submitted`, once, atomically: of two answers at once,
    the second finds it submitted (PostgreSQL re-reads the row after the first commits) and changes
    nothing. Whether this caller moved it."""
    moved = await uow.session.execute(
        update(Appeal)
        .where(Appeal.id == appeal_id, Appeal.state == "waiting_user")
        .values(state="submitted")
        .returning(Appeal.id)
    )
    return moved.scalar_one_or_none() is not None


async def decided_at(uow: Uow, appeal_id: int) -> datetime | None:
    """When the appeal was decided (approved or rejected), or None while it is not."""
    return await uow.session.scalar(select(Appeal.decided_at).where(Appeal.id == appeal_id))


async def with_item(uow: Uow, appeal_id: int) -> tuple[Appeal, ReviewItem | None] | None:
    """The appeal with its review item, or None when there is no such appeal."""
    found = (
        await uow.session.execute(
            select(Appeal, ReviewItem)
            .outerjoin(ReviewItem, ReviewItem.id == Appeal.review_item_id)
            .where(Appeal.id == appeal_id)
        )
    ).first()
    return None if found is None else (found[0], found[1])


# --- materials --------------------------------------------------------------------------------------


async def upload_for_material(uow: Uow, document_id: int, account_id: int, token_id: int | None) -> Document | None:
    """ORG-3, APL-2: the upload `document_id` if it is the account's own (no appeal token) or, with
    `token_id`, one uploaded with that appeal token; any other is as unknown as a made-up ID."""
    scope = Document.appeal_token_id.is_(None) if token_id is None else Document.appeal_token_id == token_id
    return await uow.session.scalar(
        select(Document).where(Document.id == document_id, Document.account_id == account_id, scope)
    )


def add_materials(uow: Uow, appeal_id: int, documents: dict[str, Document], now: datetime) -> None:
    """The appeal's materials, each upload under its role; written with the caller's next flush."""
    uow.session.add_all(
        [AppealDocument(appeal_id=appeal_id, role=r, document_id=d.id, created_at=now) for r, d in documents.items()]
    )


async def materials_of(uow: Uow, appeal_id: int) -> list[tuple[str, Document]]:
    """Every material sent with the appeal (at filing and in answers), in the order sent: (role, upload)."""
    rows = await uow.session.execute(
        select(AppealDocument.role, Document)
        .join(AppealDocument, AppealDocument.document_id == Document.id)
        .where(AppealDocument.appeal_id == appeal_id)
        .order_by(AppealDocument.id)
    )
    return [(role, document) for role, document in rows.all()]


# --- appeal tokens (APL-2, signed out) --------------------------------------------------------------


async def add_token(uow: Uow, token: AppealToken) -> None:
    uow.session.add(token)
    await uow.session.flush()


async def token_by_hash(uow: Uow, digest: str) -> AppealToken | None:
    """The appeal token with this hash, live or not (the caller decides)."""
    return await uow.session.scalar(select(AppealToken).where(AppealToken.token_hash == digest))


async def filed_by_token(uow: Uow, appeal_id: int) -> bool:
    """APL-2: whether the appeal was filed signed out (its token was a draft naming the new phone), not
    by the account holder."""
    found = await uow.session.scalar(
        select(AppealToken.id).where(AppealToken.appeal_id == appeal_id, AppealToken.new_phone.is_not(None))
    )
    return found is not None


async def delete_stale_drafts(uow: Uow, expired_by: datetime) -> tuple[int, int]:
    """APL-2: delete the drafts never filed that expired by `expired_by`, with the documents uploaded with
    them (their blobs cascade); (drafts deleted, documents deleted)."""
    stale = (AppealToken.appeal_id.is_(None), AppealToken.expires_at <= expired_by)
    removed = await uow.session.execute(
        delete(Document)
        .where(Document.appeal_token_id.in_(select(AppealToken.id).where(*stale)))
        .returning(Document.id)
    )
    documents = len(removed.all())
    drafts = await uow.session.execute(delete(AppealToken).where(*stale).returning(AppealToken.id))
    return len(drafts.all()), documents


# --- the account's appeals --------------------------------------------------------------------------


def _newest_first(account_id: int, limit: int, after_id: int | None) -> Select[Appeal, ReviewItem]:
    stmt = (
        select(Appeal, ReviewItem)
        .outerjoin(ReviewItem, ReviewItem.id == Appeal.review_item_id)
        .where(Appeal.account_id == account_id)
        .order_by(Appeal.id.desc())
        .limit(limit)
    )
    return stmt if after_id is None else stmt.where(Appeal.id < after_id)


async def list_for(
    uow: Uow, account_id: int, first: int, after_id: int | None
) -> list[tuple[Appeal, ReviewItem | None]]:
    """The account's appeals, newest first, with their review items: one statement."""
    return [(a, i) for a, i in (await uow.session.execute(_newest_first(account_id, first, after_id))).all()]


async def of_account(uow: Uow, account_id: int, ids: list[int]) -> list[tuple[Appeal, ReviewItem | None]]:
    """Those of `ids` that are the account's appeals, with their review items, however old: one statement."""
    if not ids:
        return []
    stmt = (
        select(Appeal, ReviewItem)
        .outerjoin(ReviewItem, ReviewItem.id == Appeal.review_item_id)
        .where(Appeal.id.in_(ids), Appeal.account_id == account_id)
    )
    return [(a, i) for a, i in (await uow.session.execute(stmt)).all()]


async def page_for(
    uow: Uow, account_id: int, first: int, after_id: int | None
) -> tuple[list[tuple[Appeal, ReviewItem | None]], ListCount]:
    """`list_for` and how many appeals the account has: two statements, whatever the page."""
    rows = await list_for(uow, account_id, first, after_id)
    return rows, await count_list(uow, Appeal.id, [Appeal.account_id == account_id], after_id)
