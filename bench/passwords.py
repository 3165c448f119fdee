"""The cost of one REG-7 strength check (zxcvbn) on hostile 128-character passwords, judged whole and
as the service judges them (a capped prefix, see services/accounts/strength.py).

    .venv/bin/python -m bench.passwords

Prints, per input, the best of three runs in milliseconds of CPU time: zxcvbn on all 128 characters, and the
service's `estimate` (what one registration, reset or password change costs at most).
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable

from zxcvbn import zxcvbn
from zxcvbn.matching import L33T_TABLE

from services.accounts.strength import estimate, judged_part

USER_INPUTS = ["alice01", "+8613700000001", "13700000001", "alice@example.com", "alice"]
L33T = "".join(sorted({c for subs in L33T_TABLE.values() for c in subs}))
WORDS = ["password", "dragon", "monkey", "football", "letmein", "shadow", "master", "qwerty", "sunshine"]


def hostile() -> dict[str, str]:
    rng = random.Random(11)  # noqa: S311  # reproducible test inputs, not secrets
    return {
        "one character repeated": "a" * 128,
        "two characters repeated": "ab" * 64,
        "digit run": "".join(rng.choice(string.digits) for _ in range(128)),
        "counting sequence": ("1234567890" * 13)[:128],
        "dates": ("19901231" * 16)[:128],
        "dictionary words": "".join(rng.choice(WORDS) for _ in range(30))[:128],
        "keyboard walk": ("qwertyuiopasdfghjkl" * 8)[:128],
        "every l33t character": (L33T * 7)[:128],
        "random l33t characters": "".join(rng.choice(L33T) for _ in range(128)),
        "random printable": "".join(
            rng.choice(string.ascii_letters + string.digits + string.punctuation) for _ in range(128)
        ),
        "l33t words": ("p4$$w0rd" * 16)[:128],
        "user's own data": (("alice01" + "13700000001") * 8)[:128],
    }


def best_ms(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return min(times) * 1000


def main() -> None:
    print(f"{'input (128 characters)':28} {'whole':>10} {'judged':>10} {'prefix':>7} score")
    worst = 0.0
    for name, password in hostile().items():
        whole = best_ms(lambda p=password: zxcvbn(p, user_inputs=USER_INPUTS, max_length=len(p)))
        capped = best_ms(lambda p=password: estimate(p, USER_INPUTS))
        worst = max(worst, capped)
        score = estimate(password, USER_INPUTS).score
        print(f"{name:28} {whole:8.1f}ms {capped:8.1f}ms {len(judged_part(password)):7d} {score}")
    print(f"worst judged check: {worst:.1f} ms")


if __name__ == "__main__":
    main()
