"""Debian's `wrk` as the load generator: install it if needed, run it, parse the Lua summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LUA_SCRIPT = Path(__file__).resolve().parent / "lua" / "post.lua"
THREADS = 2
CONNECTIONS = 50
# wrk's default socket timeout (2 s) would drop slow sign-ins from the latency statistics.
SOCKET_TIMEOUT_S = 30
# How long past its duration a wrk process may take before it is killed.
GRACE_S = SOCKET_TIMEOUT_S + 15
RESULT_PREFIX = "BENCH_RESULT "
# In a sign-in body, the Lua script puts the login name of each request in place of this.
LOGIN_NAME_SLOT = "LOGIN_NAME_SLOT"


@dataclass(frozen=True, slots=True)
class Load:
    """One wrk run: POST `body` to `url`, optionally with a bearer token.

    With `login_names` (sign-ins), each request puts the next of them in place of LOGIN_NAME_SLOT in
    `body` and sends its own X-Forwarded-For address, and each answer is counted as a token or a refusal
    (see lua/post.lua)."""

    url: str
    body: str
    token: str | None = None
    connections: int = CONNECTIONS
    threads: int = THREADS
    server_pid: int = 0  # the process answering (with its worker processes), to charge its CPU time per request
    method: str = "POST"
    cookie: str | None = None
    login_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WrkResult:
    connections: int
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: dict[str, int]
    # Sign-in loads only (Load.login_names): answers carrying a session token, and the others by the
    # payload's first error code (or HTTP_<status>, NO_TOKEN); together they are all answers.
    signed_in: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    # Set by the caller: the share of all CPUs used by other processes meanwhile (bench.machine),
    # and the CPU time per answered request of the server (all its threads and worker processes), of
    # the database's processes working for the run (PostgreSQL; 0 on SQLite, inside the server), and of
    # wrk itself.
    foreign_cpu: float = 0.0
    server_cpu_ms: float = 0.0
    db_cpu_ms: float = 0.0
    load_cpu_ms: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def refused_count(self) -> int:
        return sum(self.refused.values())

    @property
    def refused_share(self) -> float:
        """Refused sign-ins among all answered ones (0 when nothing was answered)."""
        answered = self.signed_in + self.refused_count
        return self.refused_count / answered if answered else 0.0

    @property
    def signed_in_rps(self) -> float:
        """Sign-ins that got a session token, per second (refusals are cheap and left out)."""
        return round(self.signed_in / self.duration_s, 1) if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensure_wrk() -> str:
    """The path of `wrk`, installing Debian's package when we are root; exit with a message otherwise."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("bench: `wrk` is not installed; run `sudo apt-get install -y wrk` and try again.")
    print("bench: installing wrk with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=False, timeout=600).returncode != 0:
        # The package lists may be missing or stale on a fresh machine.
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, timeout=600)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=False, timeout=600)
    found = shutil.which("wrk")
    if not found:
        sys.exit("bench: `apt-get install -y wrk` did not provide wrk; install it by hand and try again.")
    return found


def start(wrk: str, load: Load, duration_s: int) -> subprocess.Popen[str]:
    """Start wrk in the background; pair with `finish`."""
    cmd = [
        wrk,
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{duration_s}s",
        f"--timeout={SOCKET_TIMEOUT_S}s",
        "-s",
        str(LUA_SCRIPT),
        load.url,
    ]
    env = {
        **os.environ,
        "BENCH_BODY": load.body,
        "BENCH_TOKEN": load.token or "",
        "BENCH_METHOD": load.method,
        "BENCH_COOKIE": load.cookie or "",
        "BENCH_LOGIN_NAMES": ",".join(load.login_names),
        "BENCH_THREADS": str(load.threads),
    }
    return subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a Ctrl-C reaches us, and we stop wrk ourselves
    )


def finish(process: subprocess.Popen[str], load: Load, duration_s: int) -> WrkResult:
    """Wait for wrk (bounded), kill it if it overruns, and parse its summary line."""
    try:
        output, _ = process.communicate(timeout=duration_s + GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(f"wrk did not finish within {duration_s + GRACE_S} s") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return parse(output, load.connections)


def kill(process: subprocess.Popen[str]) -> None:
    """Stop a wrk started with `start` without waiting for its duration (on errors)."""
    if process.poll() is None:
        process.kill()
    process.communicate()


def run(wrk: str, load: Load, duration_s: int) -> WrkResult:
    return finish(start(wrk, load, duration_s), load, duration_s)


def parse(output: str, connections: int) -> WrkResult:
    line = next((ln for ln in output.splitlines() if ln.startswith(RESULT_PREFIX)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    raw = json.loads(line.removeprefix(RESULT_PREFIX))
    duration_s = raw["duration_us"] / 1e6
    return WrkResult(
        connections=connections,
        requests=raw["requests"],
        duration_s=round(duration_s, 3),
        rps=round(raw["requests"] / duration_s, 1) if duration_s > 0 else 0.0,
        p50_ms=_ms(raw["p50_us"]),
        p95_ms=_ms(raw["p95_us"]),
        p99_ms=_ms(raw["p99_us"]),
        mean_ms=_ms(raw["mean_us"]),
        max_ms=_ms(raw["max_us"]),
        errors={k: int(v) for k, v in raw["errors"].items()},
        signed_in=int(raw.get("signed_in", 0)),
        refused={k: int(v) for k, v in raw.get("refused", {}).items()},
    )


def _ms(microseconds: float) -> float:
    return round(microseconds / 1000, 2)
