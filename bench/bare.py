"""The baseline: a bare Starlette handler doing the `viewer` read without GraphQL or the ORM.

Served by `uvicorn bench.bare:create_app --factory` exactly like the app. Per request: SHA-256 of
the bearer token, one SELECT of the session joined with its account by token hash (SQLAlchemy
Core, on an engine built by the app's own `create_engine`, so pool and SQLite pragmas match), the
idle-timeout check (AUTH-3), and a JSON answer shaped like the GraphQL one.
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

from models.accounts import Account
from models.auth import AuthSession
from models.session import create_engine
from services.security import token_hash

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


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def global_id(type_name: str, node_id: int) -> str:
    """Relay's global ID, as Strawberry encodes it."""
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def create_app() -> Starlette:
    engine = create_engine(os.environ["DATABASE_URL"])
    statement = viewer_statement()

    async def viewer(request: Request) -> Response:
        token = bearer(request)
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

    return Starlette(
        routes=[Route("/healthz", health), Route("/viewer", viewer, methods=["GET", "POST"])], lifespan=lifespan
    )
