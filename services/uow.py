"""The unit of work a use case runs in: one database session plus the process-wide dependencies.

The edge (a GraphQL resolver, a back-office route, the CLI) opens it, calls one service function
and commits once; services only flush. An `asyncio.Lock` guards the session because graphql-core
resolves sibling fields concurrently and an AsyncSession must not be used by two coroutines at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.notify.notifier import Notifier
from services.providers.botcheck import BotCheck
from services.providers.bundle import Providers
from services.security import PasswordHasher, keyed_hash
from settings import Settings


@dataclass(frozen=True, slots=True)
class Deps:
    """Everything a service needs besides the database; built once per process."""

    settings: Settings
    clock: Clock
    notifier: Notifier
    hasher: PasswordHasher
    bot_check: BotCheck
    providers: Providers


class Uow:
    def __init__(self, session: AsyncSession, deps: Deps) -> None:
        self.session = session
        self.deps = deps
        self.lock = asyncio.Lock()
        self._after_commit: list[Callable[[], None]] = []

    def on_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once this unit of work has committed (a metric counted only for what persisted);
        never after a rollback, nor for a read."""
        self._after_commit.append(fn)

    def committed(self) -> None:
        """Called by the edge's transaction helper (services/database.py) right after its commit."""
        callbacks, self._after_commit = self._after_commit, []
        for fn in callbacks:
            fn()

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def now(self) -> datetime:
        return self.deps.clock.now()

    def keyed(self, value: str) -> str:
        return keyed_hash(self.deps.settings.secret_key, value)
