"""Fresh databases for one run (a SQLite file in a temp dir, or `bench_<random>` on the PostgreSQL at
127.0.0.1:55432), the accounts that sign in, and the session count."""

from __future__ import annotations

import asyncio
import contextlib
import re
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
from models.accounts import Account
from models.auth import AuthSession
from services.accounts import repository as accounts_repo
from services.database import Database, run_write
from services.errors import ServiceError
from services.uow import Uow
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCRIPT = ROOT / "scripts" / "postgres.sh"
POSTGRES_PORT = 55432  # scripts/postgres.sh's default
POSTGRES_ADMIN_URL = f"postgresql+asyncpg://postgres@127.0.0.1:{POSTGRES_PORT}/postgres"  # what the script prints
ADMIN_TIMEOUT_S = 30.0
# The sign-in accounts of a run, in its throw-away database only.
SIGNIN_USERNAME_PREFIX = "bench-signin-"
SIGNIN_PASSWORD = "Bench-Sign-In-2026!"
SIGNIN_ACCOUNT_NUMBERS = 2000000000000000  # REG-6 account numbers from here on


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'bench.db'}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Create `bench_<random>` on the PostgreSQL listening on 127.0.0.1:55432 and drop it afterwards. When
    nothing listens there, start scripts/postgres.sh's private cluster first (and stop it at the end); a
    server already listening is used as it is (the script would try to start a second one on its port)."""
    started_here = not _listening(POSTGRES_PORT)
    admin_url = POSTGRES_ADMIN_URL
    if started_here:
        result = subprocess.run(
            [str(POSTGRES_SCRIPT), "start"], capture_output=True, text=True, check=False, timeout=120
        )
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
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

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


def seed_accounts(settings: Settings, count: int) -> tuple[list[str], str]:
    """`count` active cloud accounts (bench-signin-000, ...) sharing one password, each on its own phone,
    created in one write through the accounts repository; return (login names, password).

    The demo seed is refused in production (its passwords are published), and one account could not take
    the sign-in load anyway: AUTH-5 holds a try per account while its hash runs. The password is hashed
    once, before the transaction; every account stores that hash."""
    names = [f"{SIGNIN_USERNAME_PREFIX}{i:03d}" for i in range(count)]
    deps = build_deps(settings)
    password_hash = deps.hasher.hash_sync(SIGNIN_PASSWORD)

    async def create(uow: Uow) -> None:
        now = uow.now()
        for i, name in enumerate(names):
            phone = f"+86139{i:08d}"
            if not await accounts_repo.take_cloud_slot(uow, phone):
                raise RuntimeError(f"no cloud account slot left on {phone}")
            await accounts_repo.add(
                uow,
                Account(
                    kind="cloud",
                    status="active",
                    account_number=SIGNIN_ACCOUNT_NUMBERS + i,
                    username=name,
                    username_key=name,
                    phone=phone,
                    password_hash=password_hash,
                    idle_timeout_minutes=60,
                    login_protection_sms=False,
                    login_protection_totp=False,
                    contact_name=name,
                    created_at=now,
                    activated_at=now,
                    password_changed_at=now,
                ),
            )

    async def main() -> None:
        db = Database(settings.database_url)
        try:
            result = await run_write(db, deps, create)
        finally:
            await db.dispose()
        if isinstance(result, ServiceError):
            raise RuntimeError(f"seeding failed: {result.message}")

    asyncio.run(main())
    return names, SIGNIN_PASSWORD


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


def postgres_pids(database_url: str) -> list[int]:
    """The PostgreSQL processes working for this run: the postmaster, its background processes, and the
    backends connected to our database; other databases' backends (someone else's tests on a shared
    server) stay foreign. Found from the process titles of the backends our servers opened."""
    database = make_url(database_url).database
    titles = {pid: title for pid, title in _process_titles() if title.startswith("postgres: ")}
    ours = [pid for pid, title in titles.items() if _client_backend_database(title) == database]
    postmasters = {_parent(pid) for pid in ours} - {None}
    background = [
        pid
        for postmaster in postmasters
        if postmaster is not None
        for pid in children_of(postmaster)
        if pid in titles and _client_backend_database(titles[pid]) is None
    ]
    return sorted({*ours, *background, *(p for p in postmasters if p is not None)})


# A backend's title: "postgres: <user> <database> <host>(<port>) <state>"; background processes have none.
CLIENT_BACKEND_TITLE = re.compile(r"^postgres: \S+ (\S+) \S+\(\d+\)")


def _client_backend_database(title: str) -> str | None:
    match = CLIENT_BACKEND_TITLE.match(title)
    return match.group(1) if match else None


def _process_titles() -> Iterator[tuple[int, str]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                yield int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


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
