"""`account-center webhooks add|list|remove|roll-secret|failed|resend` (issue 16 item 2; docs/webhooks.md).

RULES: WH-2, WH-3
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text

import cli
from models.webhooks import WebhookDelivery, WebhookEndpoint
from services.webhooks import events
from services.webhooks.events import EventType

PRODUCTION_KEY = "k" * 40


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, settings: Any) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("SANDBOX", "true")
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    return monkeypatch


async def account_center(*argv: str) -> int:
    return await asyncio.to_thread(cli.main, list(argv))  # the command runs its own event loop


async def _endpoints(db: Any) -> list[WebhookEndpoint]:
    async with db.read_sessions() as session:
        return list(await session.scalars(select(WebhookEndpoint)))


async def test_production_refuses_an_http_endpoint_and_stores_nothing(env, db, capsys) -> None:
    env.setenv("ENVIRONMENT", "production")
    env.setenv("SANDBOX", "false")
    env.setenv("SECRET_KEY", PRODUCTION_KEY)
    assert await account_center("webhooks", "add", "--url", "http://hooks.example.com/in") == 1
    assert "must use https" in capsys.readouterr().err
    assert await _endpoints(db) == []
    # An https URL is added: its ID and its secret, printed once
    assert (
        await account_center(
            "webhooks", "add", "--url", "https://hooks.example.com/in", "--events", "account.cancelled"
        )
        == 0
    )
    out = capsys.readouterr().out
    (endpoint,) = await _endpoints(db)
    assert endpoint.public_id in out
    assert endpoint.events == "account.cancelled"
    assert "whsec_" in out
    assert "whsec_" not in endpoint.secret_sealed


async def test_add_list_and_remove(env, db, capsys) -> None:
    assert await account_center("webhooks", "add", "--url", "http://127.0.0.1:9/in") == 0
    (endpoint,) = await _endpoints(db)
    capsys.readouterr()
    assert await account_center("webhooks", "list") == 0
    listed = capsys.readouterr().out
    assert endpoint.public_id in listed
    assert "http://127.0.0.1:9/in" in listed
    assert "whsec_" not in listed
    assert await account_center("webhooks", "add", "--url", "http://127.0.0.1:9/in", "--events", "message.fax") == 1
    assert "unknown event type" in capsys.readouterr().err
    assert await account_center("webhooks", "remove", endpoint.public_id) == 0
    assert await _endpoints(db) == []
    assert await account_center("webhooks", "remove", endpoint.public_id) == 1


async def test_failed_lists_failed_deliveries_and_resend_makes_them_pending(env, db, run, capsys) -> None:
    assert await account_center("webhooks", "add", "--url", "http://127.0.0.1:9/in") == 0
    await run(events.emit, EventType.ACCOUNT_CANCELLED, 7, {"cancellationId": 1})
    await run(events.emit, EventType.ACCOUNT_CANCELLED, 8, {"cancellationId": 2})
    async with db.write_sessions() as session:
        await session.execute(
            text("UPDATE webhook_deliveries SET state = 'failed', attempts = 12, last_error = 'timeout'")
        )
        await session.commit()
    capsys.readouterr()
    assert await account_center("webhooks", "failed") == 0
    out = capsys.readouterr()
    assert len(out.out.strip().splitlines()) == 2
    assert "account.cancelled" in out.out
    assert "error=timeout" in out.out
    assert "2 failed deliveries" in out.err
    assert await account_center("webhooks", "resend", "999") == 1
    assert await account_center("webhooks", "resend") == 2  # neither an ID nor --all-failed
    assert await account_center("webhooks", "resend", "1") == 0
    assert await account_center("webhooks", "resend", "--all-failed") == 0
    assert "1 deliveries will be sent again" in capsys.readouterr().out
    async with db.read_sessions() as session:
        rows = list(await session.scalars(select(WebhookDelivery)))
    assert [(d.state, d.attempts) for d in rows] == [("pending", 0), ("pending", 0)]


async def test_roll_secret_prints_a_new_secret_once_and_keeps_the_old_one_signing_for_the_overlap(
    env, db, capsys
) -> None:
    assert await account_center("webhooks", "add", "--url", "http://127.0.0.1:9/in") == 0
    (before,) = await _endpoints(db)
    capsys.readouterr()
    assert await account_center("webhooks", "roll-secret", before.public_id, "--keep-old-hours", "48") == 0
    out = capsys.readouterr().out
    assert "whsec_" in out
    assert "48 hours" in out
    (after,) = await _endpoints(db)
    assert after.previous_secret_sealed == before.secret_sealed
    assert after.secret_sealed != before.secret_sealed
    assert after.previous_secret_expires_at is not None
    # Refused: an overlap over a week, an unknown endpoint; neither changes anything
    assert await account_center("webhooks", "roll-secret", before.public_id, "--keep-old-hours", "169") == 2
    assert "between 0 and 168 hours" in capsys.readouterr().err
    assert await account_center("webhooks", "roll-secret", "we_unknown") == 1
    assert "no endpoint we_unknown" in capsys.readouterr().err
    (unchanged,) = await _endpoints(db)
    assert unchanged.secret_sealed == after.secret_sealed
