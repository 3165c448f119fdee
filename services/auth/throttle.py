"""AUTH-5: wrong-password budgets, reserved before a password is judged.

A budget is a key with a limit: 5 wrong passwords per login name, 5 per account, 20 per client
address, each in a 15-minute window, and a 15-minute lock once spent. A try is counted *before* the
argon2 hash runs (`reserve`, one conditional upsert), so however many requests race, no more than
`limit` passwords are judged per window: a request that finds the budget locked or spent is refused
without a hash. The judgement then settles the try in a second short transaction:
- a wrong password keeps its try counted; the try that spends the budget sets the lock (`failed`).
  The count is not reset by the lock, so tries while locked never reopen the budget, and a running
  lock is never extended;
- a right password clears the counts only where no lock runs (a lock set by a racing request while
  the hash ran is seen); if one runs, the caller refuses and rolls back, so no session or login
  challenge is issued while a lock runs (`succeeded`).
Old tries expire with their window; a lock that has ended starts a fresh window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.auth import repository as repo
from services.auth.policy import (
    ACCOUNT_LOCK,
    ACCOUNT_MAX_FAILURES,
    ADDRESS_LOCK,
    ADDRESS_MAX_FAILURES,
    THROTTLE_WINDOW,
)
from services.identifiers import client_network
from services.uow import Uow


@dataclass(frozen=True, slots=True)
class Budget:
    key: str
    limit: int
    lock: timedelta
    # How long a window of counted tries lasts. The other budgets reserved the same way (the username
    # checks of PROF-5, the failed identity look-ups of REC-2) set their own.
    window: timedelta = THROTTLE_WINDOW


@dataclass(frozen=True, slots=True)
class Try:
    """A try counted against a budget: its number in the window (1..limit)."""

    budget: Budget
    number: int

    @property
    def remaining(self) -> int:
        return self.budget.limit - self.number

    @property
    def spends_budget(self) -> bool:
        return self.number >= self.budget.limit


def account_budget(account_id: int) -> Budget:
    """Every login name of an account, and its password-change check, share this budget."""
    return Budget(f"account:{account_id}", ACCOUNT_MAX_FAILURES, ACCOUNT_LOCK)


def name_budget(uow: Uow, canonical_login_name: str) -> Budget:
    """Per login name typed, whether or not it names an account (keyed, so the table holds no names)."""
    return Budget("name:" + uow.keyed(f"login:{canonical_login_name}")[:48], ACCOUNT_MAX_FAILURES, ACCOUNT_LOCK)


def address_budget(ip: str | None) -> Budget:
    """Per client: an IPv4 address or an IPv6 /64 (`client_network`), so rotating addresses inside one's
    own /64 does not reopen the budget."""
    return Budget(f"ip:{client_network(ip)}", ADDRESS_MAX_FAILURES, ADDRESS_LOCK)


async def reserve(uow: Uow, budget: Budget) -> Try | None:
    """Count a try against the budget before the password is judged; None when it is locked or spent."""
    number = await repo.reserve_try(uow, budget.key, uow.now(), limit=budget.limit, window=budget.window)
    return None if number is None else Try(budget, number)


async def window_ends_at(uow: Uow, budget: Budget) -> datetime:
    """When a spent budget's window ends (or its lock, whichever is later): when it counts tries again."""
    now = uow.now()
    started = await repo.window_started_at(uow, budget.key)
    until = await repo.locked_until(uow, [budget.key], now)
    ends = (started or now) + budget.window
    return max(ends, until) if until is not None else ends


async def retry_at(uow: Uow, refused: Budget, *shown: Budget) -> datetime:
    """When to try again after `refused` refused a try: the latest running lock among the budgets the
    caller may learn about, or a full lock from now while the last counted tries are still being judged."""
    now = uow.now()
    until = await repo.locked_until(uow, [refused.key, *(b.key for b in shown)], now)
    return until or now + refused.lock


async def failed(uow: Uow, counted: Try) -> datetime | None:
    """A wrong password keeps its try counted; the try that spent the budget locks it. Returns the end of
    the lock this try set (or met), None while tries remain."""
    if not counted.spends_budget:
        return None
    now = uow.now()
    return await repo.set_lock(uow, counted.budget.key, now + counted.budget.lock, now)


async def succeeded(uow: Uow, *budgets: Budget) -> datetime | None:
    """A right password gives its tries back: the counts of `budgets` are cleared. Returns None then, or
    the end of a lock that now runs on one of them: the caller must refuse AND roll back (the budgets
    before it may already be cleared)."""
    now = uow.now()
    for budget in budgets:  # one at a time, in the order `reserve` took them (no deadlock on PostgreSQL)
        if not await repo.clear_if_unlocked(uow, budget.key, now):
            until = await repo.locked_until(uow, [budget.key], now)
            if until is not None:
                return until
    return None


async def give_back(uow: Uow, counted: Try) -> None:
    """Un-count a try that was not a wrong password (the address's try of a right password)."""
    await repo.give_back_try(uow, counted.budget.key)
