"""All SQL of the sandbox outbox (docs/sandbox.md, Notifier): reading it, masking expired codes and
pruning old messages (new messages are written by `services/notify/notifier.py: OutboxNotifier`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from models.codes import OutboxMessage
from services.uow import Uow


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    channel: str
    destination: str
    purpose: str
    text: str
    created_at: datetime


async def latest(uow: Uow, destination: str, limit: int) -> list[OutboxEntry]:
    """The newest `limit` messages to `destination` (normalized), newest first."""
    rows = await uow.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.destination,
            OutboxMessage.purpose,
            OutboxMessage.text,
            OutboxMessage.created_at,
        )
        .where(OutboxMessage.destination == destination)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [OutboxEntry(*row) for row in rows.all()]


async def expired_secrets(uow: Uow, now: datetime, limit: int) -> list[tuple[int, str]]:
    """CODE-4: (id, text) of the messages whose code has expired by `now`, oldest expiry first, at most
    `limit`."""
    rows = await uow.session.execute(
        select(OutboxMessage.id, OutboxMessage.text)
        .where(OutboxMessage.secret_expires_at <= now)
        .order_by(OutboxMessage.secret_expires_at, OutboxMessage.id)
        .limit(limit)
    )
    return [(id_, text) for id_, text in rows.all()]


async def redact(uow: Uow, texts: dict[int, str]) -> None:
    """CODE-4: give each message (by ID) its masked text and clear its expiry: one bulk UPDATE by key."""
    if texts:
        await uow.session.execute(
            update(OutboxMessage),
            [{"id": id_, "text": text, "secret_expires_at": None} for id_, text in texts.items()],
        )


async def delete_older_than(uow: Uow, cutoff: datetime, limit: int) -> int:
    """Delete at most `limit` messages created before `cutoff`, oldest first: how many."""
    oldest = select(OutboxMessage.id).where(OutboxMessage.created_at < cutoff).order_by(OutboxMessage.id)
    result = await uow.session.execute(
        delete(OutboxMessage).where(OutboxMessage.id.in_(oldest.limit(limit))).returning(OutboxMessage.id)
    )
    return len(result.all())
