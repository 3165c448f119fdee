"""`make bench`: load the served app with wrk on SQLite and PostgreSQL and print figures.

For each engine: a fresh, migrated database with the accounts that sign in; the app and a bare
Starlette baseline (bench/bare.py) each served by uvicorn (one worker, no access log, production
settings, behind one trusted proxy); then, with wrk on loopback (50 connections, 2 threads):

  a. `viewer` req/s and p50/p95 latency through GraphQL;
  b. the same read (the app's own `authenticate`) in a bare handler, and the ratio GraphQL / bare
     (goal >= 0.75); and, for information, the floor: one Core SELECT in a bare handler;
  c. password sign-ins/s (answers with a session token) against the argon2 hash-only rate with the
     app's own parameters on every core (goal >= 0.8);
  d. the p95 of `viewer` while a sign-in storm runs, against the p95 of `viewer` alone (goal <= 2);
  e. on PostgreSQL, `viewer` req/s through `account-center serve --workers 2` over `--workers 1` (goal >= 1.6),
     both servers up, measured in alternating rounds (1 then 2, 2 then 1, ...); the least disturbed round
     counts. Each figure comes with the CPU time per request of the server (supervisor and workers), of
     PostgreSQL's processes for the run and of wrk, so it can be read on a busier machine.

AUTH-5 holds a try per client address (20), login name and account (5 each) while a password's hash
runs, so the sign-ins go round SIGNIN_ACCOUNTS accounts (each thread its share, one after the other)
and each comes from its own address (X-Forwarded-For, one trusted proxy): an account has about one
sign-in in flight. Refused sign-ins are counted by error code; above report.REFUSED_WARNING of them
the sign-in and storm ratios are void.

Usage: `make bench BENCH_ARGS="--duration 5 --sqlite-only"`, `make bench BENCH_ARGS=--workers-only` (only e.),
or `uv run python -m bench.run --help`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import secrets
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from app import build_deps
from bench import report, wrk
from bench.databases import (
    postgres_database,
    postgres_pids,
    seed_accounts,
    sqlite_url,
    wait_sessions_settled,
)
from bench.hashing import HashRate, hash_rate
from bench.machine import CpuMeter, children_cpu_s, process_cpu_s, process_tree, tree_cpu_s, wait_until_quiet
from bench.report import BUSY_WARNING, EngineResult, WorkersResult, WorkersRound
from bench.servers import Server, post_json, serve, serve_workers
from bench.wrk import Load, WrkResult
from cli import migrate
from settings import Settings

VIEWER_QUERY = "{ viewer { id accountId username } }"
SIGNIN_MUTATION = (
    "mutation SignIn($input: SessionCreateByPasswordInput!) "
    "{ sessionCreateByPassword(input: $input) { result { ... on SignedIn { token } } errors { code message } } }"
)
# The variables Settings.from_env reads (each field, upper-cased): the servers get ours, not the caller's.
SETTINGS_VARIABLES = frozenset(field.name.upper() for field in dataclasses.fields(Settings))
# The storm: viewer at the same 50 connections as when measured alone, plus 50 signing in.
STORM_VIEWER_CONNECTIONS = wrk.CONNECTIONS
STORM_SIGNIN_CONNECTIONS = 50
# Accounts that sign in: two per sign-in connection, so with each wrk thread taking its share in turn an
# account's next sign-in starts about two rounds of its thread's connections after its last one.
SIGNIN_ACCOUNTS = 2 * max(wrk.CONNECTIONS, STORM_SIGNIN_CONNECTIONS)
# The servers trust one proxy (TRUSTED_PROXY_COUNT): the client address is X-Forwarded-For's last entry.
TRUSTED_PROXY_COUNT = 1
# The storm starts this long before the viewer load and ends this long after it.
STORM_LEAD_S = 2
T = TypeVar("T")
# Below this share of all CPUs busy, the machine counts as quiet.
QUIET_THRESHOLD = 0.1


@dataclass(frozen=True, slots=True)
class Options:
    duration: int
    warmup: int
    hash_seconds: int
    retries: int
    sqlite_only: bool
    workers_only: bool = False
    workers_rounds: int = 2


@dataclass(frozen=True, slots=True)
class Loads:
    viewer: Load
    bare: Load
    core: Load
    signin: Load


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each measurement (default 2)")
    parser.add_argument(
        "--hash-seconds", type=int, default=5, help="seconds of the argon2 hash-only measurement (default 5)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="repeat a measurement disturbed by other processes at most this often (default 2)",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL (and the workers figure)")
    parser.add_argument(
        "--workers-only",
        action="store_true",
        help="only the PostgreSQL figure `serve --workers 2` over `--workers 1`",
    )
    parser.add_argument(
        "--workers-rounds",
        type=int,
        default=2,
        help="rounds of the workers figure, each measuring 1 and 2 workers back to back (default 2)",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.hash_seconds < 1 or args.warmup < 0 or args.retries < 0 or args.workers_rounds < 1:
        parser.error(
            "--duration, --hash-seconds and --workers-rounds must be at least 1, --warmup and --retries at least 0"
        )
    if args.sqlite_only and args.workers_only:
        parser.error("--workers-only runs on PostgreSQL; it cannot go with --sqlite-only")
    return Options(
        args.duration,
        args.warmup,
        args.hash_seconds,
        args.retries,
        args.sqlite_only,
        args.workers_only,
        args.workers_rounds,
    )


def say(message: str) -> None:
    print(message, flush=True)


def server_env(database_url: str) -> dict[str, str]:
    """The environment of both servers: production, no sandbox, a random secret, no sweeper, one trusted
    proxy (so each sign-in's X-Forwarded-For is its client address)."""
    # Not the caller's metrics directory either: `serve --workers 2` makes a private one (cli.metrics_directory).
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        DATABASE_URL=database_url,
        ENVIRONMENT="production",
        SANDBOX="false",
        SECRET_KEY=secrets.token_urlsafe(32),
        SWEEP_INTERVAL_SECONDS="0",
        TRUSTED_PROXY_COUNT=str(TRUSTED_PROXY_COUNT),
        PYTHONUNBUFFERED="1",
    )
    return env


def sign_in_body(login_name: str, password: str) -> str:
    return json.dumps(
        {"query": SIGNIN_MUTATION, "variables": {"input": {"loginName": login_name, "password": password}}}
    )


def sign_in(app: Server, login_name: str, password: str) -> str:
    """A session token from the served app's own sign-in mutation."""
    answer = post_json(app, "/graphql", sign_in_body(login_name, password))
    payload = (answer.get("data") or {}).get("sessionCreateByPassword") or {}
    signed_in = payload.get("result") or {}
    if not signed_in.get("token"):  # refused, or a login challenge (AUTH-6): no session
        raise RuntimeError(f"sign-in failed: {answer}")
    return str(signed_in["token"])


def check_same_answer(app: Server, bare: Server, token: str) -> None:
    """The GraphQL viewer and the bare handler must return the same, non-null document."""
    body = json.dumps({"query": VIEWER_QUERY})
    graphql_answer = post_json(app, "/graphql", body, token)
    for route in ("/viewer", "/viewer-core"):
        bare_answer = post_json(bare, route, body, token)
        if graphql_answer != bare_answer or not (graphql_answer.get("data") or {}).get("viewer"):
            raise RuntimeError(f"viewer answers differ or are empty: GraphQL {graphql_answer}, {route} {bare_answer}")


def app_hash_workers(settings: Settings) -> int | None:
    """The app's own cap on concurrent hashes, if its PasswordHasher exposes one (`workers`)."""
    workers = getattr(build_deps(settings).hasher, "workers", None)
    return workers if isinstance(workers, int) else None


class EngineBench:
    """The measurements of one engine, against its two running servers."""

    def __init__(self, engine: str, database_url: str, options: Options, wrk_path: str) -> None:
        self.engine = engine
        self.database_url = database_url
        self.options = options
        self.wrk_path = wrk_path
        self.server_pids: list[int] = []
        # Set by `prepare`: the servers' environment, a seeded login name and its password.
        self.prepared: tuple[dict[str, str], str, str] | None = None
        self.meter = CpuMeter(self._our_pids)

    def _our_pids(self) -> list[int]:
        servers = [pid for server in self.server_pids for pid in process_tree(server)]
        return servers + self._db_pids()

    def settle(self) -> None:
        """Wait (bounded) until the machine is quiet: our servers idle, other processes calm."""
        busy = wait_until_quiet(QUIET_THRESHOLD)
        if busy >= QUIET_THRESHOLD:
            say(f"  (machine still {busy:.0%} busy with other processes; measuring anyway)")

    def least_disturbed(self, label: str, once: Callable[[], T], share: Callable[[T], float]) -> T:
        """Run `once`; while other processes took more than BUSY_WARNING of the CPUs, run it again
        (at most `--retries` times) and keep the least disturbed result."""
        best = once()
        for _ in range(self.options.retries):
            if share(best) <= BUSY_WARNING:
                break
            say(f"  ({label} disturbed: other processes used {share(best):.1%} of the CPUs; measuring again)")
            again = once()
            best = again if share(again) < share(best) else best
        return best

    def warm_up(self, load: Load) -> None:
        if self.options.warmup > 0:
            wrk.run(self.wrk_path, load, self.options.warmup)

    def _db_pids(self) -> list[int]:
        return postgres_pids(self.database_url) if self.engine == "postgresql" else []

    def _db_cpu(self) -> dict[int, float]:
        return {pid: process_cpu_s(pid) for pid in self._db_pids()}

    def _wrk_once(self, load: Load) -> WrkResult:
        self.settle()
        self.meter.start()
        server_before, db_before, load_before = tree_cpu_s(load.server_pid), self._db_cpu(), children_cpu_s()
        result = wrk.run(self.wrk_path, load, self.options.duration)
        server_after, db_after, load_after = tree_cpu_s(load.server_pid), self._db_cpu(), children_cpu_s()
        # A backend the pool opened meanwhile counts from zero.
        db_s = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
        server_ms, db_ms, load_ms = (
            round(1000 * seconds / max(result.requests, 1), 3)
            for seconds in (server_after - server_before, db_s, load_after - load_before)
        )
        return replace(
            result,
            foreign_cpu=self.meter.foreign_share(),
            server_cpu_ms=server_ms,
            db_cpu_ms=db_ms,
            load_cpu_ms=load_ms,
        )

    def measure(self, label: str, load: Load) -> WrkResult:
        """A warm-up, then the measurement on a settled machine, with the foreign CPU share recorded."""
        say(f"  {label}: {load.connections} connections, {load.threads} threads, {self.options.duration} s")
        self.warm_up(load)
        return self.least_disturbed(label, lambda: self._wrk_once(load), lambda r: r.foreign_cpu)

    def _signin_once(self, load: Load) -> tuple[WrkResult, int]:
        before = wait_sessions_settled(self.database_url)
        result = self._wrk_once(load)
        return result, wait_sessions_settled(self.database_url) - before

    def measure_signins(self, label: str, load: Load) -> tuple[WrkResult, int]:
        """Like `measure`, plus the sessions created meanwhile (in-flight sign-ins drained before and after);
        the result counts the sign-ins answered with a token and the refused ones."""
        say(f"  {label}: {load.connections} connections, {load.threads} threads, {self.options.duration} s")
        self.warm_up(load)
        return self.least_disturbed(label, lambda: self._signin_once(load), lambda r: r[0].foreign_cpu)

    def _hash_once(self, settings: Settings) -> HashRate:
        self.settle()
        self.meter.start()
        rate = hash_rate(settings, os.cpu_count() or 1, self.options.hash_seconds)
        return replace(rate, foreign_cpu=self.meter.foreign_share())

    def hash_only(self, settings: Settings) -> HashRate:
        say(f"  argon2 hash-only: {os.cpu_count() or 1} threads, {self.options.hash_seconds} s")
        return self.least_disturbed("hash-only", lambda: self._hash_once(settings), lambda r: r.foreign_cpu)

    def _storm_once(self, viewer_load: Load, storm_load: Load) -> tuple[WrkResult, WrkResult]:
        duration = self.options.duration
        storm_duration = duration + 2 * STORM_LEAD_S
        wait_sessions_settled(self.database_url)
        self.settle()
        storm = wrk.start(self.wrk_path, storm_load, storm_duration)
        try:
            time.sleep(STORM_LEAD_S)
            self.meter.start()
            viewer = wrk.run(self.wrk_path, viewer_load, duration)
            viewer = replace(viewer, foreign_cpu=self.meter.foreign_share())
        except BaseException:
            wrk.kill(storm)
            raise
        signins = wrk.finish(storm, storm_load, storm_duration)
        wait_sessions_settled(self.database_url)
        return viewer, signins

    def storm(self, loads: Loads) -> tuple[WrkResult, WrkResult]:
        """viewer for `duration` s inside a sign-in storm that starts earlier and ends later."""
        viewer_load = replace(loads.viewer, connections=STORM_VIEWER_CONNECTIONS)
        storm_load = replace(loads.signin, connections=STORM_SIGNIN_CONNECTIONS)
        say(
            f"  storm: viewer at {viewer_load.connections} connections for {self.options.duration} s inside a "
            f"sign-in storm at {storm_load.connections} connections for {self.options.duration + 2 * STORM_LEAD_S} s"
        )
        return self.least_disturbed(
            "storm", lambda: self._storm_once(viewer_load, storm_load), lambda r: r[0].foreign_cpu
        )

    def prepare(self) -> tuple[dict[str, str], Settings, list[str], str]:
        """Migrate and seed the run's database: (server environment, settings, login names, password)."""
        migrate(self.database_url)
        env = server_env(self.database_url)
        settings = Settings.from_env(env)
        login_names, password = seed_accounts(settings, SIGNIN_ACCOUNTS)
        self.prepared = (env, login_names[0], password)
        return env, settings, login_names, password

    def workers(self, log_dir: Path) -> WorkersResult:
        """`viewer` through `account-center serve --workers 1` and `--workers 2`, both up, in alternating
        rounds: each round measures one then the other back to back, so both see the same machine. While
        every round was disturbed by other processes, up to `--retries` more rounds run."""
        if self.prepared is None:
            raise RuntimeError("the database is not prepared (EngineBench.prepare)")
        env, login_name, password = self.prepared
        say(f"== {self.engine}: `serve --workers 1` and `serve --workers 2` side by side")
        with (
            serve_workers(f"{self.engine}-workers-1", 1, env, log_dir) as one,
            serve_workers(f"{self.engine}-workers-2", 2, env, log_dir) as two,
        ):
            self.server_pids = [one.pid, two.pid]
            token = sign_in(one, login_name, password)
            viewer_body = json.dumps({"query": VIEWER_QUERY})
            for server in (one, two):  # both answer the same, non-null viewer
                answer = post_json(server, "/graphql", viewer_body, token)
                if not (answer.get("data") or {}).get("viewer"):
                    raise RuntimeError(f"{server.name} answered no viewer: {answer}")
            loads = {
                1: Load(one.url("/graphql"), viewer_body, token, server_pid=one.pid),
                2: Load(two.url("/graphql"), viewer_body, token, server_pid=two.pid),
            }
            rounds: list[WorkersRound] = []
            limit = self.options.workers_rounds + self.options.retries
            for i in range(limit):
                if i >= self.options.workers_rounds and min(r.foreign_cpu for r in rounds) <= BUSY_WARNING:
                    break  # the rounds asked for, and one of them undisturbed
                if i >= self.options.workers_rounds:
                    say(f"  (every round disturbed by other processes; round {i + 1} of at most {limit})")
                order = (1, 2) if i % 2 == 0 else (2, 1)
                load_average = round(os.getloadavg()[0], 2)
                measured: dict[int, WrkResult] = {}
                for n in order:
                    say(
                        f"  round {i + 1}: viewer, {n} worker{'s' if n > 1 else ''}, {wrk.CONNECTIONS} connections, "
                        f"{wrk.THREADS} threads, {self.options.duration} s (load average {os.getloadavg()[0]:.2f})"
                    )
                    self.warm_up(loads[n])
                    measured[n] = self._wrk_once(loads[n])
                rounds.append(WorkersRound(measured[1], measured[2], load_average))
        result = WorkersResult(self.engine, tuple(rounds), os.cpu_count() or 1)
        for line in report.workers_table(result):
            say(line)
        return result

    def run(self, log_dir: Path) -> EngineResult:
        say(f"== {self.engine}: migrate, seed {SIGNIN_ACCOUNTS} accounts, start the app and the bare baseline")
        env, settings, login_names, password = self.prepare()
        with servers(self.engine, env, log_dir) as (app, bare):
            self.server_pids = [app.pid, bare.pid]
            token = sign_in(app, login_names[0], password)
            check_same_answer(app, bare, token)
            viewer_body = json.dumps({"query": VIEWER_QUERY})
            loads = Loads(
                viewer=Load(app.url("/graphql"), viewer_body, token, server_pid=app.pid),
                bare=Load(bare.url("/viewer"), viewer_body, token, server_pid=bare.pid),
                core=Load(bare.url("/viewer-core"), viewer_body, token, server_pid=bare.pid),
                signin=Load(
                    app.url("/graphql"),
                    sign_in_body(wrk.LOGIN_NAME_SLOT, password),
                    server_pid=app.pid,
                    login_names=tuple(login_names),
                ),
            )
            viewer = self.measure("viewer (GraphQL)", loads.viewer)
            bare_result = self.measure("viewer (bare Starlette, the same read)", loads.bare)
            core_result = self.measure("viewer (bare Starlette, Core floor)", loads.core)
            signin, created = self.measure_signins("sign-in (sessionCreateByPassword)", loads.signin)
            hashing = self.hash_only(settings)
            storm_viewer, storm_signin = self.storm(loads)
        result = EngineResult(
            self.engine,
            viewer,
            bare_result,
            signin,
            created,
            hashing,
            storm_viewer,
            storm_signin,
            app_hash_workers(settings),
            core_result,
        )
        for line in report.engine_table(result):
            say(line)
        return result


@contextlib.contextmanager
def servers(engine: str, env: dict[str, str], log_dir: Path) -> Iterator[tuple[Server, Server]]:
    with (
        serve(f"{engine}-app", "app:create_app", env, log_dir) as app,
        serve(f"{engine}-bare", "bench.bare:create_app", env, log_dir) as bare,
    ):
        yield app, bare


@dataclass(slots=True)
class Outcome:
    results: list[EngineResult]
    notes: list[str]
    failed: bool = False
    workers: WorkersResult | None = None


def run(options: Options) -> Outcome:
    """Both engines in turn; a failed engine is reported and does not hide the other's figures."""
    wrk_path = wrk.ensure_wrk()
    outcome = Outcome([], [])
    with tempfile.TemporaryDirectory(prefix="ac-bench-") as tmp:
        tmpdir = Path(tmp)
        if options.workers_only:
            say("== sqlite: skipped (--workers-only)")
        else:
            _run_engine(
                outcome, "sqlite", lambda: contextlib.nullcontext(sqlite_url(tmpdir)), options, wrk_path, tmpdir
            )
        if options.sqlite_only:
            outcome.notes.append("PostgreSQL skipped (--sqlite-only)")
            say("== postgresql: skipped (--sqlite-only)")
        else:
            _run_engine(outcome, "postgresql", postgres_database, options, wrk_path, tmpdir)
    return outcome


def _run_engine(
    outcome: Outcome,
    engine: str,
    database: Callable[[], contextlib.AbstractContextManager[str]],
    options: Options,
    wrk_path: str,
    log_dir: Path,
) -> None:
    try:
        with database() as url:
            bench = EngineBench(engine, url, options, wrk_path)
            if not options.workers_only:
                outcome.results.append(bench.run(log_dir))
            if engine == "postgresql":  # several workers are for PostgreSQL (SQLite has one writer)
                if options.workers_only:
                    say(f"== {engine}: migrate, seed {SIGNIN_ACCOUNTS} accounts")
                    bench.prepare()
                outcome.workers = bench.workers(log_dir)
    except Exception as exc:  # report it, keep the other engine's figures, exit non-zero
        traceback.print_exc()
        _print_server_logs(log_dir, engine)
        outcome.notes.append(f"{engine} FAILED: {exc}".splitlines()[0])
        outcome.failed = True


def _print_server_logs(log_dir: Path, engine: str) -> None:
    for log in sorted(log_dir.glob(f"{engine}-*.log")):
        text = log.read_text(errors="replace").strip()
        if text:
            print(f"--- {log.name} (last lines)", file=sys.stderr)
            print("\n".join(text.splitlines()[-20:]), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    say(
        f"bench: wrk, {wrk.CONNECTIONS} connections, {wrk.THREADS} threads, {options.duration} s per measurement "
        f"(+{options.warmup} s warm-up), one uvicorn worker per server (but the workers figure), 127.0.0.1, "
        f"{os.cpu_count()} CPUs"
    )
    try:
        outcome = run(options)
    except KeyboardInterrupt:  # the context managers have stopped the servers and dropped the database
        say("bench: interrupted")
        return 130
    for line in report.summary(outcome.results, outcome.notes, outcome.workers):
        say(line)
    path = report.write_json(
        outcome.results,
        outcome.notes,
        {
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "hash_seconds": options.hash_seconds,
            "retries": options.retries,
            "connections": wrk.CONNECTIONS,
            "threads": wrk.THREADS,
            "storm_viewer_connections": STORM_VIEWER_CONNECTIONS,
            "storm_signin_connections": STORM_SIGNIN_CONNECTIONS,
            "signin_accounts": SIGNIN_ACCOUNTS,
            "trusted_proxy_count": TRUSTED_PROXY_COUNT,
            "workers_rounds": options.workers_rounds,
        },
        outcome.workers,
    )
    say(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
