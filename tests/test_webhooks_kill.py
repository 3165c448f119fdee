"""WH-5: the relay killed mid-delivery loses nothing. `account-center webhooks relay` runs as its own process,
the receiver on loopback holds its requests open, the relay is killed with SIGKILL while they are in flight,
and another relay (after the lease has run out: the clock moved past it) sends every event: each arrives at
least once, none is lost, and nothing is sent twice beyond the deliveries that were in flight.

RULES: WH-5
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from models.webhooks import WebhookDelivery
from services.webhooks import endpoints, relay
from tests.webhook_receiver import emit_for, number, receiver

ROOT = Path(__file__).resolve().parents[1]


_emit = emit_for


def _wait_for(condition: Any, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, f"the relay exited before {what}"
        time.sleep(0.05)  # waits for the relay process, not for the test clock
    raise AssertionError(f"timed out waiting until {what}")


async def test_killing_the_relay_mid_delivery_loses_no_event(settings, clock, db, app, run) -> None:
    # The relay process signs with the wall clock: the test clock starts there too.
    clock.set(datetime.now(UTC))
    with receiver(lambda: int(clock.now().timestamp())) as hook:
        hook.secret = (await run(endpoints.add, hook.url, None)).secret
        for n in (1, 2, 3):
            await run(_emit, 7, n)  # one account: in order, one at a time
        for account in (8, 9):
            await run(_emit, account, 1)
        hook.hold = True  # the receiver keeps every request open
        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "ENVIRONMENT": "test",
            "SANDBOX": "true",
            "SECRET_KEY": settings.secret_key,  # opens the endpoint's sealed secret
            "WEBHOOK_RELAY_INTERVAL_SECONDS": "0.1",
            "WEBHOOK_TIMEOUT_SECONDS": "30",
            "SWEEP_INTERVAL_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
        # A fixed argument list (this project's own command); blocking the test's loop is harmless, the
        # receiver serves from its own thread.
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "cli", "webhooks", "relay"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # When the relay has the first delivery of each account in flight (3 requests held open)
            _wait_for(lambda: len(hook.held) == 3, process, "three deliveries were in flight")
            in_flight = list(hook.held)
            # Then it is killed, without a chance to record anything
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        hook.hold = False
        hook.released.set()
        async with db.read_sessions() as session:
            rows = list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        # The claimed deliveries are still pending, leased to the dead relay
        assert [d.state for d in rows] == ["pending"] * 5
        assert sum(d.lease_until is not None for d in rows) == 3
        # Another relay finds nothing while the lease lives...
        async with relay.http_client(app.state.deps) as http:
            assert (await relay.relay_once(db, app.state.deps, http))["delivered"] == 0
            # ...and sends everything once the lease has run out
            clock.advance(minutes=5)  # well past the lease (30 s time-out + LEASE_MARGIN from the claim)
            for _ in range(5):
                await relay.relay_once(db, app.state.deps, http)
        async with db.read_sessions() as session:
            rows = list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        assert [d.state for d in rows] == ["delivered"] * 5
        # Every event arrived (at least once counting the requests cut off), signed, account 7's in order
        assert all(r.valid for r in hook.received)
        assert len(hook.ids()) == 5
        assert len(set(hook.ids())) == 5
        assert len(set(in_flight)) == 3
        assert set(in_flight) <= set(hook.ids())
        assert [b["sequence"] for b in hook.bodies() if b["accountId"] == number(7)] == [1, 2, 3]
