"""One-time codes (CODE-1..3) and the notifier outbox (CODE-4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class OneTimeCode(Base):
    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    destination: Mapped[str] = mapped_column(String(254))
    purpose: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256, never the code
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_one_time_codes_lookup", "destination", "purpose", "created_at"),
        # Per-account caps on codes to arbitrary destinations (BANK_CARD).
        Index("ix_one_time_codes_account", "account_id", "purpose", "created_at"),
    )


class CodeSendWindow(Base):
    """CODE-3: the last send per destination and purpose (60 s gap)."""

    __tablename__ = "code_send_windows"

    destination: Mapped[str] = mapped_column(String(254), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_sent_at: Mapped[datetime]


class CodeDailyCount(Base):
    """CODE-3: sends per Asia/Shanghai day, destination and budget (a class of purposes: public, login,
    reset, recovery, signed_in, owner). The day leads the key so the sweeper drops past days by range."""

    __tablename__ = "code_daily_budgets"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    destination: Mapped[str] = mapped_column(String(254), primary_key=True)
    budget: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CodeNetworkCount(Base):
    """CODE-3: sends per Asia/Shanghai day, destination and budget on behalf of one client network (the
    part of a destination's login or reset budget one network may spend). The network is kept only as a
    keyed hash (of the IPv4 address or the IPv6 /64). The day leads the key, as in `CodeDailyCount`."""

    __tablename__ = "code_network_budgets"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    destination: Mapped[str] = mapped_column(String(254), primary_key=True)
    budget: Mapped[str] = mapped_column(String(16), primary_key=True)
    network: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CodeAddressCount(Base):
    """Codes sent on behalf of one client address per clock hour and per Asia/Shanghai day. The address
    is kept only as a keyed hash (of the IPv4 address or the IPv6 /64)."""

    __tablename__ = "code_address_counts"

    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    span: Mapped[str] = mapped_column(String(8), primary_key=True)  # hour | day
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """CODE-4: every SMS and email the notifier 'sends'. A code message records when its code expires;
    after that the sweeper masks the code in `text` and clears the time, keeping the row as a delivery
    record until the retention period ends."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(8))
    destination: Mapped[str] = mapped_column(String(254))
    purpose: Mapped[str] = mapped_column(String(48))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    secret_expires_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_destination_id", "destination", "id"),
        Index("ix_outbox_secret_expires_at", "secret_expires_at"),
        Index("ix_outbox_created_at", "created_at"),
    )
