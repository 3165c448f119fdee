"""REG-7 password strength: zxcvbn's estimate, with the user's own data (username, phone, e-mail, names)
as words an attacker would try first.

zxcvbn's cost grows with the square of the length, times the number of substitution tables its l33t
pass builds from the characters it reads as letters (digits and symbols such as `@ $ | + 1 7`, up to
368 tables): on 128-character hostile inputs one estimate took up to 7 s of CPU. So only a prefix is
judged: the first 32 characters, or the first 16 when those hold more than 4 different l33t
characters. Measured worst case either way: 15 ms of CPU (`python -m bench.passwords`). A password is
at least as hard to guess as its prefix, so the cap may refuse a strong password with a weak start,
never accept a weak one.

Where it runs: never on the event loop's thread, and never inside a database transaction. `judge` hands
the estimate to one dedicated worker thread (zxcvbn keeps the user inputs in a module-level dictionary
during a call, so calls must not overlap; one thread also bounds the CPU all estimates together can
take), and its callers await it only after the secret that gates it was checked (registration's code)
and while they hold no transaction (see `services/accounts/service.py`, `services/recovery/service.py`).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from zxcvbn import zxcvbn
from zxcvbn.matching import L33T_TABLE

MIN_SCORE = 3  # zxcvbn's scale 0..4; 3 = "safely unguessable": about 10^8 guesses or more
JUDGED_PREFIX = 32
L33T_JUDGED_PREFIX = 16
L33T_DISTINCT_MAX = 4
_L33T_CHARACTERS = frozenset(c for subs in L33T_TABLE.values() for c in subs)

# One thread for every estimate of the process (see the module's note); started on first use.
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zxcvbn")
# zxcvbn's module-level state, for callers of `estimate` outside the executor (the benchmark, tests).
_ZXCVBN_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Strength:
    score: int
    warning: str
    suggestions: tuple[str, ...]

    @property
    def acceptable(self) -> bool:
        return self.score >= MIN_SCORE


def judged_part(password: str) -> str:
    """The prefix zxcvbn judges (see the module's note on cost)."""
    head = password[:JUDGED_PREFIX]
    if len(_L33T_CHARACTERS.intersection(head)) > L33T_DISTINCT_MAX:
        return head[:L33T_JUDGED_PREFIX]
    return head


def estimate(password: str, user_inputs: Iterable[str | None]) -> Strength:
    """zxcvbn's score and feedback, computed on the calling thread (up to ~15 ms of CPU): the service
    calls `judge` instead. One call at a time: zxcvbn keeps the user inputs in a module-level
    dictionary during a call."""
    inputs = [value for value in user_inputs if value]
    with _ZXCVBN_LOCK:
        result = zxcvbn(judged_part(password), user_inputs=inputs)
    feedback = result["feedback"]
    return Strength(result["score"], feedback["warning"], tuple(feedback["suggestions"]))


async def judge(password: str, user_inputs: Iterable[str | None]) -> Strength:
    """`estimate` on the dedicated zxcvbn thread, so the event loop keeps serving meanwhile. The caller
    must hold no database transaction while it awaits this. The caller's context variables go along
    (the request's log fields)."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(_EXECUTOR, context.run, estimate, password, list(user_inputs))
