"""Accounts, the per-phone registration quota, agreements and retired usernames."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "cloud" | "portal" (REG-1)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    # REG-6: the unique numeric account ID; a portal account gets it on activation.
    account_number: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    username_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # REG-2 lower-case
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164, the bound phone
    # REG-4: a portal account that its bound phone holds: SMS sign-in (and the phone as a login name)
    # with that phone reaches it. One per phone; up to 4 more portal accounts may bind the phone
    # without holding it. Always False for cloud accounts.
    phone_holder: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    idle_timeout_minutes: Mapped[int] = mapped_column(Integer, default=60)  # AUTH-3
    # MFA-3: operation protection with SMS is on for a new account.
    op_protection_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    op_protection_totp: Mapped[bool] = mapped_column(Boolean, default=False)
    login_protection_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    login_protection_totp: Mapped[bool] = mapped_column(Boolean, default=False)
    # PROF-1 basic information.
    contact_name: Mapped[str | None] = mapped_column(String(64))
    company_name: Mapped[str | None] = mapped_column(String(128))
    industry: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    # PROF-5: when a portal account last changed its username (its first choice is not a change).
    username_changed_at: Mapped[datetime | None]
    # CAN-6: when the account was cancelled; with `status` and `id` all its row keeps once its personal
    # data is erased (services/accounts/erasure.py).
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (
        # REG-4: one live portal account held by each phone (others may only bind it).
        Index(
            "uq_accounts_portal_phone_holder",
            "phone",
            unique=True,
            sqlite_where=text("kind = 'portal' AND status = 'active' AND phone_holder"),
            postgresql_where=text("kind = 'portal' AND status = 'active' AND phone_holder"),
        ),
    )


class PhoneQuota(Base):
    """REG-3: cloud accounts bound to one phone, counted with a conditional UPDATE."""

    __tablename__ = "phone_quotas"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    cloud_accounts: Mapped[int] = mapped_column(Integer, default=0)


class RetiredUsername(Base):
    """REG-2 / CAN-5: usernames of cancelled accounts, never registrable again."""

    __tablename__ = "retired_usernames"

    username_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    retired_at: Mapped[datetime]


class AgreementAcceptance(Base):
    """REG-5 / REG-6 / RN-6 / STU-3: which agreement, which version, when, in which step."""

    __tablename__ = "agreement_acceptances"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    agreement: Mapped[str] = mapped_column(String(48))
    version: Mapped[str] = mapped_column(String(32))
    context: Mapped[str] = mapped_column(String(32))  # registration | activation | student | ...
    accepted_at: Mapped[datetime]
