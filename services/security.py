"""Secrets: argon2id password hashing off the event loop, opaque tokens, keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


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


class PasswordHasher:
    """argon2id in worker threads, so the event loop never waits on a hash (DESIGN).

    At most `workers` hashes run at once (default: all cores but one): a sign-in storm then queues
    for the hashing cores instead of starving the event loop, which keeps serving other requests.
    """

    def __init__(self, memory_kib: int, time_cost: int, parallelism: int, workers: int | None = None) -> None:
        self._ph = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
        self.workers = workers or max(1, (os.cpu_count() or 2) - 1)
        self._limiter: anyio.CapacityLimiter | None = None
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

    def _limit(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made lazily: a limiter belongs to the running event loop
            self._limiter = anyio.CapacityLimiter(self.workers)
        return self._limiter

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.hash_sync, password, limiter=self._limit())

    async def verify(self, hashed: str | None, password: str) -> bool:
        return await anyio.to_thread.run_sync(self.verify_sync, hashed, password, limiter=self._limit())
