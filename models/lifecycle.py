"""The account's lifecycle: a copy of its data (issue 15 item 3) and its cancellation (CAN-1..5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class DataExport(Base):
    """A JSON copy of what the service holds about an account, for its owner only, until `expires_at`.
    At most one per account (the unique `account_id`): a new export replaces the previous one."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    public_id: Mapped[str] = mapped_column(String(48), unique=True)  # in the download URL
    content: Mapped[str] = mapped_column(Text)  # the JSON document
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Cancellation(Base):
    """CAN-4: one cancellation flow per account, through its steps in order; a new start replaces it.

    started (notes read, agreement accepted) -> prechecked (operation protection passed, pre-check run)
    -> acknowledged (forfeiture acknowledged, confirmation token issued) -> confirmed."""

    __tablename__ = "cancellations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # started | prechecked | acknowledged | confirmed
    agreement_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    prechecked_at: Mapped[datetime | None]
    precheck_passed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A digest of what the pre-check found: the second confirmation re-runs it and compares (CAN-4).
    standing_digest: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None]
    confirmation_hash: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
