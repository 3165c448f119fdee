"""Pure ASGI middleware around the whole app: the request ID and access line, and the security headers.

Both wrap every HTTP route (/graphql, /uploads, /backoffice, /sandbox, ...), including the answers
other middleware give early (413 from the body limit).
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import logs
from edges.client import client_ip

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()
# What a client or proxy may choose as request ID: a UUID, a ULID, a base64 or dotted trace ID. Anything
# else (control characters, quotes, spaces, more than 128 characters) is replaced by a generated one, so
# a client cannot write into the log through it.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
_MAX_LOGGED_PATH = 256

log = logs.get_logger("account_center.request")
access = logs.get_logger(logs.ACCESS_LOGGER)


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == _REQUEST_ID_KEY:
            try:
                candidate: str = bytes(value).decode("ascii")
            except UnicodeDecodeError:
                break
            if _SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def logged_path(scope: Scope) -> str:
    """The path without its query string; a route with path parameters (a ticket, an upload ID) is
    logged as its template, e.g. `/sandbox/face/{ticket}`."""
    route = scope.get("route")
    if isinstance(route, Route) and scope.get("path_params"):
        return str(scope.get("root_path", "")) + route.path
    # As received (percent-encoded: no control character reaches a console line), capped.
    raw = scope.get("raw_path")
    path = raw.split(b"?", 1)[0].decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", ""))
    return path if len(path) <= _MAX_LOGGED_PATH else path[:_MAX_LOGGED_PATH] + "..."


class RequestContext:
    """Give each request an ID (a sane `X-Request-ID` from the client, else a new one), bind it to every
    log line of the request, return it in the response, and write one access line when it ends.

    An exception that escapes the app is logged here, inside the request (so with its ID), and answered
    with a 500 if nothing was sent yet.
    """

    def __init__(self, app: ASGIApp, *, trusted_proxy_count: int = 0) -> None:
        self.app = app
        self.trusted_proxy_count = trusted_proxy_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope)
        tokens = logs.bound_request_id(request_id)
        fields, fields_token = logs.start_request_fields()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled exception")
                if not response_started:
                    await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send_with_id)
            access.info(
                "request",
                method=scope.get("method"),
                path=logged_path(scope),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=client_ip(Request(scope), self.trusted_proxy_count),
                **fields,
            )
        finally:
            logs.end_request_fields(fields_token)
            logs.unbind(tokens)


# The back office and the sandbox pages are plain server-rendered HTML with a same-origin stylesheet,
# images and forms, and no script at all.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# GraphiQL (development only, at GET /graphql; ide/): its scripts and stylesheets come from this origin
# (no inline script); its fonts and a few images are data: URLs inside its stylesheet; it talks to /graphql.
IDE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self' data:; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
PAGE_PREFIXES = ("/backoffice", "/sandbox")


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every response; HSTS when asked (production); on the back
    office and sandbox pages a strict Content-Security-Policy, `X-Frame-Options: DENY` and
    `Referrer-Policy: same-origin`. With `ide_path` (development), the HTML page answered there (GraphiQL)
    gets the same with IDE_CSP, which lets it run its same-origin scripts. A header a route sets itself
    wins."""

    def __init__(self, app: ASGIApp, *, hsts: bool, ide_path: str | None = None) -> None:
        self.app = app
        self.hsts = hsts
        self.ide_path = ide_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        page = any(path == prefix or path.startswith(prefix + "/") for prefix in PAGE_PREFIXES)
        ide = self.ide_path is not None and path == self.ide_path

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                if self.hsts:
                    headers.setdefault("strict-transport-security", HSTS)
                policy = PAGE_CSP if page else None
                if ide and headers.get("content-type", "").startswith("text/html"):
                    policy = IDE_CSP
                if policy is not None:
                    headers.setdefault("content-security-policy", policy)
                    headers.setdefault("x-frame-options", "DENY")
                    headers.setdefault("referrer-policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: Starlette, *, hsts: bool, trusted_proxy_count: int, ide_path: str | None = None) -> None:
    """Outermost first: the security headers, then the request context (so a 500 it sends gets them)."""
    app.add_middleware(RequestContext, trusted_proxy_count=trusted_proxy_count)
    app.add_middleware(SecurityHeaders, hsts=hsts, ide_path=ide_path)
