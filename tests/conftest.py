"""Test fixtures: a migrated database (SQLite by default, PostgreSQL when DATABASE_URL says so), the app
with a clock the tests move, an in-process HTTP client, and GraphQL helpers.

With DATABASE_URL=postgresql+asyncpg://user:pass@host/db the suite creates a throw-away database on
that server, migrates it once and empties it between tests. Without it, each test gets a copy of a
migrated SQLite file. Under CI=true a PostgreSQL URL that cannot be reached fails the run.

Under pytest-xdist (`-n`, as `make test` runs) every worker is a process of its own with its own template:
its own throw-away PostgreSQL database, named after the run and the worker (ac_test_<run>_gw0, ...), or its
own SQLite template file, so two workers never share a database. The run's databases are dropped at the end,
each by its worker and then, for a worker that died, by the controlling process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from app import create_app
from cli import migrate
from models import Base
from schema import errors as schema_errors
from services.clock import ManualClock
from services.database import Database
from settings import Settings

pytest_plugins = ["tests.siteverify"]  # the `siteverify` fixture: a bot-check endpoint on loopback


@pytest.fixture(autouse=True)
def _every_error_code_is_declared_by_its_mutation() -> Iterator[None]:
    """A mutation that answers with a code its `RETURNS` entry does not list documents it wrongly in the
    schema (each ErrorCode value says which mutations return it): fail the test that showed it."""
    schema_errors.UNDECLARED.clear()
    yield
    undeclared = sorted(schema_errors.UNDECLARED)
    schema_errors.UNDECLARED.clear()
    assert undeclared == [], "add these codes to schema/error_returns.py RETURNS"


DB_URL = os.environ.get("DATABASE_URL", "")
IS_PG = DB_URL.startswith("postgresql")
TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]
# "gw0", "gw1", ... in a pytest-xdist worker; "main" in a run without workers.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# One name for the whole run, chosen by the controlling process before it starts the workers (they inherit
# its environment), so the databases of one run share a prefix.
_RUN_VARIABLE = "ACCOUNT_CENTER_TEST_RUN"


def pytest_configure(config: pytest.Config) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        os.environ[_RUN_VARIABLE] = uuid.uuid4().hex[:10]


def pytest_unconfigure(config: pytest.Config) -> None:
    """In the controlling process, after every worker has finished: drop what a worker that died left."""
    if not IS_PG or "PYTEST_XDIST_WORKER" in os.environ or _RUN_VARIABLE not in os.environ:
        return
    run = os.environ.pop(_RUN_VARIABLE)
    with contextlib.suppress(OSError):  # the server went away: the fixture has reported it already
        asyncio.run(_drop_run_databases(DB_URL, run))


def _database_prefix() -> str:
    return f"ac_test_{os.environ.get(_RUN_VARIABLE) or uuid.uuid4().hex[:10]}_"


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


async def _pg_admin(url: str, sql: str) -> None:
    conn = await _pg_admin_connection(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _pg_admin_connection(url: str) -> Any:
    import asyncpg

    u = make_url(url)
    return await asyncpg.connect(
        user=u.username, password=u.password, host=u.host or "127.0.0.1", port=u.port or 5432, database="postgres"
    )


async def _drop_run_databases(url: str, run: str) -> None:
    conn = await _pg_admin_connection(url)
    try:
        prefix = f"ac_test_{run}_"
        names = await conn.fetch("SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1", prefix)
        for (name,) in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this worker: the SQLite template file, or a fresh PostgreSQL database."""
    if IS_PG:
        name = f"{_database_prefix()}{WORKER}"
        try:
            asyncio.run(_pg_admin(DB_URL, f'CREATE DATABASE "{name}"'))
        except OSError as exc:  # pragma: no cover - only when the server is missing
            pytest.fail(f"PostgreSQL at DATABASE_URL is not reachable: {exc}")
        url = make_url(DB_URL).set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
        asyncio.run(_pg_admin(DB_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp(f"db-{WORKER}") / "template.db"
        migrate(f"sqlite+aiosqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> str:
    if IS_PG:
        return template_database
    path = tmp_path / "test.db"
    shutil.copyfile(template_database, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        environment="test",
        sandbox=True,
        secret_key="test-secret-key",
        argon2_memory_kib=1024,  # argon2id still; cheap parameters keep the suite fast
        argon2_time_cost=1,
        sweep_interval_seconds=0,
        webhook_relay_interval_seconds=0,  # tests run the relay themselves (tests/test_webhooks*.py)
    )


@dataclass
class SqlCounter:
    statements: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len([s for s in self.statements if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", s)])


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    if IS_PG:
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def sql(db: Database) -> SqlCounter:
    counter = SqlCounter()

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counter.statements.append(statement)

    return counter


@pytest.fixture
def app(settings: Settings, clock: ManualClock, db: Database) -> Any:
    return create_app(settings, clock=clock, db=db)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def run(app: Any, db: Database) -> Any:
    """Call a service function in its own write transaction; a ServiceError is raised, not returned."""
    from services.database import run_write
    from services.errors import ServiceError

    async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        result = await run_write(db, app.state.deps, fn, *args, **kwargs)
        if isinstance(result, ServiceError):
            raise result
        return result

    return call
