"""Real-name verification (RN-1..7): the account's verified subject, every attempt, and the counters
the limits need (RN-3 per identity document, RNP-5 per account and method)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class Verification(Base):
    """The account's verified subject: at most one per account (RN-1), never deleted by the user (RN-5).

    The document number is kept three ways: a keyed hash (HMAC with SECRET_KEY) to count and match
    uses (RN-3, REC-2) without being readable, the value sealed (Fernet) for the rare lawful read,
    and a masked form for display.
    """

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # person | enterprise (RN-1)
    status: Mapped[str] = mapped_column(String(16))  # verified
    method: Mapped[str] = mapped_column(String(24))  # face | bank_card | legal_rep_face | bank_transfer | recharge
    name: Mapped[str] = mapped_column(String(128))  # the person's or the organisation's name
    document_type: Mapped[str] = mapped_column(String(40))  # an identity document type, or USCC
    document_key: Mapped[str] = mapped_column(String(64), index=True)
    document_sealed: Mapped[str] = mapped_column(Text)
    document_masked: Mapped[str] = mapped_column(String(40))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("verification_attempts.id"))
    organisation_type: Mapped[str | None] = mapped_column(String(48))  # enterprise only (ORG-1, ENT-2)
    verified_at: Mapped[datetime]


class VerificationAttempt(Base):
    """One try at verification (RN-7): its method, outcome, reason and time.

    A face attempt is `pending` while its single-use ticket (stored hashed) waits for the liveness
    provider; the others are decided at once.
    """

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(16))  # pending | passed | failed | expired | error
    reason: Mapped[str | None] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(String(64))
    document_type: Mapped[str] = mapped_column(String(40))
    document_key: Mapped[str] = mapped_column(String(64))
    # Sealed only while the attempt may still pass; cleared when it ends otherwise.
    document_sealed: Mapped[str | None] = mapped_column(Text)
    document_masked: Mapped[str] = mapped_column(String(40))
    card_masked: Mapped[str | None] = mapped_column(String(32))
    agreement_version: Mapped[str] = mapped_column(String(32))
    # Whether it uses one of the method's limited attempts (RNP-5, RNE-2, RNE-4); provider errors give it back.
    counted: Mapped[bool] = mapped_column(default=False)
    # CHG-3..5: the subject change this attempt verifies the new subject (or proves the current one) for;
    # null for an account's own verification.
    change_id: Mapped[int | None] = mapped_column(ForeignKey("subject_changes.id", ondelete="CASCADE"), index=True)
    ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_verification_attempts_account", "account_id", "id"),
        Index("ix_verification_attempts_outcome", "outcome", "ticket_expires_at"),
    )


class IdentityDocumentUse(Base):
    """RN-3: how many accounts one identity document verifies, counted with a conditional UPDATE."""

    __tablename__ = "identity_document_uses"

    document_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer, default=0)


class VerificationMethodUse(Base):
    """RNP-5 (and RNE-2/RNE-5 later): attempts per account and method, counted atomically."""

    __tablename__ = "verification_method_uses"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
