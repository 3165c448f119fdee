"""Sessions, sign-in throttling, QR login tickets, step-up grants and recovery tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class AuthSession(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the bearer token
    method: Mapped[str] = mapped_column(String(16))  # password | sms | qr
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_sessions_account_live", "account_id", "ended_at"),)


class LoginThrottle(Base):
    """AUTH-5: consecutive wrong passwords per key (an account name or a client address)."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class QrLoginTicket(Base):
    """AUTH-2: QR login. The QR shows `code`; only the creating client holds `token`."""

    __tablename__ = "qr_login_tickets"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    confirmed_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    confirmed_at: Mapped[datetime | None]
    redeemed_at: Mapped[datetime | None]


class StepUpGrant(Base):
    """MFA-3: a short-lived, single-use grant for one sensitive operation."""

    __tablename__ = "step_up_grants"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    factor: Mapped[str] = mapped_column(String(8))  # sms | totp
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]


class RecoveryTicket(Base):
    """REC-1 / REC-2: a forgot-password or forgot-account conversation."""

    __tablename__ = "recovery_tickets"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # password_reset | account_reveal
    account_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: unknown account
    # REC-1: the canonical login name typed, so an unknown name gets the same password checks.
    login_name: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    # REC-1: the code this ticket's own start sent; None when it sent none (an unknown name, or the
    # phone's send limits), and then no code completes the ticket.
    code_id: Mapped[int | None] = mapped_column(ForeignKey("one_time_codes.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes entered on this ticket
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
