"""Reading the sandbox outbox (docs/sandbox.md, Notifier), and keeping it free of expired codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from models.codes import OutboxMessage
from services.identifiers import normalize_email, normalize_phone
from services.uow import Uow


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    channel: str
    destination: str
    purpose: str
    text: str
    created_at: datetime


def normalize_destination(raw: str) -> str:
    """Accept a phone in any usual form, or an e-mail address; otherwise the raw string."""
    return normalize_phone(raw) or normalize_email(raw) or raw.strip()


async def latest_messages(uow: Uow, destination: str, limit: int = 20) -> list[OutboxEntry]:
    dest = normalize_destination(destination)
    rows = await uow.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.destination,
            OutboxMessage.purpose,
            OutboxMessage.text,
            OutboxMessage.created_at,
        )
        .where(OutboxMessage.destination == dest)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [OutboxEntry(*row) for row in rows.all()]


# docs/sandbox.md: the code is the only 6-digit number in a code message, so masking every 6-digit number
# masks exactly the code.
SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")
MASK = "******"
# Messages masked / deleted per sweep at most, so one sweep holds the write lock briefly.
REDACT_BATCH = 500
PRUNE_BATCH = 5000


def mask_codes(text: str) -> str:
    return SIX_DIGITS.sub(MASK, text)


async def redact_expired(uow: Uow) -> int:
    """Mask the code in messages whose code has expired and clear their expiry; the row stays as the
    record of what was sent to whom and when. Live codes are untouched. Oldest first, at most
    REDACT_BATCH a call (the sweeper runs every minute)."""
    rows = await uow.session.execute(
        select(OutboxMessage.id, OutboxMessage.text)
        .where(OutboxMessage.secret_expires_at <= uow.now())
        .order_by(OutboxMessage.secret_expires_at, OutboxMessage.id)
        .limit(REDACT_BATCH)
    )
    changes = [{"id": id_, "text": mask_codes(text), "secret_expires_at": None} for id_, text in rows.all()]
    if changes:
        await uow.session.execute(update(OutboxMessage), changes)
    return len(changes)


async def prune(uow: Uow) -> int:
    """Delete messages older than the retention period (OUTBOX_RETENTION_DAYS), codes and notices alike,
    oldest first, at most PRUNE_BATCH a call."""
    cutoff = uow.now() - timedelta(days=uow.settings.outbox_retention_days)
    oldest = select(OutboxMessage.id).where(OutboxMessage.created_at < cutoff).order_by(OutboxMessage.id)
    result = await uow.session.execute(
        delete(OutboxMessage).where(OutboxMessage.id.in_(oldest.limit(PRUNE_BATCH))).returning(OutboxMessage.id)
    )
    return len(result.all())


async def sweep(uow: Uow) -> dict[str, int]:
    return {"outbox_codes_masked": await redact_expired(uow), "outbox_messages_deleted": await prune(uow)}
