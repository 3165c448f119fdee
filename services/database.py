"""The process-wide database handle and the transaction helpers every edge uses.

`write()` runs one use case in a write transaction (BEGIN IMMEDIATE on SQLite) and commits once;
a `ServiceError` rolls back unless the error says its side effect must persist (a counted try).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.session import create_engine, create_sessionmakers
from services.errors import ServiceError
from services.uow import Deps, Uow
from services.viewer import Viewer

P = ParamSpec("P")
T = TypeVar("T")


class Transactions(Protocol):
    """What a use case that needs more than one transaction gets from its edge: one that must not hold a
    database lock while argon2 or the network runs (password sign-in, registration, password reset, the
    recovery bot check)."""

    @property
    def deps(self) -> Deps: ...

    async def read(self, fn: Callable[Concatenate[Uow, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T: ...

    async def write(
        self, fn: Callable[Concatenate[Uow, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T | ServiceError: ...

    async def release(self) -> None:
        """Give back any database connection held for reads (before a long wait such as a hash)."""


class ViewerTransactions(Transactions, Protocol):
    """`Transactions` of a signed-in caller (the GraphQL context): each write authenticates the session
    again inside its transaction, so a session ended between two steps ends the use case."""

    async def auth(self) -> Viewer | None:
        """The signed-in caller as a read sees it (no write transaction), or None without a live session:
        for a step that needs the account's data before the first write (and outside any transaction)."""

    async def write_viewer(
        self,
        unauthenticated: Enum,
        fn: Callable[Concatenate[Uow, Viewer, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | ServiceError: ...


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url, echo=echo)
        self.read_sessions: async_sessionmaker[AsyncSession]
        self.write_sessions: async_sessionmaker[AsyncSession]
        self.read_sessions, self.write_sessions = create_sessionmakers(self.engine)
        # SQLite has one writer at a time, and a writer waiting for the lock polls with sleeps of up to
        # 100 ms, in no order: under a burst of writes the unlucky one waited seconds. This process's
        # writers queue here in arrival order instead, so the lock passes on at once (other processes
        # on the same file still meet the busy timeout). PostgreSQL locks rows, not the database.
        self.write_queue: asyncio.Lock | None = asyncio.Lock() if url.startswith("sqlite") else None

    async def dispose(self) -> None:
        await self.engine.dispose()


class DbTransactions:
    """`Transactions` for an edge without a GraphQL context (the sandbox pages, the CLI)."""

    def __init__(self, db: Database, deps: Deps) -> None:
        self.db = db
        self._deps = deps

    @property
    def deps(self) -> Deps:
        return self._deps

    async def read(self, fn: Callable[Concatenate[Uow, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        return await run_read(self.db, self._deps, fn, *args, **kwargs)

    async def write(
        self, fn: Callable[Concatenate[Uow, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T | ServiceError:
        return await run_write(self.db, self._deps, fn, *args, **kwargs)

    async def release(self) -> None:
        return None


async def run_write(
    db: Database,
    deps: Deps,
    fn: Callable[Concatenate[Uow, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T | ServiceError:
    if db.write_queue is None:
        return await _write(db, deps, fn, *args, **kwargs)
    async with db.write_queue:
        return await _write(db, deps, fn, *args, **kwargs)


async def _write(
    db: Database,
    deps: Deps,
    fn: Callable[Concatenate[Uow, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T | ServiceError:
    async with db.write_sessions() as session:
        uow = Uow(session, deps)
        try:
            result = await fn(uow, *args, **kwargs)
        except ServiceError as err:
            if err.persist:
                await session.commit()
                uow.committed()
            else:
                await session.rollback()
            return err
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        uow.committed()
        return result


async def run_read(
    db: Database,
    deps: Deps,
    fn: Callable[Concatenate[Uow, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    async with db.read_sessions() as session:
        return await fn(Uow(session, deps), *args, **kwargs)
