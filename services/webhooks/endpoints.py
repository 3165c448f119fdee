"""Webhook endpoints (managed with `account-center webhooks ...`), and the failed deliveries' list and resend."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from models.webhooks import WebhookEndpoint
from services import secretbox
from services.uow import Uow
from services.webhooks import repository as repo
from services.webhooks.events import ALL, EventType, new_public_id
from services.webhooks.repository import FailedDelivery
from services.webhooks.signing import new_secret

MAX_URL = 2048
# The sandbox's built-in receiver (sandbox/routes.py), which `seed-demo` registers.
SANDBOX_RECEIVER_PATH = "/sandbox/webhooks/receive"


class EndpointRefused(ValueError):
    """A URL or event list `webhooks add` refuses; the message says why (never echoing a secret)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, production: bool) -> str:
    """WH-2: an absolute https URL (http only to loopback outside production), without user info or fragment."""
    if len(url) > MAX_URL:
        raise EndpointRefused(f"the URL is longer than {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise EndpointRefused("the URL must be absolute: https://host/path")
    if parts.username or parts.password:
        raise EndpointRefused("the URL must not carry a user name or password")
    if parts.fragment:
        raise EndpointRefused("the URL must not have a #fragment")
    if parts.scheme == "http" and (production or not _is_loopback(parts.hostname)):
        raise EndpointRefused(
            "the URL must use https (http is allowed only to a loopback address, and never in production)"
        )
    return url


def parse_events(value: str | None) -> str:
    """`TYPE,TYPE` -> the stored list; empty or None: all events (`*`)."""
    if not value or value.strip() == ALL:
        return ALL
    wanted = list(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))
    known = {t.value for t in EventType}
    unknown = [item for item in wanted if item not in known]
    if unknown:
        raise EndpointRefused(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return ",".join(wanted) if wanted else ALL


@dataclass(frozen=True, slots=True)
class AddedEndpoint:
    public_id: str
    url: str
    events: str
    secret: str  # shown once


async def add(uow: Uow, url: str, events: str | None) -> AddedEndpoint:
    """A new endpoint with a new signing secret (sealed with SECRET_KEY; returned once, in clear)."""
    checked = check_url(url.strip(), production=uow.settings.is_production)
    subscribed = parse_events(events)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        public_id=new_public_id("we_"),
        url=checked,
        events=subscribed,
        secret_sealed=secretbox.seal(uow.settings.secret_key, secret),
        enabled=True,
        created_at=uow.now(),
    )
    await repo.add_endpoint(uow, endpoint)
    return AddedEndpoint(endpoint.public_id, checked, subscribed, secret)


async def ensure(uow: Uow, url: str) -> tuple[str, bool]:
    """The endpoint for `url` subscribed to every event, added unless one exists: (its ID, added now)."""
    found = await repo.endpoint_by_url(uow, url)
    if found is not None:
        return found.public_id, False
    return (await add(uow, url, None)).public_id, True


def secret_of(uow: Uow, endpoint: WebhookEndpoint) -> str:
    return secret_of_sealed(uow.settings.secret_key, endpoint.secret_sealed)


def secret_of_sealed(secret_key: str, sealed: str) -> str:
    return secretbox.open_sealed(secret_key, sealed)


async def receiver_secrets(uow: Uow) -> list[str]:
    """The signing secrets of the endpoints whose URL is the sandbox receiver's (on any host): it verifies
    with them."""
    return [
        secret_of(uow, endpoint)
        for endpoint in await repo.endpoints(uow)
        if urlsplit(endpoint.url).path == SANDBOX_RECEIVER_PATH
    ]


MAX_OVERLAP = timedelta(days=7)


async def roll_secret(uow: Uow, public_id: str, overlap: timedelta) -> str | None:
    """WH-2: a new signing secret for the endpoint (returned once, in clear; None: no such endpoint). The
    current one keeps signing beside it for `overlap` (0 to 7 days), so the receiver can switch without
    refusing a delivery; a secret rolled earlier and still in its overlap stops at once."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise EndpointRefused("the overlap is between 0 and 168 hours")
    endpoint = await repo.endpoint_by_public_id(uow, public_id)
    if endpoint is None:
        return None
    secret = new_secret()
    keep = overlap > timedelta(0)
    endpoint.previous_secret_sealed = endpoint.secret_sealed if keep else None
    endpoint.previous_secret_expires_at = uow.now() + overlap if keep else None
    endpoint.secret_sealed = secretbox.seal(uow.settings.secret_key, secret)
    await uow.session.flush()
    return secret


async def listed(uow: Uow) -> list[WebhookEndpoint]:
    return await repo.endpoints(uow)


async def remove(uow: Uow, public_id: str) -> bool:
    return await repo.remove_endpoint(uow, public_id)


async def failed(uow: Uow, limit: int = 1000) -> list[FailedDelivery]:
    return await repo.failed(uow, limit)


async def resend(uow: Uow, delivery_id: int | None) -> int:
    """WH-3: failed deliveries (one by ID, or all with None) are pending again, due now, with a fresh count
    of attempts: how many (0: no failed delivery has that ID). A message whose code has expired fails
    again at once (`expired`)."""
    return await repo.resend(uow, uow.now(), delivery_id)
