"""WH-1: the decisions integrators hear of are written as webhook events where they happen, with IDs,
states and reasons only: verification, review, cancellation (and the messages sent with them). And the
sandbox's built-in receiver, which seed-demo registers.

RULES: WH-1
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from models.webhooks import WebhookDelivery, WebhookEvent, WebhookSequence
from services.clock import ManualClock
from services.database import Database
from services.demo import seed
from services.review import service as review
from services.review.kinds import RejectReason
from services.webhooks import endpoints
from services.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, header
from tests.api.test_cancellation import PHONE, _confirm, _to_acknowledged
from tests.api.test_subject_changes import person, start, withdraw
from tests.api.test_verification import ID_1949, NAME, face_start, ticket_path, viewer
from tests.helpers import registered_and_signed_in
from tests.services.test_review import KIND, _seed, handler  # noqa: F401  # `handler` is a fixture used here


async def _events(db: Database, event_type: str | None = None) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with db.read_sessions() as session:
        rows = list(await session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
    return [(e.type, e.account_id, json.loads(e.data)) for e in rows if event_type in (None, e.type)]


async def test_a_personal_verification_decision_is_an_event_without_the_document_number(client, db, run) -> None:
    await run(endpoints.add, "http://127.0.0.1:9/in", None)
    token = await registered_and_signed_in(client)
    started = await face_start(client, token)
    assert (await client.post(ticket_path(started), data={"outcome": "pass"})).status_code == 200
    ((_, account_id, data),) = await _events(db, "verification.personal.decided")
    assert account_id is not None
    # The attempt's ID is the one the API shows for it
    (api_attempt,) = [e["node"] for e in (await viewer(client, token))["verificationAttempts"]["edges"]]
    assert data == {"attemptId": api_attempt["id"], "method": "face", "outcome": "passed", "reason": None}
    async with db.read_sessions() as session:
        stored = " ".join(e.data for e in await session.scalars(select(WebhookEvent)))
    assert ID_1949 not in stored
    assert NAME not in stored
    assert {t for t, _, _ in await _events(db)} >= {"message.sms", "verification.personal.decided"}


async def test_a_review_decision_is_an_event_with_its_reason_code(db, clock: ManualClock, run, handler) -> None:  # noqa: F811  # the fixture
    account_id, (lead, _) = await _seed(db, clock)
    await run(endpoints.add, "http://127.0.0.1:9/in", "review.decided")
    approved = await run(review.submit, kind=KIND, subject_id=5, account_id=account_id, queue_days=5)
    rejected = await run(review.submit, kind=KIND, subject_id=6, account_id=account_id, queue_days=5)
    for item in (approved, rejected):
        await run(review.claim, lead, item.id)
    await run(review.approve, lead, approved.id, "a note the integrator does not get")
    await run(review.reject, lead, rejected.id, RejectReason.MATERIAL_UNCLEAR, "a text the integrator does not get")
    assert await _events(db) == [
        (
            "review.decided",
            account_id,
            {"reviewItemId": approved.id, "kind": KIND, "outcome": "approved", "reason": None},
        ),
        (
            "review.decided",
            account_id,
            {
                "reviewItemId": rejected.id,
                "kind": KIND,
                "outcome": "rejected",
                "reason": RejectReason.MATERIAL_UNCLEAR.value,
            },
        ),
    ]


async def test_a_cancellation_is_an_event(client, clock: ManualClock, db, run) -> None:
    await run(endpoints.add, "http://127.0.0.1:9/in", "account.cancelled")
    token = await registered_and_signed_in(client, "leaver08", PHONE)
    cid, confirmation = await _to_acknowledged(client, token, clock)
    assert await _events(db) == []
    done = await _confirm(client, token, cid, confirmation)
    assert done["errors"] == []
    ((event_type, account_id, data),) = await _events(db)
    assert event_type == "account.cancelled"
    assert account_id is not None
    assert data == {"cancellationId": cid}  # the ID the API gave the cancellation


async def test_can_6_erasure_drops_the_message_events_to_the_accounts_phone_sent_or_not(
    client, clock: ManualClock, db, run
) -> None:
    await run(endpoints.add, "http://127.0.0.1:9/in", None)  # every event; nothing listens, so none is sent
    token = await registered_and_signed_in(client, "leaver09", PHONE)
    cid, confirmation = await _to_acknowledged(client, token, clock)
    assert {t for t, _, _ in await _events(db, "message.sms")} == {"message.sms"}  # the codes sent so far
    assert (await _confirm(client, token, cid, confirmation))["errors"] == []
    # The messages to the erased phone leave with their outbox rows: none is sent later (or fails as "gone"),
    # and no delivery or sequence counter keyed by the phone is kept; the cancellation is still reported
    assert [t for t, _, _ in await _events(db)] == ["account.cancelled"]
    async with db.read_sessions() as session:
        deliveries = list(await session.scalars(select(WebhookDelivery)))
        streams = list(await session.scalars(select(WebhookSequence.stream)))
    assert [d.stream.startswith("account:") for d in deliveries] == [True]
    assert all(stream.startswith("account:") for stream in streams)


# --- the sandbox receiver (docs/sandbox.md) ------------------------------------------------------------------


async def test_seed_demo_registers_the_sandbox_receiver_which_verifies_and_shows_deliveries(
    client, db, run, settings, clock: ManualClock
) -> None:
    lines = await run(seed)
    assert any("/sandbox/webhooks/receive" in line for line in lines)
    (endpoint,) = await run(endpoints.listed)
    assert endpoint.url == settings.base_url + endpoints.SANDBOX_RECEIVER_PATH
    assert endpoint.events == "*"
    await run(seed)  # idempotent: still one endpoint
    assert len(await run(endpoints.listed)) == 1
    secret = endpoints.secret_of_sealed(settings.secret_key, endpoint.secret_sealed)
    body = b'{"id":"evt_1","type":"account.cancelled","sequence":1,"data":{"cancellationId":1}}'
    now = int(clock.now().timestamp())
    good = await client.post(
        "/sandbox/webhooks/receive",
        content=body,
        headers={SIGNATURE_HEADER: header(secret, now, body), EVENT_ID_HEADER: "evt_1"},
    )
    assert good.status_code == 200
    forged = await client.post(
        "/sandbox/webhooks/receive",
        content=body,
        headers={SIGNATURE_HEADER: header("whsec_forged", now, body), EVENT_ID_HEADER: "evt_2"},
    )
    assert forged.status_code == 400
    page = (await client.get("/sandbox/webhooks")).text
    assert page.index("evt_2") < page.index("evt_1")  # newest first
    assert "NOT valid" in page
    assert "account.cancelled" in page


async def test_a_withdrawn_subject_change_is_an_event_with_the_id_the_api_shows(
    client, db, run, clock: ManualClock
) -> None:
    await run(endpoints.add, "http://127.0.0.1:9/in", "subject_change.decided")
    token = await person(client)
    change_id = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]["id"]
    assert await _events(db, "subject_change.decided") == []
    assert (await withdraw(client, token, change_id))["errors"] == []
    ((_, account_id, data),) = await _events(db, "subject_change.decided")
    assert account_id is not None
    assert data == {"subjectChangeId": change_id, "state": "withdrawn", "reason": None}
