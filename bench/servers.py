"""Servers on loopback, waited for with a health check and always stopped: uvicorn with one worker (`serve`),
or `account-center serve --workers N` (`serve_workers`), a supervisor and N worker processes."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machine import children_of

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    port: int
    pid: int
    log_path: Path

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"


def free_port() -> int:
    """A port the kernel reports free, by binding port 0 on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(name: str, factory: str, env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    """Run `uvicorn <factory> --factory` (one worker, no access log) until the block exits."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with _run(name, cmd, port, env, log_dir, workers=0) as server:
        yield server


@contextlib.contextmanager
def serve_workers(name: str, workers: int, env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    """Run `account-center serve --workers N --no-access-log` until the block exits; ready once every worker
    process runs and /healthz answers. With N = 1 it is one process; otherwise `Server.pid` is uvicorn's
    supervisor and the workers are its children (bench.machine.tree_cpu_s counts them all)."""
    port = free_port()
    cmd = [
        sys.executable,
        str(ROOT / "cli.py"),
        "serve",
        "--workers",
        str(workers),
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
    ]
    with _run(name, cmd, port, env, log_dir, workers=workers if workers > 1 else 0) as server:
        yield server


@contextlib.contextmanager
def _run(name: str, cmd: list[str], port: int, env: dict[str, str], log_dir: Path, workers: int) -> Iterator[Server]:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server = Server(name, port, process.pid, log_path)
        _wait_healthy(server, process, workers)
        yield server
    finally:
        _stop(process)


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes uvicorn spawned under `supervisor` (multiprocessing's `spawn_main`), not
    multiprocessing's resource tracker."""
    found = []
    for child in children_of(supervisor):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                found.append(child)
    return found


def _wait_healthy(server: Server, process: subprocess.Popen[bytes], workers: int = 0) -> None:
    """Until /healthz answers 200 and, with `workers`, that many worker processes run."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{server.name} server exited with {process.returncode}:\n{_tail(server.log_path)}")
        with contextlib.suppress(OSError):
            status, _ = request(server.port, "GET", "/healthz", timeout=1.0)
            if status == 200 and (workers == 0 or len(worker_pids(process.pid)) == workers):
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} server not healthy after {START_TIMEOUT_S:.0f} s:\n{_tail(server.log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # Its own session (start_new_session): the group holds uvicorn's worker processes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def request(
    port: int, method: str, path: str, body: str | None = None, token: str | None = None, timeout: float = 30.0
) -> tuple[int, bytes]:
    """One plain HTTP request to a loopback server: (status, body)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post_json(server: Server, path: str, body: str, token: str | None = None) -> Any:
    status, raw = request(server.port, "POST", path, body, token)
    if status != 200:
        raise RuntimeError(f"{server.name} {path} answered {status}: {raw[:500]!r}")
    return json.loads(raw)
