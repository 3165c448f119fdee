"""create_app(settings) -> Starlette: mounts /graphql and, in sandbox mode, /sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

import logs
import middleware
from backoffice.routes import routes as backoffice_routes
from resolvers import uploads
from sandbox.routes import routes as sandbox_routes
from schema.context import Context
from schema.schema import build_schema
from services.clock import Clock, SystemClock
from services.database import Database, run_write
from services.notify.notifier import OutboxNotifier
from services.providers.botcheck import build_bot_check
from services.providers.bundle import build_providers
from services.security import PasswordHasher
from services.sweeper import sweep
from services.uow import Deps
from settings import Settings

log = logs.get_logger("account_center.sweeper")

AUTHORISATION_LETTER = Path(__file__).with_name("downloads") / "authorisation-letter.html"


class BodyLimit:
    """Refuse request bodies over the cap with 413, counting while streaming (no Content-Length trust)."""

    def __init__(self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await PlainTextResponse("Request body too large.", status_code=413)(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await PlainTextResponse("Request body too large.", status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _is_text(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


class GraphQLApp(GraphQL[Context, None]):
    def decode_json(self, data: str | bytes) -> object:
        """JSON of a request (body, `variables` of a GET, multipart `operations`), refused as unparsable (400) when
        nested past the recursion limit (`[[[[...` fits the 64 KiB cap) or when a string holds a lone surrogate
        (`"\\ud800"`: valid JSON, but not text that a hash, the database or a log can encode; I-JSON refuses it),
        and bytes that are not UTF-8/16/32 text."""
        try:
            value = json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None
        except UnicodeDecodeError:
            raise json.JSONDecodeError("not UTF-8, UTF-16 or UTF-32 text", "", 0) from None
        raw = data if isinstance(data, bytes) else data.encode(errors="surrogatepass")
        if _SURROGATE_ESCAPE.search(raw) is not None and not _is_text(value):
            raise json.JSONDecodeError("a lone surrogate", "", 0)
        return value

    async def get_context(self, request: Any, response: Any) -> Context:
        ctx = Context(request, request.app.state.db, request.app.state.deps)
        request.state.graphql_context = ctx
        return ctx

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Without the IDE (outside development), a GET without `query` is a request error (400), not 404."""
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)


class ClosingContext:
    """Close the request's read session once the GraphQL response is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            ctx = scope.get("state", {}).get("graphql_context")
            if isinstance(ctx, Context):
                await ctx.close()


def build_deps(settings: Settings, clock: Clock | None = None) -> Deps:
    return Deps(
        settings=settings,
        clock=clock or SystemClock(),
        notifier=OutboxNotifier(),
        hasher=PasswordHasher(
            settings.argon2_memory_kib,
            settings.argon2_time_cost,
            settings.argon2_parallelism,
            settings.password_hash_workers or None,
        ),
        bot_check=build_bot_check(settings),  # REC-1: sandbox only in sandbox mode
        providers=build_providers(settings),
    )


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, db: Database | None = None
) -> Starlette:
    settings = settings or Settings.from_env()
    database = db or Database(settings.database_url)
    deps = build_deps(settings, clock)
    schema = build_schema(settings)
    graphql = GraphQLApp(
        schema,
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=True,
    )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def index(_: Request) -> Response:
        return RedirectResponse("/graphql")

    async def authorisation_letter(_: Request) -> Response:
        """RNE-3: the template an authorised employee has signed and stamped."""
        return FileResponse(
            AUTHORISATION_LETTER,
            media_type="text/html; charset=utf-8",
            headers={"content-disposition": 'inline; filename="authorisation-letter.html"'},
        )

    routes: list[Route | Mount] = [
        Route("/", index),
        Route("/healthz", health),
        Route("/downloads/authorisation-letter", authorisation_letter),
        Route("/graphql", ClosingContext(graphql), methods=["GET", "POST"]),
        *uploads.routes,
    ]
    routes.append(Mount("/backoffice", routes=backoffice_routes))
    if settings.sandbox:
        routes.append(Mount("/sandbox", routes=sandbox_routes))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything loaded at start-up lives for the process: move it out of the collector's way,
        # and collect young objects less often (full collections paused requests for ~100 ms).
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 50, 100)
        task = None
        if settings.sweep_interval_seconds > 0:
            task = asyncio.create_task(_sweep_forever(database, deps, settings.sweep_interval_seconds))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await deps.bot_check.aclose()
            await database.dispose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.db = database
    app.state.deps = deps
    app.state.settings = settings
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, per_path={"/uploads": uploads.MAX_UPLOAD_BODY})
    middleware.install(
        app,
        hsts=settings.is_production and settings.hsts,
        trusted_proxy_count=settings.trusted_proxy_count,
        cors_allowed_origins=settings.cors_allowed_origins,
    )
    return app


async def _sweep_forever(db: Database, deps: Deps, interval: int) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            result = await run_write(db, deps, sweep)
            log.info("sweep finished", counts=result)
        except Exception:  # the sweeper must outlive a failed round
            log.exception("sweep failed")
