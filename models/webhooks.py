"""Signed webhooks (issue 16 item 2): endpoints, events written in the transaction of their change, and one
delivery per event and subscribed endpoint that the relay claims, sends and retries (services/webhooks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntPK


class WebhookEndpoint(Base):
    """Where events are posted. `events` is a comma-separated list of event types, or `*` for all; the
    signing secret is stored sealed with SECRET_KEY (services/secretbox.py), shown once when added."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # we_...
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[str] = mapped_column(Text, default="*")
    secret_sealed: Mapped[str] = mapped_column(Text)
    # WH-2: after `webhooks roll-secret`, the previous secret also signs until this time, so a receiver can
    # switch to the new one without refusing a delivery.
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class WebhookSequence(Base):
    """The last `sequence` given to one stream's deliveries to one endpoint (bumped with an upsert, whose row
    lock orders two transactions of one stream), so a receiver sees 1, 2, 3... and can tell a gap. A stream
    is an account (`account:<id>`), or for a message to no known account its destination's keyed hash."""

    __tablename__ = "webhook_sequences"

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    stream: Mapped[str] = mapped_column(String(80), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class WebhookEvent(Base):
    """What happened, as the receivers read it (`data`: JSON of IDs, states and reasons, masked as the API
    masks them). A message event keeps no text: its payload is built from the outbox row when it is sent."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # evt_...
    type: Mapped[str] = mapped_column(String(48))
    account_id: Mapped[int | None] = mapped_column(BigIntPK)  # no foreign key: erasure keeps the record
    outbox_id: Mapped[int | None] = mapped_column(BigIntPK)  # a message event's outbox row
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_webhook_events_created_at", "created_at"),)


class WebhookDelivery(Base):
    """One event to one endpoint: pending (due at `next_attempt_at`, claimed by a relay while `lease_until`
    is ahead), delivered or failed. Keeps the last HTTP status and a short error kind, never a response
    body or a secret. `stream` and `sequence` order the deliveries of one account to one endpoint (WH-4)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(80))
    sequence: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "stream", "state", "sequence"),
        Index("ix_webhook_deliveries_event_id", "event_id"),
        Index("ix_webhook_deliveries_finished_at", "state", "finished_at"),
    )
