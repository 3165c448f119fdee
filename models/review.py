"""Back-office review: reviewers, review items and their append-only audit trail (REV-1..6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class Reviewer(Base):
    """REV-6: staff who review; a table of their own, never an account holder."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # reviewer | lead
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str] = mapped_column(String(255))  # encrypted at rest (services/secretbox.py)
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)  # a TOTP code is accepted once
    created_at: Mapped[datetime]


class ReviewerSession(Base):
    """REV-6: server-side back-office sessions, in an HttpOnly cookie; separate from account sessions."""

    __tablename__ = "reviewer_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # the synchronizer token of this session's forms
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ReviewItem(Base):
    """One thing a reviewer must decide, in the 2- or 5-working-day queue (REV-1)."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)  # the appeal, verification or change it is about
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    queue_days: Mapped[int] = mapped_column(Integer)  # 2 | 5
    state: Mapped[str] = mapped_column(String(16))  # pending | claimed | waiting_user | approved | rejected | withdrawn
    submitted_at: Mapped[datetime]
    due_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]  # REV-4: waiting for the user since
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    claimed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        # REV-2: each queue sorted by due time (keyset pagination on (due_at, id)); the state filter
        # is applied while walking the index, so a page reads about a page of rows.
        Index("ix_review_items_queue", "queue_days", "due_at", "id"),
    )


class ReviewAuditEntry(Base):
    """REV-5: who did what to which item, when and why. Never updated or deleted (a trigger refuses)."""

    __tablename__ = "review_audit"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="RESTRICT"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    action: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(48))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
