"""WH-2: the signature of a delivery, as Stripe and Persona sign theirs.

`Account-Center-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. A receiver
recomputes the HMAC over the raw body it got, compares in constant time and refuses a timestamp more than
TOLERANCE_SECONDS away from its own clock (a replayed request). docs/webhooks.md has the snippet.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Account-Center-Signature"
EVENT_ID_HEADER = "Account-Center-Event-Id"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret: `whsec_` and 32 random bytes (256 bits), URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def header(secret: str, timestamp: int, body: bytes, *previous: str) -> str:
    """The header: one `v1` for `secret`, then one for each `previous` secret still signing (a secret being
    rolled), so a receiver that knows either verifies."""
    signatures = ",".join(f"v1={signature(s, timestamp, body)}" for s in (secret, *previous))
    return f"t={timestamp},{signatures}"


def verify(secret: str, value: str | None, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether `value` (the header) signs `body` with `secret` at a time within `tolerance` of `now`. Any `v1`
    of the header may match (several are sent while a secret is being rolled)."""
    if not value:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit():
            timestamp = int(item)
        elif key == "v1":
            candidates.append(item)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
