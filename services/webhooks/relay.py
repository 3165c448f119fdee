"""The relay: claims due webhook deliveries, signs and posts them, records each outcome (WH-2..WH-5).

WH-2 every request is signed (services/webhooks/signing.py) with the endpoint's secret over the time and
     the raw body; `Account-Center-Event-Id` carries the event's ID. The request never follows a redirect
     and reads at most MAX_RESPONSE_BYTES of the answer, which is never stored or logged.
WH-3 a 2xx answer delivers; anything else (another status, a time-out after WEBHOOK_TIMEOUT_SECONDS, a
     refused connection) is retried with exponential backoff and jitter (BASE_DELAY doubling per attempt,
     up to a quarter longer, capped at MAX_DELAY) until WEBHOOK_MAX_ATTEMPTS attempts, then the delivery
     is `failed` (`account-center webhooks failed` lists them, `resend` tries them again). A message whose
     code has expired is not sent (failed, `expired`); neither is one whose outbox row is gone (`gone`).
WH-4 in order per stream (an account; a message's destination) and endpoint: a delivery is not sent while
     an earlier one of its stream to the same endpoint is pending. A final failure does not hold the
     stream up: later deliveries go on, and the gap in `sequence` tells the receiver.
WH-5 at least once, never lost: a relay claims a delivery with a lease (WEBHOOK_TIMEOUT_SECONDS +
     LEASE_MARGIN); while the lease lives no other relay takes it, and a relay that dies mid-delivery
     leaves it pending, so another relay sends it again once the lease has run out. An outcome is recorded
     only under the claim's own lease token. Receivers deduplicate by event ID.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import certifi
import httpx

from services import metrics, secretbox
from services.clock import as_utc
from services.database import Database, run_write
from services.uow import Deps, Uow
from services.webhooks import repository as repo
from services.webhooks.events import iso
from services.webhooks.repository import Claimed
from services.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, header
from settings import Settings

log = logging.getLogger(__name__)

BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=6)
LEASE_MARGIN = timedelta(seconds=30)
BATCH = 20
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "account-center-webhooks/1"


def backoff(attempts: int, jitter: float | None = None) -> timedelta:
    """WH-3: the wait after the `attempts`-th failed attempt: BASE_DELAY * 2^(attempts-1), up to a quarter
    longer at random (so retries of many deliveries spread out), never more than MAX_DELAY."""
    base: timedelta = BASE_DELAY * (2 ** min(max(attempts - 1, 0), 20))
    spread = random.random() if jitter is None else jitter  # noqa: S311  # spreading retries, not a secret
    delay: timedelta = base * (1 + spread / 4)
    return min(MAX_DELAY, delay)


def lease_length(deps: Deps) -> timedelta:
    return timedelta(seconds=deps.settings.webhook_timeout_seconds) + LEASE_MARGIN


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    status: int | None = None
    error: str | None = None  # status | timeout | connection | expired | gone | secret
    final: bool = False  # no retry whatever the attempts (expired, gone)


async def _claim(uow: Uow, token: str) -> list[Claimed]:
    now = uow.now()
    ids = await repo.claim(uow, now, now + lease_length(uow.deps), token, BATCH)
    return await repo.claimed(uow, ids) if ids else []


def body_of(claim: Claimed, now: datetime) -> bytes | Outcome:
    """The request body, or the outcome that stops it being sent (WH-3: an expired code, a pruned row)."""
    data: dict[str, Any] = json.loads(claim.data)
    if claim.outbox_id is not None:
        if claim.text is None or claim.destination is None:
            return Outcome(False, error="gone", final=True)
        expires = data.get("expiresAt")
        if expires is not None and datetime.fromisoformat(expires.replace("Z", "+00:00")) <= now:
            return Outcome(False, error="expired", final=True)
        data = {**data, "to": claim.destination, "text": claim.text}
    payload = {
        "id": claim.event_public_id,
        "type": claim.event_type,
        "createdAt": iso(claim.created_at),
        # The account ID the API shows (PROF-4: 16 digits, as a string), never the internal row ID.
        "accountId": None if claim.account_number is None else str(claim.account_number),
        "sequence": claim.sequence,
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def post(client: httpx.AsyncClient, deps: Deps, claim: Claimed) -> Outcome:
    """Send one claimed delivery: the outcome. Logs say which delivery and what happened, never a secret,
    a body or a message's text."""
    now = deps.clock.now()
    body = body_of(claim, now)
    if isinstance(body, Outcome):
        return body
    try:
        secret = secretbox.open_sealed(deps.settings.secret_key, claim.secret_sealed)
        previous = (
            [secretbox.open_sealed(deps.settings.secret_key, claim.previous_secret_sealed)]
            if claim.previous_secret_sealed is not None
            and claim.previous_secret_expires_at is not None
            and as_utc(claim.previous_secret_expires_at) > now
            else []
        )
    except Exception:  # sealed with another SECRET_KEY: retrying will not help until it is added again
        return Outcome(False, error="secret", final=True)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        EVENT_ID_HEADER: claim.event_public_id,
        SIGNATURE_HEADER: header(secret, int(now.timestamp()), body, *previous),
    }
    try:
        # The whole exchange within WEBHOOK_TIMEOUT_SECONDS (httpx's own time-outs are per read or write).
        async with asyncio.timeout(deps.settings.webhook_timeout_seconds):
            async with client.stream("POST", claim.url, content=body, headers=headers) as response:
                read = 0
                async for chunk in response.aiter_raw():  # at most a few KiB, then the connection is dropped
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES:
                        break
                status = response.status_code
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(False, error="timeout")
    except httpx.HTTPError:
        return Outcome(False, error="connection")
    except Exception as exc:  # anything else (a URL httpx cannot use, ...): an attempt that failed, not a lost round
        log.warning("webhook delivery %s could not be sent: %s", claim.delivery_id, type(exc).__name__)
        return Outcome(False, error="connection")
    if 200 <= status < 300:
        return Outcome(True, status=status)
    return Outcome(False, status=status, error="status")


async def _record(uow: Uow, token: str, results: Sequence[tuple[Claimed, Outcome]]) -> dict[str, int]:
    now, max_attempts = uow.now(), uow.settings.webhook_max_attempts
    counted = {"delivered": 0, "retried": 0, "failed": 0}
    for claim, outcome in results:
        if outcome.delivered:
            state, values = "delivered", {"state": repo.DELIVERED, "finished_at": now}
        elif outcome.final or claim.attempts >= max_attempts:
            state, values = "failed", {"state": repo.FAILED, "finished_at": now}
        else:
            state, values = "retried", {"next_attempt_at": now + backoff(claim.attempts)}
        values |= {"last_status": outcome.status, "last_error": outcome.error, "last_attempt_at": now}
        if await repo.finish(uow, claim.delivery_id, token, values):
            counted[state] += 1
            metrics.count_webhook_attempt(uow, state, outcome.error)
    return counted


async def relay_once(db: Database, deps: Deps, client: httpx.AsyncClient) -> dict[str, int]:
    """One round: claim a batch, post them at once (a batch holds at most one delivery per stream and
    endpoint, WH-4), record the outcomes. Counts of delivered, retried and failed deliveries."""
    token = secrets.token_hex(16)
    claims = await run_write(db, deps, _claim, token)
    if isinstance(claims, BaseException) or not claims:
        return {"delivered": 0, "retried": 0, "failed": 0}
    outcomes = await asyncio.gather(*(post(client, deps, claim) for claim in claims))
    for claim, outcome in zip(claims, outcomes, strict=True):
        if not outcome.delivered:
            log.info("webhook delivery %s not delivered: %s %s", claim.delivery_id, outcome.error, outcome.status or "")
    counted = await run_write(db, deps, _record, token, list(zip(claims, outcomes, strict=True)))
    return counted if isinstance(counted, dict) else {"delivered": 0, "retried": 0, "failed": 0}


def http_client(deps: Deps) -> httpx.AsyncClient:
    """The relay's client: no redirects followed, WEBHOOK_TIMEOUT_SECONDS for each delivery, no proxy from
    the environment (the endpoints are the operator's own)."""
    timeout = deps.settings.webhook_timeout_seconds
    return httpx.AsyncClient(
        follow_redirects=False, timeout=httpx.Timeout(timeout), trust_env=False, verify=tls_context(deps.settings)
    )


def tls_context(settings: Settings) -> ssl.SSLContext:
    """What the relay trusts for a receiver's certificate: the public CAs (certifi's bundle, as httpx by
    default), and the CAs of WEBHOOK_CA_FILE when set (a receiver behind a private CA). Host names are
    always checked."""
    context = ssl.create_default_context(cafile=certifi.where())
    if settings.webhook_ca_file:
        context.load_verify_locations(cafile=settings.webhook_ca_file)
    return context


# While rounds keep failing (the database away), the relay waits twice as long after each, up to this, and
# logs the traceback of the first failure only.
MAX_FAILURE_PAUSE_S = 60.0


def failure_pause(interval: float, failures: int) -> float:
    """The pause after `failures` rounds in a row failed: the interval, doubled per failure, at most a minute."""
    return float(min(interval * 2 ** min(failures, 16), MAX_FAILURE_PAUSE_S))


async def relay_forever(db: Database, deps: Deps, interval: float) -> None:
    """Relay until cancelled: a round, then another at once while rounds find work, else a pause. Rounds
    that fail (the database away, a bug) are followed by longer pauses, and only the first logs its
    traceback, so an outage does not flood the logs."""
    failures = 0
    async with http_client(deps) as client:
        while True:
            try:
                counted = await relay_once(db, deps, client)
            except Exception:  # the relay must outlive a failed round
                failures += 1
                if failures == 1:
                    log.exception("webhook relay round failed")
                else:
                    log.warning("webhook relay round failed again (%d in a row)", failures)
                await asyncio.sleep(failure_pause(interval, failures))
                continue
            if failures:
                log.info("webhook relay recovered after %d failed rounds", failures)
                failures = 0
            if not any(counted.values()):
                await asyncio.sleep(interval)
