"""CODE-4: the notifier interface and the outbox implementation.

Every SMS and e-mail is written to the `outbox` table in the same transaction as the change that
caused it, so a refused request leaves no message behind. A real SMS or e-mail gateway gets it through
a signed webhook (`message.sms`, `message.email`: services/webhooks, docs/webhooks.md), whose event is
written in the same transaction and whose payload the relay reads from this row when it sends it.

A message that carries a secret (a one-time code) says when the secret stops mattering; after that
the sweeper masks it (`services/notify/service.py: redact_expired`), so the outbox never keeps a
usable code longer than the code lives.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from models.codes import OutboxMessage
from services.webhooks import events as webhook_events

if TYPE_CHECKING:
    from services.uow import Uow


class Notifier(Protocol):
    async def send(
        self,
        uow: Uow,
        *,
        channel: str,
        destination: str,
        purpose: str,
        text: str,
        secret_expires_at: datetime | None = None,
    ) -> None:
        """Deliver `text`. `secret_expires_at`: when the code in it expires (None: a notice, no secret)."""
        ...


class OutboxNotifier:
    async def send(
        self,
        uow: Uow,
        *,
        channel: str,
        destination: str,
        purpose: str,
        text: str,
        secret_expires_at: datetime | None = None,
    ) -> None:
        row = OutboxMessage(
            channel=channel,
            destination=destination,
            purpose=purpose,
            text=text,
            created_at=uow.now(),
            secret_expires_at=secret_expires_at,
        )
        uow.session.add(row)
        await uow.session.flush()
        # WH-1: the relay hands the message to the gateways subscribed to message.sms / message.email.
        await webhook_events.message(uow, row)
