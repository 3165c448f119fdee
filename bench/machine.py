"""How busy the machine is, so figures measured next to someone else's test run are flagged.

Linux only (/proc). "Ours" is the benchmark process, its reaped children (wrk), the servers it
started and the PostgreSQL cluster's processes; everything else is "foreign".
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def total_busy_s() -> float:
    """CPU seconds spent not idle, summed over all CPUs, since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10])  # already counted in user and nice
    return (sum(fields) - idle - guest) / CLOCK_TICKS


def process_cpu_s(pid: int) -> float:
    """utime + stime of a live process, 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(parent: int) -> list[int]:
    """Direct children of a process (e.g. the backends of a PostgreSQL postmaster)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    """A process and its live descendants (uvicorn's supervisor and its workers)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children_of(current))
    return found


def tree_cpu_s(pid: int) -> float:
    """utime + stime of a process and its live descendants; a descendant that exits meanwhile takes its
    time with it, so measure across a span where none does."""
    return sum(process_cpu_s(p) for p in process_tree(pid))


def children_cpu_s() -> float:
    """CPU time of this process's reaped children (wrk, once `communicate` has returned)."""
    t = os.times()
    return t.children_user + t.children_system


def own_cpu_s(pids: list[int]) -> float:
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return own + sum(process_cpu_s(pid) for pid in pids)


@dataclass(slots=True)
class CpuMeter:
    """Share of all CPUs used by foreign processes between `start()` and `foreign_share()`."""

    our_pids: Callable[[], list[int]]
    _wall: float = 0.0
    _busy: float = 0.0
    _own: float = 0.0

    def start(self) -> None:
        self._wall, self._busy, self._own = time.monotonic(), total_busy_s(), own_cpu_s(self.our_pids())

    def foreign_share(self) -> float:
        wall = time.monotonic() - self._wall
        busy = total_busy_s() - self._busy
        own = own_cpu_s(self.our_pids()) - self._own
        return round(max(0.0, busy - own) / (wall * CPUS), 3) if wall > 0 else 0.0


def wait_until_quiet(threshold: float = 0.1, max_wait_s: float = 20.0, sample_s: float = 0.5) -> float:
    """Wait (bounded) until all CPUs together are busy less than `threshold`; return the last busy share.

    Call it while our own servers are idle: whatever is busy then is someone else.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        before = total_busy_s()
        time.sleep(sample_s)
        share = (total_busy_s() - before) / (sample_s * CPUS)
        if share < threshold or time.monotonic() >= deadline:
            return round(share, 3)
