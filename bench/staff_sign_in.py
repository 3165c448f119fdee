"""A back-office sign-in storm and a bystander write (issue: argon2 ran inside the write transaction).

SQLite file database, production argon2 parameters, the app in process. N bogus reviewer sign-ins
(wrong passwords, each from its own client address so every one is judged) are posted to the login
form at once, `--runs` times. While a storm lasts
- every 5 ms it probes SQLite's write lock from a plain connection (BEGIN IMMEDIATE with no busy
  wait): the share of probes that find it held says how long the storm keeps other writers out;
- every 10 ms it runs another use case's write (a one-row UPDATE through `run_write`, as any API
  mutation does) and times it.
This process's writers queue for SQLite's lock in arrival order (`Database.write_queue`), so the
bystander's latency is the time the storm's short writes hold the lock, not a busy-wait lottery.

    .venv/bin/python -m bench.staff_sign_in [--signins 38] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app import create_app
from cli import migrate
from services import database
from services.review import reviewers
from services.uow import Uow
from settings import Settings

PASSWORD = "Bench-Reviewer-Passphrase-1"


async def _bystander(uow: Uow) -> None:
    await reviewers.touch(uow, 1)


def _write_lock_held(path: Path) -> bool:
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


async def _probe(storm: asyncio.Future[Any], path: Path, held: list[bool]) -> None:
    while not storm.done():
        held.append(_write_lock_held(path))
        await asyncio.sleep(0.005)


async def _bystander_writes(storm: asyncio.Future[Any], db: database.Database, deps: Any, took: list[float]) -> None:
    while not storm.done():
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        await database.run_write(db, deps, _bystander)
        took.append(time.perf_counter() - started)


async def _post(app: Any, address: str, csrf: str) -> int:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", cookies={"bo_csrf": csrf}) as c:
        data = {"csrf": csrf, "username": "bench.reviewer", "password": "Wrong-Passphrase-00", "code": "000000"}
        return (await c.post("/backoffice/login", data=data)).status_code


async def run(path: Path, signins: int, runs: int) -> None:
    url = f"sqlite+aiosqlite:///{path}"
    settings = Settings(database_url=url, environment="test", sweep_interval_seconds=0)
    db = database.Database(url)
    app = create_app(settings, db=db)
    deps = app.state.deps
    created = await database.run_write(
        db, deps, reviewers.add_reviewer, username="bench.reviewer", display_name="Bench", role="reviewer",
        password=PASSWORD,
    )  # fmt: skip
    assert isinstance(created, reviewers.NewReviewer), created
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
        page = await c.get("/backoffice/login")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    during: list[float] = []
    held: list[bool] = []
    storms: list[float] = []
    for n in range(runs):
        began = time.perf_counter()
        storm = asyncio.gather(*[_post(app, f"198.51.{n}.{i}", match.group(1)) for i in range(signins)])
        await asyncio.gather(_probe(storm, path, held), _bystander_writes(storm, db, deps, during))
        storms.append(time.perf_counter() - began)
        assert set(await storm) == {401}
    await db.dispose()
    during.sort()
    print(f"{signins} bogus sign-ins at once, {runs} runs, argon2 m={settings.argon2_memory_kib} KiB t=2")
    print(f"storm lasted:               median {statistics.median(storms) * 1000:.0f} ms")
    print(f"write lock held:            {sum(held) / len(held):.0%} of {len(held)} probes during the storms")
    print(
        f"bystander write:            {len(during)} writes, median {statistics.median(during) * 1000:.1f} ms,"
        f" p95 {during[int(len(during) * 0.95)] * 1000:.1f} ms, max {during[-1] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signins", type=int, default=38)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        migrate(f"sqlite+aiosqlite:///{path}")
        asyncio.run(run(path, args.signins, args.runs))


if __name__ == "__main__":
    main()
