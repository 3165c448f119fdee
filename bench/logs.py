"""What the JSON logs cost (`python -m bench.logs`): one access line alone, next to a plain standard-library
line, and a whole `/healthz` request through the app's middleware with and without its access line written.
Each figure is the median of several alternating rounds in the same run; the ratios are what to compare."""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any

import logs
from app import create_app
from settings import Settings

ROUNDS = 7
LINES = 5000
REQUESTS = 3000


def _per_call_us(fn: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


async def _requests_us(app: Any, n: int) -> float:
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": "/healthz",
             "raw_path": b"/healthz", "query_string": b"", "root_path": "", "headers": [(b"host", b"bench")],
             "client": ("127.0.0.1", 1), "server": ("bench", 80)}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Any) -> None:
        return None

    started = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db", environment="test", sweep_interval_seconds=0
    )
    app = create_app(settings)
    devnull = open(os.devnull, "w")  # noqa: SIM115  # lives as long as the process
    access = logs.get_logger(logs.ACCESS_LOGGER)
    plain = logging.getLogger("bench.plain")
    fields = {"method": "GET", "path": "/healthz", "status": 200, "duration_ms": 1.23, "client": "127.0.0.1"}
    line_us: list[float] = []
    plain_us: list[float] = []
    without_us: list[float] = []
    with_us: list[float] = []
    root = logging.getLogger()
    for _ in range(ROUNDS):
        # No handler configured: the access line is dropped at the level check (uvicorn --factory, tests).
        for handler in [h for h in root.handlers if h.get_name() == "account_center"]:
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)
        without_us.append(asyncio.run(_requests_us(app, REQUESTS)))
        handler = logs.configure_logging(replace(settings, log_level="INFO"), stream=devnull)
        with_us.append(asyncio.run(_requests_us(app, REQUESTS)))
        line_us.append(_per_call_us(lambda: access.info("request", **fields), LINES))
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        plain_us.append(_per_call_us(lambda: plain.info("GET /healthz 200"), LINES))
    line, plain_line = statistics.median(line_us), statistics.median(plain_us)
    without, with_ = statistics.median(without_us), statistics.median(with_us)
    print(f"median of {ROUNDS} rounds, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"one JSON access line: {line:.1f} us; a plain stdlib line: {plain_line:.1f} us ({line / plain_line:.1f}x)")
    print(
        f"/healthz through the app: {with_:.1f} us with the access line written, {without:.1f} us without "
        f"(+{with_ - without:.1f} us)"
    )


if __name__ == "__main__":
    main()
