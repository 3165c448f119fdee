"""Reading the sandbox outbox (SANDBOX.md, Notifier)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

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
