"""Pure ASGI middleware around the whole app: the request ID and access line, the security headers, and
CORS for single-page apps on other origins.

The first two wrap every HTTP route (/graphql, /uploads, /backoffice, /sandbox, ...), including the
answers other middleware give early (413 from the body limit); CORS answers only on POST /graphql and
POST /uploads.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Collection

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
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
# The back office's material viewer (zoom, rotate): the same, plus its one script file from this origin.
VIEWER_CSP = PAGE_CSP.replace("default-src 'none';", "default-src 'none'; script-src 'self';")
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


# What a single-page app on another origin may call (CORS_ALLOWED_ORIGINS): the API's two POST endpoints,
# with a bearer token and a JSON or multipart body. Everything else (GET /graphql and GraphiQL, downloads,
# the back office, the sandbox pages) stays same-origin: no CORS header at all.
CORS_PATHS = frozenset({"/graphql", "/uploads"})
CORS_METHODS = ("POST",)
CORS_REQUEST_HEADERS = ("authorization", "content-type")
# How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours).
CORS_MAX_AGE_SECONDS = 600


class ScopedCORS:
    """CORS for the exact origins of CORS_ALLOWED_ORIGINS, on `POST /graphql` and `POST /uploads` and their
    preflights only; the protocol is Starlette's CORSMiddleware.

    A preflight from a listed origin for POST with `authorization` and `content-type` is answered 200 with
    that origin allowed; any other preflight 400 without `Access-Control-Allow-Origin`. An actual request
    from a listed origin gets `Access-Control-Allow-Origin` (its origin) and may read `X-Request-ID`; from
    any other origin it is served as if CORS were off (no `Access-Control-*` header). No credentials are
    allowed: the API authenticates with bearer tokens, not cookies. Every answer on these two endpoints
    says `Vary: Origin`."""

    def __init__(self, app: ASGIApp, *, allowed_origins: Collection[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=tuple(allowed_origins),
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            allow_credentials=False,
            expose_headers=(REQUEST_ID_HEADER,),
            max_age=CORS_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in CORS_PATHS or scope["method"] not in ("POST", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if origin is None or scope["method"] == "OPTIONS" or self.cors.is_allowed_origin(origin):
            await self.cors(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_varying)


def install(
    app: Starlette,
    *,
    hsts: bool,
    trusted_proxy_count: int,
    ide_path: str | None = None,
    cors_allowed_origins: Collection[str] = (),
) -> None:
    """Outermost first: the security headers, then CORS when origins are listed, then the request context.
    So a 500 the request context sends gets the security headers, and a listed origin can read it and its
    request ID; preflights are answered before the request context (no access line, no request ID)."""
    app.add_middleware(RequestContext, trusted_proxy_count=trusted_proxy_count)
    if cors_allowed_origins:
        app.add_middleware(ScopedCORS, allowed_origins=cors_allowed_origins)
    app.add_middleware(SecurityHeaders, hsts=hsts, ide_path=ide_path)
