"""`account-center serve --workers N` (issue 16): N uvicorn worker processes on one port and one database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.loopback import listening_socket, port_of

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    # The serving processes bind the port themselves: found free, then released (a small window remains in
    # which another test could take it; the start-up check below would then fail loudly, not hang).
    sock = listening_socket()
    try:
        return port_of(sock)
    finally:
        sock.close()


def _workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned under `pid` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        and b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited before serving"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200 and len(_workers_of(process.pid)) == workers:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # waits for the server processes to start, not for the test clock
    raise AssertionError("serve --workers did not start")


def test_serve_with_two_workers_answers_from_two_processes_on_one_port(settings, tmp_path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,  # a file SQLite database, or the run's PostgreSQL one
        "ENVIRONMENT": "test",
        "SANDBOX": "true",
        "SWEEP_INTERVAL_SECONDS": "0",
    }
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, str(ROOT / "cli.py"), "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process, workers=2)
        # Two worker processes under the supervisor, each with its own PID
        workers = _workers_of(process.pid)
        assert len(set(workers)) == 2
        # And requests over fresh connections, each reading the database, all succeed
        for _ in range(20):
            response = httpx.post(f"{base}/graphql", json={"query": "{ viewer { id } }"}, timeout=10)
            assert response.status_code == 200
            assert response.json() == {"data": {"viewer": None}}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    # The supervisor stops its workers and exits cleanly
    assert process.returncode == 0, err.decode()[-2000:]
    assert all(not Path(f"/proc/{w}").exists() or b"zombie" in Path(f"/proc/{w}/status").read_bytes() for w in workers)
