"""Subject changes (CHG-1..7): an account's verified subject replaced by another while the account, its
resources and its history stay; one row per change, with what it changes from and to, its steps'
material and deadlines, and the attempts counted inside it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class SubjectChange(Base):
    """One change of the account's verified subject, from its start to its outcome (CHG-7: never deleted).

    `open_account_id` equals `account_id` while the change is open and is null once it has ended: its
    unique constraint is what keeps an account at one open change, whatever the engine and however many
    starts race (a partial unique index would need different SQL on SQLite and PostgreSQL)."""

    __tablename__ = "subject_changes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    open_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # name | enterprise | person_to_enterprise | person_to_person
    state: Mapped[str] = mapped_column(String(24))  # services/verification/changes/states.py
    reason: Mapped[str | None] = mapped_column(String(48))  # why it ended otherwise than completed
    ended_step: Mapped[str | None] = mapped_column(String(24))  # the open state it was in when it ended
    # What it changes from: the verified subject when the change started (shown masked, as the API shows it).
    from_subject_type: Mapped[str] = mapped_column(String(16))
    from_name: Mapped[str] = mapped_column(String(128))
    from_document_type: Mapped[str] = mapped_column(String(40))
    from_document_masked: Mapped[str] = mapped_column(String(40))
    from_organisation_type: Mapped[str | None] = mapped_column(String(48))
    from_method: Mapped[str] = mapped_column(String(24))
    from_attempt_id: Mapped[int | None] = mapped_column(BigIntPK)  # an attempt ID (no FK: a cycle)
    # What it changes to, once known: a new name (CHG-2), the new enterprise named in the request (CHG-3),
    # then the subject the new verification proved (`to_attempt_id`, CHG-3..5).
    to_subject_type: Mapped[str | None] = mapped_column(String(16))
    to_name: Mapped[str | None] = mapped_column(String(128))
    to_uscc: Mapped[str | None] = mapped_column(String(18))
    to_organisation_type: Mapped[str | None] = mapped_column(String(48))
    to_legal_rep_name: Mapped[str | None] = mapped_column(String(64))
    to_attempt_id: Mapped[int | None] = mapped_column(BigIntPK)  # an attempt ID (no FK: a cycle)
    # CHG-2: the new business licence and the supplementary material (registry change certificate or change
    # application form) when the automatic check fails.
    licence_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    supplement_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    # registry_change_certificate | change_application_form (services/verification/changes/name.py)
    supplement_kind: Mapped[str | None] = mapped_column(String(32))
    # CHG-3: the stated reason, the original subject's contact and their face check, the generated change
    # application form (its printed reference) and the copy stamped by both subjects.
    change_reason: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_document_masked: Mapped[str | None] = mapped_column(String(40))
    contact_document_sealed: Mapped[str | None] = mapped_column(Text)  # for the contact's face check (secretbox)
    contact_attempt_id: Mapped[int | None] = mapped_column(BigIntPK)  # an attempt ID (no FK: a cycle)
    form_reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    stamped_form_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    # CHG-4, CHG-5: how and when the current person proved it is them.
    identity_method: Mapped[str | None] = mapped_column(String(24))
    identity_attempt_id: Mapped[int | None] = mapped_column(BigIntPK)  # an attempt ID (no FK: a cycle)
    identity_proved_at: Mapped[datetime | None]
    # The two change agreements with the versions accepted (CHG-2..5).
    application_version: Mapped[str] = mapped_column(String(32))
    acceptance_version: Mapped[str | None] = mapped_column(String(32))
    acceptance_accepted_at: Mapped[datetime | None]
    # Manual review (CHG-2, CHG-3: the 2-working-day queue, REV-4).
    review_item_id: Mapped[int | None] = mapped_column(ForeignKey("review_items.id"))
    more_message: Mapped[str | None] = mapped_column(Text)
    review_reason: Mapped[str | None] = mapped_column(String(48))
    reject_text: Mapped[str | None] = mapped_column(Text)
    # When the current step runs out (CHG-3: 9 days after approval; CHG-5: 1 day after the start until the
    # new person's verification is submitted); read as ended after it, and the sweeper ends it.
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]  # completed, rejected, withdrawn or lapsed

    __table_args__ = (
        Index("ix_subject_changes_account", "account_id", "id"),
        Index("ix_subject_changes_completed", "account_id", "completed_at"),
        Index("ix_subject_changes_state_expiry", "state", "expires_at"),
    )


class SubjectChangeAttempt(Base):
    """Attempts per change and method (CHG-4: 5 per enterprise method; CHG-5: 5 bank-card identity checks),
    counted with one conditional upsert (`services.sql.take_counted_slot`)."""

    __tablename__ = "subject_change_attempts"

    change_id: Mapped[int] = mapped_column(ForeignKey("subject_changes.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SubjectChangeDocument(Base):
    """Material the user sent when a reviewer asked for more (REV-4), any kind of change: each upload once,
    in the order sent (`role` says what it answered)."""

    __tablename__ = "subject_change_documents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("subject_changes.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # ADDITIONAL_MATERIAL
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
