"""CODE-4: the notifier interface and the outbox implementation.

Every SMS and e-mail is written to the `outbox` table in the same transaction as the change that
caused it, so a refused request leaves no message behind. In the sandbox nothing else happens;
a real gateway relays from the same table (transactional outbox) behind the same interface.

A message that carries a secret (a one-time code) says when the secret stops mattering; after that
the sweeper masks it (`services/notify/service.py: redact_expired`), so the outbox never keeps a
usable code longer than the code lives.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from models.codes import OutboxMessage

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
        uow.session.add(
            OutboxMessage(
                channel=channel,
                destination=destination,
                purpose=purpose,
                text=text,
                created_at=uow.now(),
                secret_expires_at=secret_expires_at,
            )
        )
        await uow.session.flush()
