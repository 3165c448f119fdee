"""A webhook receiver on loopback for the webhook tests: a real HTTP server (uvicorn in a thread) that verifies
`Account-Center-Signature` as docs/webhooks.md tells receivers to, and records what it got."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.webhooks import signing
from tests.loopback import listening_socket, port_of, serve_in_thread


@dataclass
class Received:
    event_id: str
    body: dict[str, Any]
    valid: bool
    signature: str = ""  # the Account-Center-Signature header as received
    raw: bytes = b""


@dataclass
class Receiver:
    url: str
    now: Callable[[], int]
    secret: str = ""
    status: int = 200  # what it answers
    hold: bool = False  # keep each request open until `release` (or 30 s)
    received: list[Received] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # event IDs of requests being held open
    released: threading.Event = field(default_factory=threading.Event)

    def ids(self) -> list[str]:
        return [r.event_id for r in self.received]

    def bodies(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [r.body for r in self.received if event_type is None or r.body["type"] == event_type]


@contextmanager
def receiver(now: Callable[[], int], tls: tuple[str, str] | None = None) -> Iterator[Receiver]:
    """A receiver on a free loopback port; over https with `tls` (certificate file, key file)."""
    sock = listening_socket()
    scheme = "https" if tls else "http"
    found = Receiver(url=f"{scheme}://127.0.0.1:{port_of(sock)}/hook", now=now)

    async def hook(request: Request) -> Response:
        raw = await request.body()
        event_id = request.headers.get(signing.EVENT_ID_HEADER, "")
        if found.hold:
            found.held.append(event_id)
            await asyncio.to_thread(found.released.wait, 30)
            return Response(status_code=200)
        valid = signing.verify(found.secret, request.headers.get(signing.SIGNATURE_HEADER), raw, found.now())
        signature = request.headers.get(signing.SIGNATURE_HEADER, "")
        found.received.append(Received(event_id, json.loads(raw), valid, signature, raw))
        return Response("x" * 100_000 if found.status >= 300 else "ok", status_code=found.status if valid else 400)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    config = {"ssl_certfile": tls[0], "ssl_keyfile": tls[1]} if tls else {}
    with serve_in_thread(app, sock, **config):
        yield found
        found.released.set()


def number(account_id: int) -> str:
    """The PROF-4 account ID a webhook carries for the test account with row ID `account_id`."""
    return str(1_000_000_000_000_000 + account_id)


async def emit_for(uow: Any, account_id: int, n: int) -> None:
    """A `review.decided` event of the account with row ID `account_id` (created with its PROF-4 number when
    missing), for review item `n`."""
    from models.accounts import Account
    from services.webhooks import events
    from services.webhooks.events import EventType

    if await uow.session.get(Account, account_id) is None:
        phone = f"+86139{account_id:08d}"
        uow.session.add(
            Account(
                id=account_id, kind="cloud", phone=phone, account_number=int(number(account_id)), created_at=uow.now()
            )
        )
        await uow.session.flush()
    await events.emit(uow, EventType.REVIEW_DECIDED, account_id, {"reviewItemId": n, "outcome": "approved"})
