"""Enterprise real-name verification (RNE-1..9): one application per attempt, its money movements,
the dedicated remittance accounts and the balance ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class EnterpriseApplication(Base):
    """An organisation's verification by one method, with the state its steps move through.

    Its `VerificationAttempt` (same id space, `attempt_id`) is the line in the account's history
    (RN-7); this row carries what the method needs.
    """

    __tablename__ = "enterprise_applications"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("verification_attempts.id"), unique=True)
    method: Mapped[str] = mapped_column(String(24))  # legal_rep_face | bank_transfer | recharge (RNE-1)
    # face_pending | payout_pending | amount_pending | in_review | waiting_user | remittance_pending
    # | verified | failed | rejected | expired
    state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(48))
    organisation_name: Mapped[str] = mapped_column(String(128))
    uscc: Mapped[str] = mapped_column(String(18))
    organisation_type: Mapped[str] = mapped_column(String(48))
    legal_rep_name: Mapped[str] = mapped_column(String(64))
    # Who does the face check: legal_rep | employee (RNE-3) | handler (RNE-4); their ID number is on the attempt.
    face_by: Mapped[str | None] = mapped_column(String(16))
    authorisation_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    # ORG-4: the image of the licence or registration certificate named for the type (ORG-1); null only on
    # applications started before it was required.
    certificate_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    bank_name: Mapped[str | None] = mapped_column(String(64))
    account_number: Mapped[str | None] = mapped_column(String(40))
    amount_fen: Mapped[int | None] = mapped_column(Integer)  # RNE-4 payout / RNE-8 expected remittance
    amount_deadline: Mapped[datetime | None]  # RNE-4: 8 days after the payout arrived; RNE-8: 3 days
    # RNE-4: when the payout arrives (arrived) in the corporate account, as the bank answered; null before.
    payout_arrives_at: Mapped[datetime | None]
    # When the current step runs out (face ticket, payout, amount, remittance): read as expired after it,
    # and the sweeper ends it.
    step_expires_at: Mapped[datetime | None]
    wrong_amount_entries: Mapped[int] = mapped_column(Integer, default=0)  # RNE-5
    risk_hit: Mapped[bool] = mapped_column(default=False)  # RNE-7
    remittance_account_id: Mapped[int | None] = mapped_column(ForeignKey("remittance_accounts.id"))
    review_item_id: Mapped[int | None] = mapped_column(ForeignKey("review_items.id"))
    # CHG-3, CHG-4: the subject change whose new enterprise this application verifies; null otherwise.
    change_id: Mapped[int | None] = mapped_column(ForeignKey("subject_changes.id", ondelete="CASCADE"), index=True)
    more_message: Mapped[str | None] = mapped_column(Text)
    review_reason: Mapped[str | None] = mapped_column(String(48))  # REV-4: the reviewer's reason from the list
    reject_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_enterprise_applications_account", "account_id", "id"),
        Index("ix_enterprise_applications_state_step", "state", "step_expires_at"),
    )


class BankPayout(Base):
    """A payout to a corporate account (RNE-4), one per verification: the service writes it with its
    reference before it asks the bank to pay (`requested`), so a crash or a time-out is resolved by looking
    the reference up, never by paying again; then `paid` (sent, arriving at `arrives_at`), `refused`, or
    `not_found` (the bank never made it). The paid ones are what the organisation's bank statement shows."""

    __tablename__ = "bank_payouts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise_applications.id", ondelete="CASCADE"), unique=True
    )
    bank_name: Mapped[str] = mapped_column(String(64))
    account_name: Mapped[str] = mapped_column(String(128))
    account_number: Mapped[str] = mapped_column(String(40), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # requested | paid | refused | not_found
    requested_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]  # when the bank sent it
    arrives_at: Mapped[datetime | None]  # when it is credited to the account (RNE-4: 0-2 days after)

    __table_args__ = (Index("ix_bank_payouts_status", "status", "requested_at"),)


class RemittanceAccount(Base):
    """RNE-8: the account's dedicated account number to pay into, created once after an SMS code."""

    __tablename__ = "remittance_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime]


class BalanceEntry(Base):
    """The account balance as a ledger in fen (RNE-8: a remittance is credited whatever its outcome)."""

    __tablename__ = "balance_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))  # remittance
    payer_name: Mapped[str | None] = mapped_column(String(128))
    payer_account: Mapped[str | None] = mapped_column(String(40))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise_applications.id"))
    note: Mapped[str | None] = mapped_column(String(64))  # matched | name_mismatch | amount_mismatch | late | ...
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_balance_entries_account", "account_id", "id"),)
