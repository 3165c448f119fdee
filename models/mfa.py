"""Second factors (MFA-1..6, AUTH-6): the virtual MFA device, recovery codes and login challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class MfaDevice(Base):
    """A virtual MFA device (TOTP, RFC 6238): at most one per account (MFA-4).

    `pending` while the user proves it with two consecutive codes, then `bound`. The seed is stored
    sealed (Fernet, key from SECRET_KEY); `last_step` is the last accepted time step, compared and set
    in one conditional UPDATE so a code is accepted once (MFA-5).
    """

    __tablename__ = "mfa_devices"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | bound
    secret_sealed: Mapped[str] = mapped_column(String(255))
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    bound_at: Mapped[datetime | None]


class MfaRecoveryCode(Base):
    """Ten single-use codes shown once at binding, stored as keyed hashes; each passes as a second factor."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_mfa_recovery_codes_account", "account_id", "code_hash"),)


class LoginChallenge(Base):
    """AUTH-6: a correct password with login protection on yields this, not a session, until a second
    factor passes. Short-lived, bound to the client that gave the password, limited tries."""

    __tablename__ = "login_challenges"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    client_key: Mapped[str] = mapped_column(String(64))  # keyed hash of the client address and agent
    password_hash_seen: Mapped[str] = mapped_column(String(255))  # the password must not change meanwhile
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
