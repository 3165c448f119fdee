"""Appeals reviewed by staff in the 5-working-day queue (APL-1, APL-2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))  # phone_rebind | mfa_unbind
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(String(16))  # person | enterprise: which materials apply
    new_phone: Mapped[str | None] = mapped_column(String(20))  # APL-2, verified by SMS code
    state: Mapped[str] = mapped_column(String(16))  # submitted | waiting_user | approved | rejected
    review_item_id: Mapped[int | None] = mapped_column(ForeignKey("review_items.id"))
    reject_reason: Mapped[str | None] = mapped_column(String(48))
    reject_text: Mapped[str | None] = mapped_column(Text)
    more_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_appeals_account", "account_id", "id"),)


class AppealDocument(Base):
    """Which uploaded document serves as which material of an appeal (the latest per role counts)."""

    __tablename__ = "appeal_documents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


class AppealToken(Base):
    """APL-2: the credential of a filer without a session, shown once and stored hashed.

    A draft token (from `phoneRebindAppealStart`, `appeal_id` null) uploads materials and files one
    phone-rebind appeal until `expires_at`; once the appeal is filed (or when an appeal is filed with a
    login challenge) the token reads that appeal and answers its requests for material, until 30 days
    after the decision. It reads nothing else of the account."""

    __tablename__ = "appeal_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    new_phone: Mapped[str | None] = mapped_column(String(20))  # a draft's new phone, proven by its code
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    uploads: Mapped[int] = mapped_column(Integer, default=0)  # documents uploaded with it (capped)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # a draft's deadline to file; a filed appeal's token lives by its decision
