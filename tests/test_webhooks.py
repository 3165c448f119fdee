"""Signed webhooks (issue 16 item 2; WH-1..WH-5): events written with their change, signed deliveries to a
receiver on loopback, retries with backoff by moving the clock, order per stream, leases, failed deliveries
and resend, the URL rules, metrics and retention. The relay killed mid-delivery: test_webhooks_kill.py.

RULES: WH-1, WH-2, WH-3, WH-4, WH-5
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app import create_app
from models.webhooks import WebhookDelivery, WebhookEvent
from schema.errors import ErrorCode as Code
from services.database import Database, run_write
from services.errors import ServiceError
from services.metrics import WEBHOOK_ATTEMPTS
from services.sweeper import sweep
from services.webhooks import endpoints, events, relay
from services.webhooks.events import EventType
from services.webhooks.signing import header, verify
from settings import Settings
from tests.helpers import send_code
from tests.webhook_receiver import Receiver, emit_for, number, receiver

PHONE = "+8613700000001"


@pytest.fixture
def hook(clock: Any) -> Iterator[Receiver]:
    with receiver(lambda: int(clock.now().timestamp())) as found:
        yield found


@pytest.fixture
async def endpoint(run: Any, hook: Receiver) -> endpoints.AddedEndpoint:
    added: endpoints.AddedEndpoint = await run(endpoints.add, hook.url, None)
    hook.secret = added.secret
    return added


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with relay.http_client(app.state.deps) as c:
        yield c


async def relay_round(db: Database, app: Any, http: httpx.AsyncClient) -> dict[str, int]:
    return await relay.relay_once(db, app.state.deps, http)


async def _rows(db: Database, model: Any) -> list[Any]:
    async with db.read_sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


_emit = emit_for


# --- WH-2: signed, verified by a receiver on loopback ----------------------------------------------------


async def test_a_code_message_is_delivered_signed_with_its_text_read_from_the_outbox_at_delivery(
    client, db, app, http, hook, endpoint
) -> None:
    # Given an endpoint for every event, when a registration code is sent
    assert (await send_code(client, "REGISTRATION", phone=PHONE))["errors"] == []
    # Then the event's rows hold no code (WH-1: the payload is read from the outbox row when sent)
    (event,) = await _rows(db, WebhookEvent)
    assert event.type == "message.sms"
    assert not re.search(r"\d{6}", event.data)
    # When the relay runs, the receiver gets it once, signed with the endpoint's secret
    assert await relay_round(db, app, http) == {"delivered": 1, "retried": 0, "failed": 0}
    (got,) = hook.received
    assert got.valid
    assert got.event_id == got.body["id"] == event.public_id
    assert got.body["id"].startswith("evt_")
    assert got.body["type"] == "message.sms"
    assert got.body["sequence"] == 1
    assert got.body["accountId"] is None
    assert got.body["data"]["to"] == PHONE
    assert re.search(r"\d{6}", got.body["data"]["text"])
    assert got.body["data"]["purpose"] == "REGISTRATION"
    assert got.body["data"]["expiresAt"].endswith("Z")
    (delivery,) = await _rows(db, WebhookDelivery)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    # And nothing more is sent
    assert await relay_round(db, app, http) == {"delivered": 0, "retried": 0, "failed": 0}


def test_the_signature_is_hmac_sha256_over_time_and_body_and_refuses_old_or_altered_requests() -> None:
    body, secret = b'{"id":"evt_1"}', "whsec_test"
    value = header(secret, 1_700_000_000, body)
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", value)
    assert verify(secret, value, body, 1_700_000_000 + 299)
    assert not verify(secret, value, body, 1_700_000_000 + 301)  # older than 5 minutes
    assert not verify(secret, value, body + b" ", 1_700_000_000)  # body altered
    assert not verify("whsec_other", value, body, 1_700_000_000)
    assert not verify(secret, None, body, 1_700_000_000)


async def test_an_expired_code_message_is_not_sent_but_failed_as_expired(client, db, app, http, clock, hook, endpoint):
    assert (await send_code(client, "REGISTRATION", phone=PHONE))["errors"] == []
    clock.advance(minutes=5, seconds=1)  # the SMS code's lifetime (CODE-1)
    assert await relay_round(db, app, http) == {"delivered": 0, "retried": 0, "failed": 1}
    assert hook.received == []
    (delivery,) = await _rows(db, WebhookDelivery)
    assert (delivery.state, delivery.last_error) == ("failed", "expired")


# --- WH-1: written with the change, or not at all ----------------------------------------------------------


async def test_a_refused_operation_writes_no_event(client, db, endpoint) -> None:
    refused = await send_code(client, "REGISTRATION", phone="12345")
    assert [e["code"] for e in refused["errors"]]
    assert await _rows(db, WebhookEvent) == []
    assert await _rows(db, WebhookDelivery) == []


async def test_a_rolled_back_transaction_writes_no_event(db, app, endpoint) -> None:
    async def emits_then_refuses(uow: Any) -> None:
        await _emit(uow, 7, 1)
        raise ServiceError(Code.ACCOUNT_NOT_FOUND, "refused after the event was written")

    assert isinstance(await run_write(db, app.state.deps, emits_then_refuses), ServiceError)
    assert await _rows(db, WebhookEvent) == []


async def test_no_endpoint_or_no_subscription_writes_nothing(run, db, hook) -> None:
    await run(_emit, 7, 1)
    assert await _rows(db, WebhookEvent) == []
    await run(endpoints.add, hook.url, "message.sms,account.cancelled")
    await run(_emit, 7, 2)  # review.decided: not subscribed
    assert await _rows(db, WebhookEvent) == []


async def test_events_are_written_for_each_subscribed_endpoint_with_its_own_sequence(run, db, hook) -> None:
    first = await run(endpoints.add, hook.url, None)
    await run(_emit, 7, 1)
    second = await run(endpoints.add, hook.url.replace("/hook", "/other"), "review.decided")
    await run(_emit, 7, 2)
    deliveries = await _rows(db, WebhookDelivery)
    by_endpoint = [(d.endpoint_id, d.sequence) for d in deliveries]
    assert len({first.public_id, second.public_id}) == 2
    assert by_endpoint == [(1, 1), (1, 2), (2, 1)]


# --- WH-3: retries with backoff, then failed; the CLI's failed list and resend ------------------------------


async def test_a_failing_receiver_is_retried_with_exponential_backoff_then_the_delivery_fails(
    settings, clock, db, hook, run
) -> None:
    app = create_app(dataclasses.replace(settings, webhook_max_attempts=3), clock=clock, db=db)
    hook.secret = (await run_write(db, app.state.deps, endpoints.add, hook.url, None)).secret
    await run_write(db, app.state.deps, _emit, 7, 1)
    hook.status = 500
    async with relay.http_client(app.state.deps) as http:
        assert await relay_round(db, app, http) == {"delivered": 0, "retried": 1, "failed": 0}
        (delivery,) = await _rows(db, WebhookDelivery)
        wait = delivery.next_attempt_at - clock.now()
        assert timedelta(seconds=10) <= wait <= timedelta(seconds=12.5)  # 10 s, up to a quarter more
        assert (delivery.last_status, delivery.last_error, delivery.lease_until) == (500, "status", None)
        # Not before the backoff has passed
        clock.advance(seconds=9)
        assert await relay_round(db, app, http) == {"delivered": 0, "retried": 0, "failed": 0}
        clock.advance(seconds=4)
        assert await relay_round(db, app, http) == {"delivered": 0, "retried": 1, "failed": 0}
        (delivery,) = await _rows(db, WebhookDelivery)
        assert timedelta(seconds=20) <= delivery.next_attempt_at - clock.now() <= timedelta(seconds=25)
        clock.advance(seconds=26)
        assert await relay_round(db, app, http) == {"delivered": 0, "retried": 0, "failed": 1}
        (delivery,) = await _rows(db, WebhookDelivery)
        assert (delivery.state, delivery.attempts) == ("failed", 3)
        assert len(hook.received) == 3
        assert len({r.body["id"] for r in hook.received}) == 1
        # The failed list shows it; resend makes it pending again, and it is delivered
        (failed,) = await run_write(db, app.state.deps, endpoints.failed)
        assert (failed.id, failed.attempts, failed.last_status) == (delivery.id, 3, 500)
        assert await run_write(db, app.state.deps, endpoints.resend, 999) == 0
        assert await run_write(db, app.state.deps, endpoints.resend, delivery.id) == 1
        hook.status = 200
        assert await relay_round(db, app, http) == {"delivered": 1, "retried": 0, "failed": 0}
        assert await run_write(db, app.state.deps, endpoints.failed) == []


def test_backoff_doubles_with_jitter_and_is_capped_at_six_hours() -> None:
    assert relay.backoff(1, 0.0) == timedelta(seconds=10)
    assert relay.backoff(2, 0.0) == timedelta(seconds=20)
    assert relay.backoff(3, 1.0) == timedelta(seconds=50)  # 40 s and a quarter
    assert relay.backoff(12, 0.5) == timedelta(hours=6)
    assert relay.backoff(40, 0.0) == timedelta(hours=6)


async def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(db, app, http, hook, endpoint, run) -> None:
    hook.status = 307
    await run(_emit, 7, 1)
    assert await relay_round(db, app, http) == {"delivered": 0, "retried": 1, "failed": 0}
    (delivery,) = await _rows(db, WebhookDelivery)
    assert (delivery.last_status, delivery.last_error) == (307, "status")


async def test_an_unreachable_endpoint_is_retried(db, app, http, run) -> None:
    await run(endpoints.add, "http://127.0.0.1:9/nothing", None)  # the discard port: nothing listens
    await run(_emit, 7, 1)
    assert await relay_round(db, app, http) == {"delivered": 0, "retried": 1, "failed": 0}
    (delivery,) = await _rows(db, WebhookDelivery)
    assert (delivery.state, delivery.last_error, delivery.last_status) == ("pending", "connection", None)


# --- WH-4: in order per account and endpoint ----------------------------------------------------------------


async def test_deliveries_of_one_account_go_in_order_and_wait_for_an_earlier_pending_one(
    db, app, http, clock, hook, endpoint, run
) -> None:
    for n in (1, 2, 3):
        await run(_emit, 7, n)
    await run(_emit, 8, 1)  # another account: not held up by account 7
    hook.status = 500
    assert await relay_round(db, app, http) == {"delivered": 0, "retried": 2, "failed": 0}
    assert sorted((b["accountId"], b["sequence"]) for b in hook.bodies()) == [(number(7), 1), (number(8), 1)]
    hook.status = 200
    hook.received.clear()
    clock.advance(seconds=13)
    for _ in range(4):
        await relay_round(db, app, http)
    # Account 7's events arrive one after another, in their order
    assert [b["data"]["reviewItemId"] for b in hook.bodies() if b["accountId"] == number(7)] == [1, 2, 3]
    assert [b["sequence"] for b in hook.bodies() if b["accountId"] == number(7)] == [1, 2, 3]


async def test_a_final_failure_does_not_hold_the_account_up_and_leaves_a_sequence_gap(
    settings, clock, db, hook, run
) -> None:
    app = create_app(dataclasses.replace(settings, webhook_max_attempts=1), clock=clock, db=db)
    hook.secret = (await run_write(db, app.state.deps, endpoints.add, hook.url, None)).secret
    await run_write(db, app.state.deps, _emit, 7, 1)
    await run_write(db, app.state.deps, _emit, 7, 2)
    hook.status = 500
    async with relay.http_client(app.state.deps) as http:
        assert await relay_round(db, app, http) == {"delivered": 0, "retried": 0, "failed": 1}
        hook.status = 200
        hook.received.clear()
        assert await relay_round(db, app, http) == {"delivered": 1, "retried": 0, "failed": 0}
    assert [b["sequence"] for b in hook.bodies()] == [2]  # the receiver sees that 1 is missing


# --- WH-5: leases; two relays at once send each delivery once ----------------------------------------------


async def test_two_relays_at_once_send_each_delivery_once(db, app, hook, endpoint, run) -> None:
    for account in range(1, 31):
        await run(_emit, account, 1)
    async with relay.http_client(app.state.deps) as a, relay.http_client(app.state.deps) as b:
        rounds = await asyncio.gather(*(relay_round(db, app, c) for c in (a, b, a, b)))
    assert sum(r["delivered"] for r in rounds) == 30
    assert len(hook.ids()) == 30
    assert len(set(hook.ids())) == 30


async def test_a_leased_delivery_is_not_claimed_again_until_its_lease_ends(db, app, clock, endpoint, run) -> None:
    await run(_emit, 7, 1)
    first = await run(relay._claim, "a" * 32)
    assert len(first) == 1
    assert await run(relay._claim, "b" * 32) == []  # the lease is live
    clock.advance(relay.lease_length(app.state.deps) + timedelta(seconds=1))
    (again,) = await run(relay._claim, "c" * 32)  # the first relay died: another takes it over
    assert again.delivery_id == first[0].delivery_id
    assert again.attempts == 2
    # The first relay's late outcome is not recorded under a lease it no longer holds
    late = await run(relay._record, "a" * 32, [(first[0], relay.Outcome(True, status=200))])
    assert late == {"delivered": 0, "retried": 0, "failed": 0}
    (delivery,) = await _rows(db, WebhookDelivery)
    assert (delivery.state, delivery.lease_token) == ("pending", "c" * 32)


# --- endpoints: URL rules, list, remove -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "production", "allowed"),
    [
        ("https://hooks.example.com/in", True, True),
        ("http://hooks.example.com/in", True, False),
        ("http://127.0.0.1:8000/in", True, False),
        ("http://127.0.0.1:8000/in", False, True),
        ("http://[::1]:8000/in", False, True),
        ("http://localhost/in", False, True),
        ("http://hooks.example.com/in", False, False),
        ("https://user:pw@hooks.example.com/in", False, False),
        ("ftp://hooks.example.com/in", False, False),
        ("/relative", False, False),
    ],
)
def test_endpoint_urls_are_https_and_http_only_to_loopback_outside_production(url, production, allowed) -> None:
    if allowed:
        assert endpoints.check_url(url, production=production) == url
    else:
        with pytest.raises(endpoints.EndpointRefused):
            endpoints.check_url(url, production=production)


def test_unknown_event_types_are_refused() -> None:
    assert endpoints.parse_events(None) == "*"
    assert endpoints.parse_events("message.sms, account.cancelled") == "message.sms,account.cancelled"
    with pytest.raises(endpoints.EndpointRefused, match="unknown event type"):
        endpoints.parse_events("message.fax")


async def test_the_secret_is_stored_sealed_and_removing_an_endpoint_removes_its_deliveries(db, run, endpoint) -> None:
    async with db.read_sessions() as session:
        stored = (await session.execute(text("SELECT secret_sealed FROM webhook_endpoints"))).scalar_one()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret not in stored
    await run(_emit, 7, 1)
    assert await run(endpoints.remove, endpoint.public_id)
    assert await _rows(db, WebhookDelivery) == []
    assert not await run(endpoints.remove, endpoint.public_id)


# --- metrics and retention ----------------------------------------------------------------------------------------


async def test_metrics_show_pending_and_failed_deliveries_and_attempts_by_outcome(
    settings, clock, db, http, hook, endpoint, run, app
) -> None:
    before = WEBHOOK_ATTEMPTS.labels("retried", "status")._value.get()
    await run(_emit, 7, 1)
    hook.status = 500
    await relay_round(db, app, http)
    scraped = create_app(
        dataclasses.replace(settings, metrics_allowed_networks=("203.0.113.0/24",)), clock=clock, db=db
    )
    transport = httpx.ASGITransport(app=scraped, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        body = (await c.get("/metrics")).text
    assert "account_center_webhook_deliveries_pending 1.0" in body
    assert "account_center_webhook_deliveries_failed 0.0" in body
    assert WEBHOOK_ATTEMPTS.labels("retried", "status")._value.get() == before + 1
    assert 'account_center_webhook_delivery_attempts_total{error="status",outcome="retried"}' in body


async def test_the_sweeper_prunes_finished_deliveries_and_their_events_after_the_retention(
    db, app, http, clock, hook, endpoint, run, settings
) -> None:
    await run(_emit, 7, 1)
    await run(_emit, 8, 1)
    hook.status = 500
    await relay_round(db, app, http)  # both pending now
    hook.status = 200
    clock.advance(seconds=13)
    async with db.write_sessions() as session:  # one of them to be delivered, the other left pending
        await session.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = :far WHERE id = 2"),
            {"far": clock.now() + timedelta(days=60)},
        )
        await session.commit()
    await relay_round(db, app, http)
    clock.advance(days=settings.outbox_retention_days, seconds=1)
    counts = await run(sweep)
    assert (counts["webhook_deliveries_deleted"], counts["webhook_events_deleted"]) == (1, 1)
    assert [d.id for d in await _rows(db, WebhookDelivery)] == [2]


async def test_event_data_is_json_of_ids_states_and_reasons(db, run, endpoint) -> None:
    await run(
        events.emit,
        EventType.APPEAL_DECIDED,
        7,
        {"appealId": 3, "kind": "mfa_unbind", "outcome": "approved", "reason": None},
    )
    (event,) = await _rows(db, WebhookEvent)
    assert json.loads(event.data) == {"appealId": 3, "kind": "mfa_unbind", "outcome": "approved", "reason": None}
    async with db.read_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_RELAY_INTERVAL_SECONDS", "-1"),
        ("WEBHOOK_TIMEOUT_SECONDS", "0"),
        ("WEBHOOK_TIMEOUT_SECONDS", "61"),
        ("WEBHOOK_MAX_ATTEMPTS", "0"),
        ("WEBHOOK_MAX_ATTEMPTS", "31"),
    ],
)
def test_webhook_settings_out_of_range_are_refused(name, value) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_webhook_settings_are_read_from_the_environment() -> None:
    read = Settings.from_env(
        {"WEBHOOK_RELAY_INTERVAL_SECONDS": "0", "WEBHOOK_TIMEOUT_SECONDS": "2.5", "WEBHOOK_MAX_ATTEMPTS": "3"}
    )
    assert (read.webhook_relay_interval_seconds, read.webhook_timeout_seconds, read.webhook_max_attempts) == (0, 2.5, 3)
    defaults = Settings.from_env({})
    assert (defaults.webhook_relay_interval_seconds, defaults.webhook_timeout_seconds) == (1.0, 10.0)
    assert defaults.webhook_max_attempts == 12


async def test_a_receiver_that_does_not_answer_in_time_is_a_timeout_and_retried(settings, clock, db, hook, run) -> None:
    app = create_app(dataclasses.replace(settings, webhook_timeout_seconds=0.5), clock=clock, db=db)
    hook.secret = (await run_write(db, app.state.deps, endpoints.add, hook.url, None)).secret
    await run_write(db, app.state.deps, _emit, 7, 1)
    hook.hold = True  # the receiver keeps the request open (released when the test ends)
    async with relay.http_client(app.state.deps) as http:
        assert await relay_round(db, app, http) == {"delivered": 0, "retried": 1, "failed": 0}
    (delivery,) = await _rows(db, WebhookDelivery)
    assert (delivery.state, delivery.last_error, delivery.last_status) == ("pending", "timeout", None)


async def test_wh_5_failing_rounds_back_off_and_log_one_traceback(app, db, monkeypatch, caplog) -> None:
    outcomes: list[Any] = [RuntimeError("database away")] * 4 + [{"delivered": 0}]
    pauses: list[float] = []

    async def round_(*_: Any) -> dict[str, int]:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return dict(outcome)

    async def pause(seconds: float) -> None:  # the relay's waits, recorded instead of slept
        pauses.append(seconds)
        if not outcomes:
            raise asyncio.CancelledError

    monkeypatch.setattr(relay, "relay_once", round_)
    monkeypatch.setattr(relay.asyncio, "sleep", pause)
    with caplog.at_level("INFO", logger=relay.__name__), pytest.raises(asyncio.CancelledError):
        await relay.relay_forever(db, app.state.deps, 1.0)
    # Each failed round doubles the pause; the round that works brings back the interval
    assert pauses == [2.0, 4.0, 8.0, 16.0, 1.0]
    assert relay.failure_pause(1.0, 40) == relay.MAX_FAILURE_PAUSE_S
    records = [r for r in caplog.records if r.name == relay.__name__]
    assert [r.exc_info is not None for r in records] == [True, False, False, False, False]
    assert records[-1].getMessage() == "webhook relay recovered after 4 failed rounds"


async def test_wh_2_a_rolled_secret_signs_beside_the_new_one_until_its_overlap_ends(
    db, app, http, clock, hook, endpoint, run
) -> None:
    old = endpoint.secret
    new = await run(endpoints.roll_secret, endpoint.public_id, timedelta(hours=24))
    assert new.startswith("whsec_")
    assert new != old
    # During the overlap a delivery carries two signatures: a receiver with either secret verifies it
    await run(_emit, 7, 1)
    hook.secret = new
    assert (await relay_round(db, app, http))["delivered"] == 1
    (first,) = hook.received
    assert first.valid
    assert first.signature.count("v1=") == 2
    assert verify(old, first.signature, first.raw, int(clock.now().timestamp()))
    # After it, only the new secret signs
    clock.advance(hours=24, seconds=1)
    await run(_emit, 7, 2)
    assert (await relay_round(db, app, http))["delivered"] == 1
    second = hook.received[-1]
    assert second.valid
    assert second.signature.count("v1=") == 1
    assert not verify(old, second.signature, second.raw, int(clock.now().timestamp()))


async def test_wh_2_rolling_without_overlap_stops_the_old_secret_at_once_and_an_unknown_endpoint_is_none(
    db, app, http, clock, hook, endpoint, run
) -> None:
    old = endpoint.secret
    hook.secret = await run(endpoints.roll_secret, endpoint.public_id, timedelta(0))
    await run(_emit, 7, 1)
    assert (await relay_round(db, app, http))["delivered"] == 1
    (got,) = hook.received
    assert got.valid
    assert not verify(old, got.signature, got.raw, int(clock.now().timestamp()))
    assert await run(endpoints.roll_secret, "we_unknown", timedelta(hours=1)) is None
    with pytest.raises(endpoints.EndpointRefused):
        await run(endpoints.roll_secret, endpoint.public_id, timedelta(days=8))
