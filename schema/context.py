"""The per-request GraphQL context: who is asking, and the transactions a resolver may open.

Reads share one session per request behind a lock (graphql-core resolves siblings concurrently);
each mutation runs its use case in its own write transaction that commits once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from edges.client import client_ip
from services.auth import service as auth
from services.client import ClientInfo
from services.database import Database, run_write
from services.errors import ServiceError
from services.security import bearer_token
from services.uow import Deps, Uow
from services.viewer import SIGN_IN_FIRST, Viewer

P = ParamSpec("P")
T = TypeVar("T")


class Context:
    def __init__(self, request: Request, db: Database, deps: Deps) -> None:
        self.request = request
        self.db = db
        self.deps = deps
        self._session: AsyncSession | None = None
        self._uow: Uow | None = None
        self._lock = asyncio.Lock()
        self._auth: Viewer | None = None
        self._auth_loaded = False
        self._auth_lock = asyncio.Lock()
        # One batch loader per Node type (schema/types/common.py: resolve_owned_nodes): every `node(id:)`
        # of a request that names the type is read together, in one statement.
        self.node_loaders: dict[type, Any] = {}
        self.client = ClientInfo(
            ip=client_ip(request, deps.settings.trusted_proxy_count),
            user_agent=request.headers.get("user-agent"),
        )

    # --- reads -------------------------------------------------------------------------------

    async def read(self, fn: Callable[Concatenate[Uow, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read in the request's one read session, one coroutine at a time."""
        async with self._lock:
            if self._uow is None:
                self._session = self.db.read_sessions()
                self._uow = Uow(self._session, self.deps)
            return await fn(self._uow, *args, **kwargs)

    async def release(self) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._uow = None

    # --- writes ------------------------------------------------------------------------------

    async def write(
        self, fn: Callable[Concatenate[Uow, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T | ServiceError:
        # End the read transaction first: on SQLite a reader holding a snapshot is fine, but there
        # is no reason to keep it open across a write.
        await self.close()
        return await run_write(self.db, self.deps, fn, *args, **kwargs)

    async def write_viewer(
        self,
        unauthenticated: Enum,
        fn: Callable[Concatenate[Uow, Viewer, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | ServiceError:
        """Run a use case for the signed-in caller, authenticated inside the same transaction."""
        bearer, client = self.bearer, self.client

        async def call(uow: Uow) -> T:
            viewer = await auth.authenticate(uow, bearer, client)
            if viewer is None:
                raise ServiceError(unauthenticated, SIGN_IN_FIRST, None)
            if viewer.needs_touch:
                await auth.touch(uow, viewer.session_id)
            return await fn(uow, viewer, *args, **kwargs)

        return await self.write(call)

    async def write_viewer_or_challenge(
        self,
        unauthenticated: Enum,
        fn: Callable[Concatenate[Uow, Viewer, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | ServiceError:
        """As `write_viewer`, but a live login challenge of this client stands in for a session (the
        lost-device path of APL-1; see `auth.challenge_viewer`)."""
        bearer, client = self.bearer, self.client

        async def call(uow: Uow) -> T:
            viewer = await auth.authenticate(uow, bearer, client) or await auth.challenge_viewer(uow, bearer, client)
            if viewer is None:
                raise ServiceError(unauthenticated, SIGN_IN_FIRST, None)
            return await fn(uow, viewer, *args, **kwargs)

        return await self.write(call)

    async def write_maybe_viewer(
        self,
        fn: Callable[Concatenate[Uow, Viewer | None, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | ServiceError:
        bearer, client = self.bearer, self.client

        async def call(uow: Uow) -> T:
            viewer = await auth.authenticate(uow, bearer, client)
            if viewer is not None and viewer.needs_touch:
                await auth.touch(uow, viewer.session_id)
            return await fn(uow, viewer, *args, **kwargs)

        return await self.write(call)

    # --- who is asking -----------------------------------------------------------------------

    @property
    def bearer(self) -> str | None:
        return bearer_token(self.request.headers.get("authorization"))

    async def auth(self) -> Viewer | None:
        """The live session of the bearer token, or None (AUTH-3: idle sessions are not live)."""
        # One look-up per request: fields resolved concurrently (sibling `node` fields) wait for the first.
        async with self._auth_lock:
            if not self._auth_loaded:
                found = await self.read(auth.authenticate, self.bearer)
                if found is not None and found.needs_touch:
                    await self.write(auth.touch, found.session_id)
                self._auth, self._auth_loaded = found, True
        return self._auth
