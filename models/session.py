"""Engine and session factory.

SQLite (aiosqlite) is the embedded default: WAL, a busy timeout, foreign keys on, and we take
control of BEGIN (SQLAlchemy's documented pysqlite/aiosqlite recipe) so that write transactions
start with BEGIN IMMEDIATE and never fail with "database is locked" when a read turns into a
write. Read sessions issue no BEGIN at all (autocommit reads, never waiting for the writer in WAL).
PostgreSQL (asyncpg) is the scale-out engine: read sessions run in autocommit there too (no BEGIN
and ROLLBACK round trips), writes in READ COMMITTED transactions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

WRITE_OPTION = "account_center_write"


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    is_sqlite = database_url.startswith("sqlite")
    # No bound values in SQLAlchemy's error messages: they may carry names, codes or hashes.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    # The pool is sized for the concurrency one worker serves (a request holds a connection only
    # while it reads or writes); waiters beyond it queue without order guarantees.
    if is_sqlite:
        kwargs.update(connect_args={"timeout": 30}, pool_size=20, max_overflow=40)
    else:
        kwargs.update(pool_size=30, max_overflow=30, pool_pre_ping=False)
    engine = create_async_engine(database_url, **kwargs)
    if is_sqlite:
        _install_sqlite_recipe(engine)
    return engine


def _install_sqlite_recipe(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Driver-level autocommit: pysqlite/aiosqlite must not emit BEGIN on its own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Reads run in SQLite's autocommit mode: each statement sees a consistent snapshot (as under
        # PostgreSQL's READ COMMITTED) and no BEGIN round trip through the driver thread is paid.
        if conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmakers(
    engine: AsyncEngine,
) -> tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]:
    """(read, write) session factories sharing one pool."""
    read_bind = engine
    if engine.dialect.name == "postgresql":
        # Reads in autocommit, as on SQLite: no BEGIN and ROLLBACK round trips around a read, and no
        # connection left "idle in transaction" between a request's reads. Each statement sees the
        # data committed before it started, which is what READ COMMITTED (PostgreSQL's default, and
        # ours) gave each statement inside the transaction. Writes keep their transaction.
        read_bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    read = async_sessionmaker(read_bind, expire_on_commit=False, autoflush=True)
    write_bind = engine.execution_options(**{WRITE_OPTION: True})
    write = async_sessionmaker(write_bind, expire_on_commit=False, autoflush=True)
    return read, write
