"""The ceiling for password sign-ins: argon2 hashes per second with the app's own parameters."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from services.security import PasswordHasher
from settings import Settings

PASSWORD = "Bench-Only-Password-2026!"


@dataclass(frozen=True, slots=True)
class HashRate:
    threads: int
    hashes: int
    seconds: float
    per_second: float
    memory_kib: int
    time_cost: int
    parallelism: int
    # Share of all CPUs used by other processes meanwhile (bench.machine); set by the caller.
    foreign_cpu: float = 0.0


def hash_rate(settings: Settings, threads: int, seconds: float) -> HashRate:
    """Hash in `threads` threads for about `seconds` (argon2-cffi releases the GIL while hashing)."""
    hasher = PasswordHasher(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)
    hasher.hash_sync(PASSWORD)  # warm up the allocator and the CFFI binding
    deadline = time.perf_counter() + seconds

    def worker(_: int) -> int:
        done = 0
        while time.perf_counter() < deadline:
            hasher.hash_sync(PASSWORD)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        hashes = sum(pool.map(worker, range(threads)))
    elapsed = time.perf_counter() - started
    return HashRate(
        threads=threads,
        hashes=hashes,
        seconds=round(elapsed, 3),
        per_second=round(hashes / elapsed, 2),
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
