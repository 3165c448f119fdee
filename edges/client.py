"""The client address of a request, as every edge sees it (per-address throttles, session records)."""

from __future__ import annotations

from starlette.requests import Request


def client_ip(request: Request, trusted_proxies: int) -> str | None:
    """The peer address, or behind `trusted_proxies` proxies (TRUSTED_PROXY_COUNT) the address the
    outermost trusted proxy saw: X-Forwarded-For's entry that many from the right. Entries further left
    are whatever the client sent, so they are never trusted."""
    if trusted_proxies > 0:
        forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if len(forwarded) >= trusted_proxies:
            return forwarded[-trusted_proxies]
    return request.client.host if request.client else None
