"""The sweeper's part of the webhooks: finished deliveries and their events go after OUTBOX_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

from services.uow import Uow
from services.webhooks import repository as repo

PRUNE_BATCH = 5000


async def sweep(uow: Uow) -> dict[str, int]:
    """Delete deliveries delivered or failed more than OUTBOX_RETENTION_DAYS ago (at most PRUNE_BATCH a
    round), then the events of that age that no delivery points at any more. Pending ones stay."""
    cutoff = uow.now() - timedelta(days=uow.settings.outbox_retention_days)
    deliveries, events = await repo.prune(uow, cutoff, PRUNE_BATCH)
    return {"webhook_deliveries_deleted": deliveries, "webhook_events_deleted": events}
