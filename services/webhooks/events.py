"""WH-1: webhook events, written in the transaction of the change they report.

WH-1 an event is written by the same transaction as its change (a transactional outbox): a refused or
     rolled-back operation writes none. With it, one delivery per enabled endpoint subscribed to its type,
     numbered per stream (the account, or a message's destination) and endpoint (WH-4). With no endpoint
     subscribed, nothing is written. `data` holds IDs, states and reasons, masked as the API masks them:
     never a document number, a code or a value the user typed. A message event (`message.sms`,
     `message.email`) keeps no text at all: the relay builds its payload from the outbox row when it sends
     it, and a message whose code has expired by then is not sent (WH-3).
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from models.webhooks import WebhookDelivery, WebhookEvent
from services.clock import as_utc

if TYPE_CHECKING:  # services.uow imports the notifier, which writes message events through this module
    from models.codes import OutboxMessage
    from services.uow import Uow


class EventType(StrEnum):
    """docs/webhooks.md lists each with its data."""

    MESSAGE_SMS = "message.sms"
    MESSAGE_EMAIL = "message.email"
    VERIFICATION_PERSONAL_DECIDED = "verification.personal.decided"
    VERIFICATION_ENTERPRISE_DECIDED = "verification.enterprise.decided"
    SUBJECT_CHANGE_DECIDED = "subject_change.decided"
    APPEAL_DECIDED = "appeal.decided"
    REVIEW_DECIDED = "review.decided"
    ACCOUNT_CANCELLED = "account.cancelled"


ALL = "*"


def iso(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def subscribes(events: str, event_type: str) -> bool:
    return events == ALL or event_type in events.split(",")


def api_id(type_name: str, row_id: int) -> str:
    """The ID the GraphQL API shows for the object (its Relay global ID: base64 of "Type:id"), so a receiver
    matches an event to what the API returns; tests compare the two."""
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def new_public_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


async def emit(uow: Uow, event_type: EventType, account_id: int, data: dict[str, Any]) -> None:
    """WH-1: the event of a change in `account_id`, in the caller's transaction."""
    await _write(uow, event_type, account_id, f"account:{account_id}", data, None)


async def message(uow: Uow, row: OutboxMessage) -> None:
    """WH-1: the event of an outgoing message (the outbox row just flushed). Its stream is its destination
    (as a keyed hash: the destination itself is read from the outbox row when sent)."""
    event_type = EventType.MESSAGE_SMS if row.channel == "sms" else EventType.MESSAGE_EMAIL
    data = {
        "messageId": row.id,
        "channel": row.channel,
        "purpose": row.purpose,
        "expiresAt": iso(row.secret_expires_at) if row.secret_expires_at is not None else None,
    }
    await _write(uow, event_type, None, message_stream(uow, row.destination), data, row.id)


def message_stream(uow: Uow, destination: str) -> str:
    """The stream of the messages to `destination`: its keyed hash, never the destination itself."""
    return "to:" + uow.keyed(destination)[:64]


async def _write(
    uow: Uow, event_type: EventType, account_id: int | None, stream: str, data: dict[str, Any], outbox_id: int | None
) -> None:
    # Imported here: services.uow -> notifier -> this module, and the repository imports services.uow.
    from services.webhooks import repository as repo

    endpoint_ids = [id_ for id_, events in await repo.enabled_endpoints(uow) if subscribes(events, event_type)]
    if not endpoint_ids:
        return
    now = uow.now()
    event = WebhookEvent(
        public_id=new_public_id("evt_"),
        type=event_type.value,
        account_id=account_id,
        outbox_id=outbox_id,
        data=json.dumps(data, separators=(",", ":"), ensure_ascii=False),
        created_at=now,
    )
    uow.session.add(event)
    await uow.session.flush()
    for endpoint_id in endpoint_ids:
        uow.session.add(
            WebhookDelivery(
                event_id=event.id,
                endpoint_id=endpoint_id,
                stream=stream,
                sequence=await repo.next_sequence(uow, endpoint_id, stream),
                state=repo.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    await uow.session.flush()
