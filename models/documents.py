"""Uploaded documents (ORG-2, ORG-3): a row each, and its bytes in a blob row of their own (in the database,
so every instance reads them; loaded only when they are served)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # what clients pass as an upload ID
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # APL-2: uploaded with an appeal token (not a session): only that token's appeal may use it, and the
    # account's sessions do not see it.
    appeal_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal_tokens.id", ondelete="CASCADE"), index=True, default=None
    )
    filename: Mapped[str] = mapped_column(String(128))  # as uploaded, for display only
    content_type: Mapped[str] = mapped_column(String(16))  # image/jpeg | image/png
    size: Mapped[int] = mapped_column(Integer)  # bytes stored (after EXIF stripping)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class DocumentBlob(Base):
    """ORG-3: a document's cleaned bytes (bytea on PostgreSQL, BLOB on SQLite), written in the document row's
    transaction (a failed commit leaves neither) and deleted with it. A table of its own, so that nothing
    reading documents loads the bytes unless it serves them."""

    __tablename__ = "document_blobs"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DocumentDailyCount(Base):
    """ORG-2: documents uploaded per account per Asia/Shanghai day (the daily upload quota).

    A slot is taken before the image is decoded and given back when the upload is refused."""

    __tablename__ = "document_daily_counts"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD in Asia/Shanghai
    count: Mapped[int] = mapped_column(Integer, default=0)
