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

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import ExecutionResult

import ide
import logs
import middleware
from backoffice.routes import routes as backoffice_routes
from edges import health
from resolvers import change_form, lifecycle, uploads
from sandbox.routes import routes as sandbox_routes
from schema.context import Context
from schema.observability import INTERNAL_SERVER_ERROR, OPERATION_RESOLUTION_FAILURE, log_errors, public_error
from schema.schema import build_schema
from services.clock import Clock, SystemClock
from services.database import Database
from services.notify.notifier import OutboxNotifier
from services.providers.botcheck import build_bot_check
from services.providers.bundle import build_providers
from services.security import PasswordHasher
from services.sweeper import sweep_round
from services.uow import Deps
from services.webhooks.relay import relay_forever
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


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
_MEDIA_RANGE = re.compile(r"\s*([^\s;,]+)\s*((?:;[^,]*)?)")
_Q = re.compile(r";\s*q\s*=\s*([^;\s]*)", re.IGNORECASE)


def wants_graphql_response_json(accept: str | None) -> bool:
    """GraphQL over HTTP: answer with application/graphql-response+json when the client's Accept names it
    (q > 0) and rates it at least as high as application/json. A wildcard, or no Accept at all, keeps
    the legacy application/json."""
    ratings: dict[str, float] = {}
    for found in _MEDIA_RANGE.finditer((accept or "")[:1024]):
        media = found.group(1).lower()
        q = _Q.search(found.group(2))
        try:
            rating = float(q.group(1)) if q else 1.0
        except ValueError:
            rating = 0.0
        ratings[media] = max(rating, ratings.get(media, 0.0))
    wanted = ratings.get(GRAPHQL_RESPONSE_JSON, 0.0)
    return wanted > 0 and wanted >= ratings.get("application/json", 0.0)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view, with this API's HTTP conventions:

    - every error carries `extensions.code`; with `mask_errors` (production) a bug's message is replaced
      (schema/observability.public_error);
    - a request error (nothing executed: the document does not parse or validate, the variables do not
      coerce, no operation can be chosen) has no `data` entry (GraphQL spec 7.1.2);
    - GraphQL over HTTP status codes: with application/graphql-response+json (when Accept asks for it)
      a request error is a 400 (a 500 for a bug); with application/json every GraphQL response is a 200,
      except that a request naming no operation to run, or one the document lacks, is a 400 either way.
    """

    def __init__(self, schema: BaseSchema, *, mask_errors: bool, **options: Any) -> None:
        super().__init__(schema, **options)
        self.mask_errors = mask_errors

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
        request.state.graphql_sub_response = response
        return ctx

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the project's own files (ide/), not Strawberry's page that loads them from a CDN."""
        return HTMLResponse(ide.PAGE)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Without the IDE (outside development), a GET without `query` is a request error (400), not 404."""
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """An `operationName` the document lacks (or that is not a name at all), or a document without an
        operation, is a GraphQL request error with its code (Strawberry answers plain text quoting the name)."""
        name: object = request_data.operation_name
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if not isinstance(exc.__cause__, CannotGetOperationTypeError):
                raise
        message = (
            "The document defines no operation."
            if name is None
            else "The document has no operation of the name given in `operationName`."
        )
        error = GraphQLError(message, extensions={"code": OPERATION_RESOLUTION_FAILURE})
        log_errors([error])
        return ExecutionResult(data=None, errors=[error])

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        errors = [public_error(e, mask=self.mask_errors) for e in result.errors or ()]
        body = process_result(ExecutionResult(data=result.data, errors=errors or None, extensions=result.extensions))
        if result.data is None and errors and all(e.path is None for e in errors):
            del body["data"]  # a request error: nothing was executed
        codes = {(e.extensions or {}).get("code") for e in errors}
        modern = wants_graphql_response_json(request.headers.get("accept"))
        status = 200
        if "data" not in body and (modern or OPERATION_RESOLUTION_FAILURE in codes):
            status = 500 if INTERNAL_SERVER_ERROR in codes else 400
        sub_response: Response = request.state.graphql_sub_response
        sub_response.status_code = status
        if modern:
            sub_response.media_type = GRAPHQL_RESPONSE_JSON
        return body

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type is not None:
            response.headers["content-type"] = sub_response.media_type
        return response


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
    clock = clock or SystemClock()
    return Deps(
        settings=settings,
        clock=clock,
        notifier=OutboxNotifier(),
        hasher=PasswordHasher(
            settings.argon2_memory_kib,
            settings.argon2_time_cost,
            settings.argon2_parallelism,
            settings.password_hash_workers or None,
        ),
        bot_check=build_bot_check(settings),  # REC-1: sandbox only in sandbox mode
        providers=build_providers(settings, clock),
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
        mask_errors=settings.is_production,
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=True,
    )

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
        *health.routes,  # /healthz, /readyz, /metrics (issue 16 item 3)
        Route("/downloads/authorisation-letter", authorisation_letter),
        Route("/graphql", ClosingContext(graphql), methods=["GET", "POST"]),
        *uploads.routes,
        *change_form.routes,  # CHG-3
        *lifecycle.routes,  # issue 15 item 3: the data export's download
    ]
    if settings.is_development:
        routes += ide.routes
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
        health.schema_heads()  # /readyz compares the database with the migrations read here, once
        tasks = []
        if settings.sweep_interval_seconds > 0:
            tasks.append(asyncio.create_task(_sweep_forever(database, deps, settings.sweep_interval_seconds)))
        if settings.webhook_relay_interval_seconds > 0:  # WH-5: every instance may relay; leases keep them apart
            tasks.append(asyncio.create_task(relay_forever(database, deps, settings.webhook_relay_interval_seconds)))
        try:
            yield
        finally:
            for task in tasks:
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
        ide_path="/graphql" if settings.is_development else None,
        cors_allowed_origins=settings.cors_allowed_origins,
    )
    return app


async def _sweep_forever(db: Database, deps: Deps, interval: int) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            result = await sweep_round(db, deps)
            log.info("sweep finished", counts=result)
        except Exception:  # the sweeper must outlive a failed round
            log.exception("sweep failed")
