"""Fresh databases for one run: a SQLite file in a temp dir, or `bench_<random>` on the private PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app import build_deps
from bench.machine import children_of
from models.auth import AuthSession
from services.database import Database, run_write
from services.demo import DEMO_CLOUD_PASSWORD, DEMO_CLOUD_USERNAME, seed
from services.errors import ServiceError
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCRIPT = ROOT / "scripts" / "postgres.sh"
POSTGRES_PORT = 55432  # scripts/postgres.sh's default
# In the data directory scripts/postgres.sh uses by default (a fixed path it chose, not ours to pick).
POSTGRES_PID_FILE = Path("/tmp/account-center-pg/postmaster.pid")  # noqa: S108
ADMIN_TIMEOUT_S = 30.0


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'bench.db'}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Start the private cluster if needed, create `bench_<random>` in it, drop it (and stop what we started)."""
    started_here = not _listening(POSTGRES_PORT)
    result = subprocess.run([str(POSTGRES_SCRIPT), "start"], capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/postgres.sh start failed:\n{result.stderr}")
    admin_url = result.stdout.strip().splitlines()[-1]
    name = f"bench_{secrets.token_hex(5)}"
    try:
        asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        if started_here:
            subprocess.run([str(POSTGRES_SCRIPT), "stop"], check=False, timeout=120)


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    u = make_url(admin_url)
    conn = await asyncpg.connect(
        user=u.username,
        password=u.password,
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        database=u.database or "postgres",
        timeout=ADMIN_TIMEOUT_S,
    )
    try:
        await conn.execute(sql, timeout=ADMIN_TIMEOUT_S)
    finally:
        await conn.close()


def seed_account(settings: Settings) -> tuple[str, str]:
    """Create the demo cloud account through the services; return (login name, password)."""

    async def main() -> None:
        db = Database(settings.database_url)
        try:
            result = await run_write(db, build_deps(settings), seed)
        finally:
            await db.dispose()
        if isinstance(result, ServiceError):
            raise RuntimeError(f"seeding failed: {result.message}")

    asyncio.run(main())
    return DEMO_CLOUD_USERNAME, DEMO_CLOUD_PASSWORD


def count_sessions(database_url: str) -> int:
    """All rows of the sessions table: each successful sign-in adds one."""

    async def main() -> int:
        db = Database(database_url)
        try:
            async with db.engine.connect() as conn:
                return int(await conn.scalar(select(func.count()).select_from(AuthSession.__table__)) or 0)
        finally:
            await db.dispose()

    return asyncio.run(main())


def postgres_pids() -> list[int]:
    """The postmaster of the private cluster and its children (backends, writers), if it runs."""
    try:
        postmaster = int(POSTGRES_PID_FILE.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return []
    return [postmaster, *children_of(postmaster)]


def wait_sessions_settled(database_url: str, max_wait_s: float = 60.0, poll_s: float = 0.5) -> int:
    """Wait (bounded) until in-flight sign-ins are done: the session count stops moving for one poll."""
    deadline = time.monotonic() + max_wait_s
    last = count_sessions(database_url)
    while time.monotonic() < deadline:
        time.sleep(poll_s)
        now = count_sessions(database_url)
        if now == last:
            return now
        last = now
    return last
