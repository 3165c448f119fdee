"""Figures of one run: the per-engine table, the goals, and bench/results/latest.json."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.hashing import HashRate
from bench.wrk import WrkResult

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# The goals (docs/architecture.md, "Benchmarks"): ratios measured in the same run.
VIEWER_RATIO_GOAL = 0.75  # GraphQL viewer req/s / bare Starlette doing the same read, at least
SIGNIN_RATIO_GOAL = 0.8  # password sign-ins/s / argon2 hash-only/s, at least
STORM_RATIO_GOAL = 2.0  # viewer p95 during a sign-in storm / viewer p95 alone, at most
WORKERS_RATIO_GOAL = 1.6  # PostgreSQL viewer req/s with `serve --workers 2` / with `--workers 1`, at least
# Above this share of all CPUs used by other processes during a measurement, it is flagged.
BUSY_WARNING = 0.1
# Above this share of refused sign-ins (e.g. TOO_MANY_ATTEMPTS), a load measured refusals, not sign-ins:
# the goals that rest on it are void.
REFUSED_WARNING = 0.01


@dataclass(frozen=True, slots=True)
class EngineResult:
    engine: str
    viewer: WrkResult
    bare: WrkResult
    signin: WrkResult
    sessions_created: int
    hashing: HashRate
    storm_viewer: WrkResult
    storm_signin: WrkResult
    # How many argon2 hashes the app runs at once, when its PasswordHasher says (None: unknown).
    app_hash_workers: int | None = None
    # The floor: the same answer from one Core SELECT, no ORM (information, no goal).
    core: WrkResult | None = None

    @property
    def viewer_ratio(self) -> float:
        return _ratio(self.viewer.rps, self.bare.rps)

    @property
    def signin_ratio(self) -> float:
        return _ratio(self.signin.signed_in_rps, self.hashing.per_second)

    @property
    def storm_ratio(self) -> float:
        return _ratio(self.storm_viewer.p95_ms, self.viewer.p95_ms)

    def goals(self) -> list[Goal]:
        return [
            Goal(self.engine, "viewer rps / bare rps", self.viewer_ratio, ">=", VIEWER_RATIO_GOAL),
            Goal(
                self.engine,
                "sign-ins/s / hash-only/s",
                self.signin_ratio,
                ">=",
                SIGNIN_RATIO_GOAL,
                _void_if_refused(self.signin),
            ),
            Goal(
                self.engine,
                "viewer p95 under storm / alone",
                self.storm_ratio,
                "<=",
                STORM_RATIO_GOAL,
                _void_if_refused(self.storm_signin),
            ),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "viewer": self.viewer.as_dict(),
            "bare": self.bare.as_dict(),
            "viewer_ratio": self.viewer_ratio,
            "core": self.core.as_dict() if self.core else None,
            "viewer_core_ratio": _ratio(self.viewer.rps, self.core.rps) if self.core else None,
            "signin": self.signin.as_dict(),
            "signin_sessions_created": self.sessions_created,
            "signin_refused_share": round(self.signin.refused_share, 4),
            "argon2_hash_only": asdict(self.hashing),
            "app_hash_workers": self.app_hash_workers,
            "signin_ratio": self.signin_ratio,
            "storm_viewer": self.storm_viewer.as_dict(),
            "storm_signin": self.storm_signin.as_dict(),
            "storm_signin_refused_share": round(self.storm_signin.refused_share, 4),
            "storm_p95_ratio": self.storm_ratio,
        }


@dataclass(frozen=True, slots=True)
class WorkersRound:
    """One round of the workers figure: `viewer` against `serve --workers 1`, then against `--workers 2`
    (or the other way round), back to back; the 1-minute load average when the round started."""

    one: WrkResult
    two: WrkResult
    load_average: float

    @property
    def ratio(self) -> float:
        return _ratio(self.two.rps, self.one.rps)

    @property
    def foreign_cpu(self) -> float:
        return max(self.one.foreign_cpu, self.two.foreign_cpu)


@dataclass(frozen=True, slots=True)
class WorkersResult:
    """`viewer` on PostgreSQL through `account-center serve --workers 2` over `--workers 1`, measured side by
    side in alternating rounds; the figure is the least disturbed round's."""

    engine: str
    rounds: tuple[WorkersRound, ...]
    cpus: int

    @property
    def best(self) -> WorkersRound:
        return min(self.rounds, key=lambda r: r.foreign_cpu)

    @property
    def ratio(self) -> float:
        return self.best.ratio

    def goal(self) -> Goal:
        return Goal(self.engine, "viewer rps 2 workers / 1 worker", self.ratio, ">=", WORKERS_RATIO_GOAL)

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "ratio": self.ratio,
            "best_round": self.rounds.index(self.best),
            "rounds": [
                {
                    "one_worker": r.one.as_dict(),
                    "two_workers": r.two.as_dict(),
                    "ratio": r.ratio,
                    "load_average_1m": r.load_average,
                    "cpu_bound_ratio": _ratio(cpu_ceiling(r.two, self.cpus, 2), cpu_ceiling(r.one, self.cpus, 1)),
                }
                for r in self.rounds
            ],
        }


def cpu_ceiling(r: WrkResult, cpus: int, workers: int) -> float:
    """The req/s this machine could give if CPU were all a request needed and nothing else ran: every CPU
    busy with the server's, the database's and wrk's time per request, and the server's processes each
    on at most one CPU."""
    per_request_ms = r.server_cpu_ms + r.db_cpu_ms + r.load_cpu_ms
    if per_request_ms <= 0 or r.server_cpu_ms <= 0:
        return float("nan")
    return min(cpus * 1000 / per_request_ms, min(workers, cpus) * 1000 / r.server_cpu_ms)


def _cpu_split(r: WrkResult) -> str:
    return f"CPU/req server {r.server_cpu_ms:.2f} + db {r.db_cpu_ms:.2f} + wrk {r.load_cpu_ms:.2f} ms"


def workers_table(result: WorkersResult) -> list[str]:
    """Each round's two figures with their CPU per request, and where the ratio's ceiling lies."""
    e = f"{result.engine:<10}"
    lines = []
    for i, r in enumerate(result.rounds):
        mark = "*" if r is result.best else " "
        lines.append(
            f"{e} workers{mark} round {i + 1} (load avg {r.load_average:.2f}, others {r.foreign_cpu:.1%} of CPUs): "
            f"1 worker {r.one.rps:5.0f} req/s {_latency(r.one)} {_cpu_split(r.one)} | "
            f"2 workers {r.two.rps:5.0f} req/s {_latency(r.two)} {_cpu_split(r.two)} | ratio {r.ratio:.2f}"
        )
    best = result.best
    one, two = cpu_ceiling(best.one, result.cpus, 1), cpu_ceiling(best.two, result.cpus, 2)
    lines.append(
        f"{e}          CPU-bound ceilings from the CPU per request (the {result.cpus} CPUs shared by the server, "
        f"PostgreSQL and wrk; one CPU per server process): 1 worker {one:.0f} req/s (measured {best.one.rps / one:.0%} "
        f"of it), 2 workers {two:.0f} req/s (measured {best.two.rps / two:.0%}); their ratio {_ratio(two, one):.2f} is "
        f"the most this machine allows | {result.goal().describe()}"
    )
    lines.extend(w for label, r in (("1 worker", best.one), ("2 workers", best.two)) if (w := _errors(label, r)))
    if best.foreign_cpu > BUSY_WARNING:
        lines.append(
            f"    ! other processes used {best.foreign_cpu:.1%} of the CPUs during the least disturbed round: "
            "read the CPU per request, not the ratio"
        )
    return lines


@dataclass(frozen=True, slots=True)
class Goal:
    engine: str
    name: str
    value: float
    op: str  # ">=" or "<="
    target: float
    # Why the ratio means nothing in this run (then the goal is not met), or None.
    void: str | None = None

    @property
    def met(self) -> bool:
        if self.void is not None:
            return False
        return self.value >= self.target if self.op == ">=" else self.value <= self.target

    def describe(self) -> str:
        if self.void is not None:
            return f"ratio {self.value:.2f} (goal {self.op} {self.target:g}) VOID: {self.void}"
        verdict = "met" if self.met else "MISSED"
        return f"ratio {self.value:.2f} (goal {self.op} {self.target:g}) {verdict}"


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator > 0 else float("nan")


def _void_if_refused(signins: WrkResult) -> str | None:
    if signins.refused_share <= REFUSED_WARNING:
        return None
    return f"{signins.refused_share:.0%} of sign-ins refused"


def _codes(r: WrkResult) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(r.refused.items(), key=lambda item: -item[1]))


def _signin_counts(label: str, r: WrkResult, sessions_created: int | None = None) -> str:
    created = (
        ""
        if sessions_created is None
        else f"; {sessions_created} sessions created in the database "
        f"({sessions_created - r.signed_in:+d} by sign-ins still in flight when wrk stopped)"
    )
    refused = f" ({_codes(r)})" if r.refused else ""
    return (
        f"{label}: {r.signed_in} signed in, {r.refused_count} refused{refused} of "
        f"{r.signed_in + r.refused_count} answered{created}"
    )


def _refusal_warning(label: str, r: WrkResult) -> list[str]:
    """A loud warning when more than REFUSED_WARNING of the sign-ins were refused."""
    if r.refused_share <= REFUSED_WARNING:
        return []
    return [
        f"    !!! {label}: {r.refused_share:.1%} OF THE SIGN-INS WERE REFUSED ({_codes(r)}), more than "
        f"{REFUSED_WARNING:.0%}:",
        "    !!! the load measured refusals, not sign-ins; the ratios resting on it are void",
    ]


def _latency(r: WrkResult) -> str:
    return f"p50 {r.p50_ms:6.1f} ms  p95 {r.p95_ms:6.1f} ms"


def _app_workers(workers: int | None) -> str:
    return "" if workers is None else f", app hashes on {workers} thread{'s' if workers != 1 else ''}"


def _cpu(r: WrkResult) -> str:
    return f"server CPU {r.server_cpu_ms:.2f} ms/req"


def _errors(label: str, r: WrkResult) -> str | None:
    if r.error_count == 0:
        return None
    detail = ", ".join(f"{k} {v}" for k, v in r.errors.items() if v)
    return f"    ! {label}: wrk counted errors ({detail}); figures include them"


def engine_table(result: EngineResult) -> list[str]:
    """Per engine: viewer vs bare (and the Core floor), sign-in vs hash-only, viewer under a storm, each
    sign-in load's counts (signed in, refused by code), plus warnings."""
    e = f"{result.engine:<10}"
    viewer_goal, signin_goal, storm_goal = result.goals()
    h = result.hashing
    lines = [
        f"{e} viewer   {result.viewer.rps:6.0f} req/s  {_latency(result.viewer)}  {_cpu(result.viewer)} | "
        f"bare {result.bare.rps:5.0f} req/s  {_latency(result.bare)}  {_cpu(result.bare)} | {viewer_goal.describe()}",
        *(
            [
                f"{e}          Core floor {result.core.rps:5.0f} req/s  {_latency(result.core)}  {_cpu(result.core)} "
                f"| GraphQL / Core {_ratio(result.viewer.rps, result.core.rps):.2f} (information)"
            ]
            if result.core
            else []
        ),
        f"{e} sign-in  {result.signin.signed_in_rps:6.1f} /s     {_latency(result.signin)}  {_cpu(result.signin)} | "
        f"argon2 hash-only {h.per_second:.1f} /s ({h.threads} threads, m={h.memory_kib // 1024} MiB t={h.time_cost} "
        f"p={h.parallelism}){_app_workers(result.app_hash_workers)} | {signin_goal.describe()}",
        f"{e}          {_signin_counts('sign-ins', result.signin, result.sessions_created)}",
        f"{e} storm    viewer p95 {result.storm_viewer.p95_ms:.1f} ms ({result.storm_viewer.rps:.0f} req/s, "
        f"{result.storm_viewer.connections} conns) during a sign-in storm ({result.storm_signin.signed_in_rps:.1f} /s, "
        f"{result.storm_signin.connections} conns) vs {result.viewer.p95_ms:.1f} ms alone | {storm_goal.describe()}",
        f"{e}          {_signin_counts('storm sign-ins', result.storm_signin)}",
    ]
    lines.extend(_refusal_warning("sign-in", result.signin))
    lines.extend(_refusal_warning("storm sign-in", result.storm_signin))
    if result.sessions_created < result.signin.signed_in:
        lines.append(
            f"    ! sign-in: {result.signin.signed_in} session tokens answered but only {result.sessions_created} "
            "sessions in the database"
        )
    measured = [
        ("viewer", result.viewer),
        ("bare", result.bare),
        ("sign-in", result.signin),
        ("storm viewer", result.storm_viewer),
        ("storm sign-in", result.storm_signin),
    ]
    lines.extend(w for label, r in measured if (w := _errors(label, r)))
    busy = [(label, r.foreign_cpu) for label, r in measured if label != "storm sign-in"]
    busy.append(("hash-only", result.hashing.foreign_cpu))
    lines.extend(
        f"    ! other processes used {share:.1%} of the CPUs during {label}: that figure is unreliable"
        for label, share in busy
        if share > BUSY_WARNING
    )
    return lines


def summary(results: list[EngineResult], notes: list[str], workers: WorkersResult | None = None) -> list[str]:
    lines = ["", "== results (ratios are measured side by side in this run)"]
    for result in results:
        lines.extend(engine_table(result))
    if workers is not None:
        lines.extend(workers_table(workers))
    lines.extend(f"note: {n}" for n in notes)
    goals = [g for r in results for g in r.goals()] + ([workers.goal()] if workers is not None else [])
    met = sum(g.met for g in goals)
    lines.append("")
    lines.append(f"== goals: {met} of {len(goals)} met")
    lines.extend(f"  [{'x' if g.met else ' '}] {g.engine:<10} {g.name:<32} {g.describe()}" for g in goals)
    return lines


def write_json(
    results: list[EngineResult], notes: list[str], options: dict[str, Any], workers: WorkersResult | None = None
) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "latest.json"
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "options": options,
        "engines": {r.engine: r.as_dict() for r in results},
        "workers": workers.as_dict() if workers is not None else None,
        "goals": [
            {**asdict(g), "met": g.met}
            for g in [g for r in results for g in r.goals()] + ([workers.goal()] if workers is not None else [])
        ],
        "notes": notes,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
