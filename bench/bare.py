"""The baselines: bare Starlette handlers doing the `viewer` read without GraphQL.

Served by `uvicorn bench.bare:create_app --factory` exactly like the app. Two routes:

- `/viewer`, the same session-token read as the app: the app's own `services.auth.authenticate`
  through the app's own `Database` and read session (ORM), then a JSON answer shaped like the
  GraphQL one. GraphQL / this is the goal ratio: what the GraphQL layer costs on top of the read.
- `/viewer-core`, the floor: SHA-256 of the bearer token, one SQLAlchemy Core SELECT built once,
  the idle-timeout check (AUTH-3), the same JSON. Printed for information.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import build_deps
from models.accounts import Account
from models.auth import AuthSession
from models.session import create_engine
from services.auth import service as auth
from services.database import Database, run_read
from services.security import bearer_token, token_hash
from settings import Settings

ACCOUNTS = Account.__table__
SESSIONS = AuthSession.__table__


def viewer_statement() -> Select[Any]:
    """The one query, built once; the token digest is a bound parameter."""
    return (
        select(
            ACCOUNTS.c.id,
            ACCOUNTS.c.account_number,
            ACCOUNTS.c.username,
            ACCOUNTS.c.status,
            ACCOUNTS.c.idle_timeout_minutes,
            SESSIONS.c.last_seen_at,
        )
        .select_from(SESSIONS.join(ACCOUNTS, ACCOUNTS.c.id == SESSIONS.c.account_id))
        .where(SESSIONS.c.token_hash == bindparam("digest"), SESSIONS.c.ended_at.is_(None))
    )


def global_id(type_name: str, node_id: int) -> str:
    """Relay's global ID, as Strawberry encodes it."""
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def create_app() -> Starlette:
    settings = Settings.from_env()
    db = Database(settings.database_url)
    deps = build_deps(settings)
    engine = create_engine(os.environ["DATABASE_URL"])
    statement = viewer_statement()

    async def viewer_same_read(request: Request) -> Response:
        found = await run_read(db, deps, auth.authenticate, bearer_token(request.headers.get("authorization")))
        if found is None:
            return JSONResponse({"data": {"viewer": None}})
        account = found.account
        account_id = None if account.account_number is None else str(account.account_number)
        answer = {"id": global_id("Account", account.id), "accountId": account_id, "username": account.username}
        return JSONResponse({"data": {"viewer": answer}})

    async def viewer_core(request: Request) -> Response:
        token = bearer_token(request.headers.get("authorization"))
        row = None
        if token is not None:
            async with engine.connect() as conn:
                row = (await conn.execute(statement, {"digest": token_hash(token)})).first()
        now = datetime.now(UTC)
        live = (
            row is not None
            and row.status == "active"
            and row.last_seen_at + timedelta(minutes=row.idle_timeout_minutes) > now
        )
        if not live or row is None:
            return JSONResponse({"data": {"viewer": None}})
        account_id = None if row.account_number is None else str(row.account_number)
        found = {"id": global_id("Account", row.id), "accountId": account_id, "username": row.username}
        return JSONResponse({"data": {"viewer": found}})

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()
            await db.dispose()

    return Starlette(
        routes=[
            Route("/healthz", health),
            Route("/viewer", viewer_same_read, methods=["GET", "POST"]),
            Route("/viewer-core", viewer_core, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
