"""CODE-4: the notifier interface and the outbox implementation.

Every SMS and e-mail is written to the `outbox` table in the same transaction as the change that
caused it, so a refused request leaves no message behind. In the sandbox nothing else happens;
a real gateway relays from the same table (transactional outbox) behind the same interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from models.codes import OutboxMessage

if TYPE_CHECKING:
    from services.uow import Uow


class Notifier(Protocol):
    async def send(self, uow: Uow, *, channel: str, destination: str, purpose: str, text: str) -> None: ...


class OutboxNotifier:
    async def send(self, uow: Uow, *, channel: str, destination: str, purpose: str, text: str) -> None:
        uow.session.add(
            OutboxMessage(channel=channel, destination=destination, purpose=purpose, text=text, created_at=uow.now())
        )
        await uow.session.flush()
