"""Reading the sandbox outbox (docs/sandbox.md, Notifier), and keeping it free of expired codes."""

from __future__ import annotations

import re
from datetime import timedelta

from services.identifiers import normalize_email, normalize_phone
from services.notify import repository as repo
from services.notify.repository import OutboxEntry
from services.uow import Uow


def normalize_destination(raw: str) -> str:
    """Accept a phone in any usual form, or an e-mail address; otherwise the raw string."""
    return normalize_phone(raw) or normalize_email(raw) or raw.strip()


async def latest_messages(uow: Uow, destination: str, limit: int = 20) -> list[OutboxEntry]:
    return await repo.latest(uow, normalize_destination(destination), limit)


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
    masked = {id_: mask_codes(text) for id_, text in await repo.expired_secrets(uow, uow.now(), REDACT_BATCH)}
    await repo.redact(uow, masked)
    return len(masked)


async def prune(uow: Uow) -> int:
    """Delete messages older than the retention period (OUTBOX_RETENTION_DAYS), codes and notices alike,
    oldest first, at most PRUNE_BATCH a call."""
    cutoff = uow.now() - timedelta(days=uow.settings.outbox_retention_days)
    return await repo.delete_older_than(uow, cutoff, PRUNE_BATCH)


async def sweep(uow: Uow) -> dict[str, int]:
    return {"outbox_codes_masked": await redact_expired(uow), "outbox_messages_deleted": await prune(uow)}
