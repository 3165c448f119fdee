"""`make bench`, part 2: the back-office queue page with 1,000 and with 1,000,000 items (REV-2).

SQLite file database; the items go in with one bulk INSERT per 50,000 rows. A reviewer signs in
through the real sign-in form (password + TOTP), then wrk loads `GET /backoffice/queues/2` (the
first page, sorted by due time) with the session cookie, one uvicorn worker: one connection (a
reviewer working the queue) and 50 connections (throughput). Goal: p95 under 50 ms with 1,000,000
items, for the reviewer.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp

from app import build_deps
from bench import wrk
from bench.run import server_env
from bench.servers import serve
from cli import migrate
from services.database import Database, run_write
from services.review import reviewers
from settings import Settings

PASSWORD = "Bench-Reviewer-Passphrase-1"
GOAL_P95_MS = 50.0


def seed_items(path: Path, count: int) -> None:
    """One account and `count` pending items in the 2-day queue, due times spread over a year."""
    start = datetime(2026, 11, 26, tzinfo=UTC).replace(tzinfo=None)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO accounts (kind, status, account_number, phone, idle_timeout_minutes, op_protection_sms,"
            " op_protection_totp, login_protection_sms, login_protection_totp, created_at)"
            " VALUES ('cloud', 'active', 1000000000000001, '+8613700000001', 60, 1, 0, 0, 0, ?)",
            (start.isoformat(" "),),
        )
        account_id = conn.execute("SELECT id FROM accounts").fetchone()[0]
        batch = 50_000
        for offset in range(0, count, batch):
            rows = [
                (
                    "org_face",
                    i,
                    account_id,
                    (start + timedelta(seconds=i * 30)).isoformat(" "),
                    (start + timedelta(seconds=i * 30, days=3)).isoformat(" "),
                )
                for i in range(offset, min(offset + batch, count))
            ]
            conn.executemany(
                "INSERT INTO review_items (kind, subject_id, account_id, queue_days, state, submitted_at, due_at)"
                " VALUES (?, ?, ?, 2, 'pending', ?, ?)",
                rows,
            )
        conn.execute("ANALYZE")


def add_reviewer(settings: Settings) -> str:
    async def main() -> str:
        db = Database(settings.database_url)
        try:
            created = await run_write(
                db, build_deps(settings), reviewers.add_reviewer,
                username="bench", display_name="Bench", role="reviewer", password=PASSWORD,
            )  # fmt: skip
        finally:
            await db.dispose()
        assert isinstance(created, reviewers.NewReviewer), created
        return created.provisioning_uri

    return asyncio.run(main())


def sign_in(base: str, uri: str) -> str:
    with httpx.Client(base_url=base) as client:
        page = client.get("/backoffice/login")
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match, page.text
        code = pyotp.parse_uri(uri).now()
        form = {"csrf": match.group(1), "username": "bench", "password": PASSWORD, "code": code}
        # Production cookies are Secure; over loopback http they are passed by hand.
        pre = page.cookies["bo_csrf"]
        answer = client.post("/backoffice/login", data=form, headers={"cookie": f"bo_csrf={pre}"})
        assert answer.status_code == 303, answer.text
        return f"bo_session={answer.cookies['bo_session']}"


def measure(count: int, duration: int) -> dict[int, wrk.WrkResult]:
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        path = Path(tmp) / "queue.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate(url)
        seed_items(path, count)
        env = server_env(url)
        env["SECRET_KEY"] = secrets.token_urlsafe(32)
        settings = Settings.from_env(env)
        uri = add_reviewer(settings)
        with serve(f"queue-{count}", "app:create_app", env, Path(tmp)) as server:
            cookie = sign_in(server.url(""), uri)
            results = {}
            for connections in (1, 50):
                load = wrk.Load(
                    server.url("/backoffice/queues/2"),
                    "",
                    method="GET",
                    cookie=cookie,
                    server_pid=server.pid,
                    connections=connections,
                    threads=1 if connections == 1 else wrk.THREADS,
                )
                wrk.run(wrk.ensure_wrk(), load, 2)  # warm-up
                results[connections] = wrk.run(wrk.ensure_wrk(), load, duration)
            return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.queue", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--items", type=int, default=1_000_000)
    args = parser.parse_args()
    print("== back-office queue page (SQLite, first page of the 2-day queue, one uvicorn worker)", flush=True)
    small = measure(1_000, args.duration)
    big = measure(args.items, args.duration)
    for connections in (1, 50):
        s, b = small[connections], big[connections]
        line = (
            f"  {connections:2d} connection{'s' if connections > 1 else ' '} | 1,000 items {s.rps:6.0f} req/s"
            f" p50 {s.p50_ms:6.1f} ms p95 {s.p95_ms:6.1f} ms | {args.items:,} items {b.rps:6.0f} req/s"
            f" p50 {b.p50_ms:6.1f} ms p95 {b.p95_ms:6.1f} ms | p95 ratio {b.p95_ms / s.p95_ms:.2f}"
        )
        if connections == 1:
            line += f" | goal p95 < {GOAL_P95_MS:g} ms {'met' if b.p95_ms < GOAL_P95_MS else 'MISSED'}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
