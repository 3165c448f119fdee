"""The security history: one row per security-relevant event of an account (services/history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class SecurityEvent(Base):
    """An event as it happened: what, when, from which client, and a short non-secret detail (a sign-in
    method, an outcome). Never a password, code, token or any value the user typed."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # newest first per account (the connection; the new-device look-up filters it by kind and client)
        Index("ix_security_events_account_id", "account_id", "id"),
        Index("ix_security_events_account_kind", "account_id", "kind", "id"),
    )
