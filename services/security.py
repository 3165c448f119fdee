"""Secrets: argon2id password hashing off the event loop, opaque tokens, keyed hashes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def new_token(prefix: str, nbytes: int = 32) -> str:
    """An opaque bearer secret, e.g. `acs_...` (session) or `sug_...` (step-up grant)."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def token_hash(token: str) -> str:
    """Tokens carry 256 bits of entropy, so a fast hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(secret_key: str, value: str) -> str:
    """HMAC-SHA256 for low-entropy secrets (6-digit codes) and lookup keys."""
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def random_digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


def _lower_priority() -> None:
    """Run this hashing thread at nice 10: the event loop thread keeps the CPU when it needs it."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not permitted: run as is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class PasswordHasher:
    """argon2id in dedicated worker threads, so the event loop never waits on a hash (docs/architecture.md).

    `workers` threads (default: one per core) hash at a lower CPU priority than the event loop:
    a sign-in storm uses every idle core, yet requests that need no hash are still served first.
    """

    def __init__(self, memory_kib: int, time_cost: int, parallelism: int, workers: int | None = None) -> None:
        self._ph = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
        self.workers = workers or os.cpu_count() or 2
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="argon2", initializer=_lower_priority)
        # A real hash to verify against when the account does not exist (AUTH-5: same answer,
        # same time).
        self._dummy = self._ph.hash(secrets.token_urlsafe(16))

    def hash_sync(self, password: str) -> str:
        return self._ph.hash(password)

    def verify_sync(self, hashed: str | None, password: str) -> bool:
        try:
            return self._ph.verify(hashed or self._dummy, password) and hashed is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.hash_sync, password)

    async def verify(self, hashed: str | None, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.verify_sync, hashed, password)
