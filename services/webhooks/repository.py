"""All SQL of the webhooks (services/webhooks): endpoints, events and deliveries, the relay's claim."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.orm import aliased

from models.accounts import Account
from models.codes import OutboxMessage
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSequence
from services.sql import insert
from services.uow import Uow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


async def enabled_endpoints(uow: Uow) -> list[tuple[int, str]]:
    """(id, subscribed events) of every enabled endpoint."""
    rows = await uow.session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.enabled.is_(True))
    )
    return [(id_, events) for id_, events in rows.all()]


async def next_sequence(uow: Uow, endpoint_id: int, stream: str) -> int:
    """WH-4: the next sequence of `stream` to `endpoint_id` (1 for the first): one upsert, whose row lock
    makes a second transaction of the same stream wait for this one's commit."""
    stmt = insert(uow, WebhookSequence).values(endpoint_id=endpoint_id, stream=stream, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[WebhookSequence.endpoint_id, WebhookSequence.stream],
        set_={"last": WebhookSequence.last + 1},
    ).returning(WebhookSequence.last)
    return int((await uow.session.execute(stmt)).scalar_one())


async def add_endpoint(uow: Uow, endpoint: WebhookEndpoint) -> None:
    uow.session.add(endpoint)
    await uow.session.flush()


async def endpoints(uow: Uow) -> list[WebhookEndpoint]:
    return list(await uow.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


async def endpoint_by_public_id(uow: Uow, public_id: str) -> WebhookEndpoint | None:
    found = await uow.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id))
    return found.first()


async def endpoint_by_url(uow: Uow, url: str) -> WebhookEndpoint | None:
    found = await uow.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.url == url).limit(1))
    return found.first()


async def remove_endpoint(uow: Uow, public_id: str) -> bool:
    """Delete the endpoint, its deliveries and sequences (foreign keys cascade; deleted here too, as
    SQLite enforces no foreign key unless told to)."""
    found = await uow.session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.public_id == public_id))
    if found is None:
        return False
    await uow.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == found))
    await uow.session.execute(delete(WebhookSequence).where(WebhookSequence.endpoint_id == found))
    await uow.session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == found))
    return True


def _due(now: datetime) -> list[ColumnElement[bool]]:
    earlier = aliased(WebhookDelivery)
    return [
        WebhookDelivery.state == PENDING,
        WebhookDelivery.next_attempt_at <= now,
        (WebhookDelivery.lease_until.is_(None)) | (WebhookDelivery.lease_until <= now),
        # WH-4: not while an earlier delivery of the same stream to the same endpoint is pending.
        ~exists().where(
            earlier.endpoint_id == WebhookDelivery.endpoint_id,
            earlier.stream == WebhookDelivery.stream,
            earlier.state == PENDING,
            earlier.sequence < WebhookDelivery.sequence,
        ),
    ]


async def claim(uow: Uow, now: datetime, lease_until: datetime, token: str, limit: int) -> list[int]:
    """WH-5: take at most `limit` due deliveries for this relay until `lease_until`, counting an attempt
    each. PostgreSQL: the candidates are locked with FOR UPDATE SKIP LOCKED (a relay claiming at the same
    moment skips them); either engine: the UPDATE takes a row only if it is still pending and unleased,
    so two relays never hold one delivery at once."""
    candidates = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(*_due(now), WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if uow.dialect == "postgresql":
        candidates = candidates.with_for_update(of=WebhookDelivery, skip_locked=True)
    ids = list(await uow.session.scalars(candidates))
    if not ids:
        return []
    claimed = await uow.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(ids),
            WebhookDelivery.state == PENDING,
            (WebhookDelivery.lease_until.is_(None)) | (WebhookDelivery.lease_until <= now),
        )
        .values(lease_until=lease_until, lease_token=token, attempts=WebhookDelivery.attempts + 1)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars().all())


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery with what sending it needs. `text`/`destination`: the outbox row's, for a message
    event (None when the row is gone); kept in memory for the send only."""

    delivery_id: int
    attempts: int
    sequence: int
    event_public_id: str
    event_type: str
    account_number: int | None  # PROF-4's account ID; None for a message, or a portal account not yet active
    data: str
    created_at: datetime
    url: str
    secret_sealed: str
    previous_secret_sealed: str | None  # signs too until previous_secret_expires_at (a rolled secret)
    previous_secret_expires_at: datetime | None
    outbox_id: int | None
    destination: str | None
    text: str | None


async def claimed(uow: Uow, ids: Sequence[int]) -> list[Claimed]:
    rows = await uow.session.execute(
        select(
            WebhookDelivery.id,
            WebhookDelivery.attempts,
            WebhookDelivery.sequence,
            WebhookEvent.public_id,
            WebhookEvent.type,
            Account.account_number,
            WebhookEvent.data,
            WebhookEvent.created_at,
            WebhookEndpoint.url,
            WebhookEndpoint.secret_sealed,
            WebhookEndpoint.previous_secret_sealed,
            WebhookEndpoint.previous_secret_expires_at,
            WebhookEvent.outbox_id,
            OutboxMessage.destination,
            OutboxMessage.text,
        )
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == WebhookEvent.outbox_id)
        .outerjoin(Account, Account.id == WebhookEvent.account_id)
        .where(WebhookDelivery.id.in_(list(ids)))
        .order_by(WebhookDelivery.id)
    )
    return [Claimed(*tuple(row)) for row in rows.all()]


async def finish(uow: Uow, delivery_id: int, token: str, values: dict[str, object]) -> bool:
    """Record an attempt's outcome, only while this relay's lease token is still the delivery's (a relay
    whose lease ran out and was taken over records nothing): whether it did."""
    result = await uow.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease_token == token)
        .values(lease_until=None, lease_token=None, **values)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    id: int
    event_public_id: str
    event_type: str
    endpoint_public_id: str
    url: str
    attempts: int
    last_status: int | None
    last_error: str | None
    finished_at: datetime | None


async def failed(uow: Uow, limit: int) -> list[FailedDelivery]:
    rows = await uow.session.execute(
        select(
            WebhookDelivery.id,
            WebhookEvent.public_id,
            WebhookEvent.type,
            WebhookEndpoint.public_id,
            WebhookEndpoint.url,
            WebhookDelivery.attempts,
            WebhookDelivery.last_status,
            WebhookDelivery.last_error,
            WebhookDelivery.finished_at,
        )
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.state == FAILED)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return [FailedDelivery(*row) for row in rows.all()]


async def resend(uow: Uow, now: datetime, delivery_id: int | None) -> int:
    """Make failed deliveries (one, or all with None) pending and due now, their attempts counted anew."""
    conditions = [WebhookDelivery.state == FAILED]
    if delivery_id is not None:
        conditions.append(WebhookDelivery.id == delivery_id)
    result = await uow.session.execute(
        update(WebhookDelivery)
        .where(and_(*conditions))
        .values(
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            lease_token=None,
            finished_at=None,
        )
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


async def counts(uow: Uow) -> dict[str, int]:
    """Deliveries per state (pending, failed; delivered is not counted), one grouped statement."""
    rows = await uow.session.execute(
        select(WebhookDelivery.state, func.count())
        .where(WebhookDelivery.state.in_([PENDING, FAILED]))
        .group_by(WebhookDelivery.state)
    )
    found = {state: int(n) for state, n in rows.all()}
    return {PENDING: found.get(PENDING, 0), FAILED: found.get(FAILED, 0)}


async def prune(uow: Uow, cutoff: datetime, limit: int) -> tuple[int, int]:
    """Delete at most `limit` finished (delivered or failed) deliveries finished before `cutoff`, then the
    events created before `cutoff` that have no delivery left: (deliveries, events) deleted."""
    old = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.state.in_([DELIVERED, FAILED]), WebhookDelivery.finished_at < cutoff)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    deliveries = await uow.session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)).returning(WebhookDelivery.id)
    )
    orphaned = (
        select(WebhookEvent.id)
        .where(
            WebhookEvent.created_at < cutoff,
            ~exists().where(WebhookDelivery.event_id == WebhookEvent.id),
        )
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    events = await uow.session.execute(
        delete(WebhookEvent).where(WebhookEvent.id.in_(orphaned)).returning(WebhookEvent.id)
    )
    return len(deliveries.all()), len(events.all())
