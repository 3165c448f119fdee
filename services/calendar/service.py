"""Working days on the mainland-China calendar, in Asia/Shanghai (docs/rules.md preamble, REV-1, REV-4).

Public holidays and the adjusted working weekends come from the `holidays` package's China
calendar. A review item submitted on day D in the n-working-day queue is due at the end of the nth
working day after D (2026-09-30 in the 2-day queue: the end of 2026-10-09). While an item waits for
the user the clock stops: the working time left is kept, and added back from the moment the user
answers, counting only working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays

from services.clock import SHANGHAI, as_utc

DAY = timedelta(days=1)


@cache
def _china() -> holidays.HolidayBase:
    return holidays.country_holidays("CN")


def is_working_day(day: date) -> bool:
    return bool(_china().is_working_day(day))


def nth_working_day(after: date, n: int) -> date:
    """The nth working day after `after` (n >= 1), the adjusted working weekends included."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return date.fromisoformat(str(_china().get_nth_working_day(after, n)))


def local_date(instant: datetime) -> date:
    return as_utc(instant).astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    """The last second of a Shanghai calendar day, in UTC."""
    return datetime.combine(day, time(23, 59, 59), SHANGHAI).astimezone(UTC)


def due_at(submitted_at: datetime, working_days: int) -> datetime:
    """REV-1: the end of the `working_days`th working day after the day of submission."""
    return end_of_day(nth_working_day(local_date(submitted_at), working_days))


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)
    return start, datetime.combine(day + DAY, time(0), SHANGHAI).astimezone(UTC)


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) falls on working days."""
    start, end = as_utc(start), as_utc(end)
    total = timedelta(0)
    day = local_date(start)
    while True:
        day_start, day_end = _day_bounds(day)
        if day_start >= end:
            return total
        if is_working_day(day):
            overlap = min(end, day_end) - max(start, day_start)
            if overlap > timedelta(0):
                total += overlap
        day += DAY


def add_working_time(start: datetime, amount: timedelta) -> datetime:
    """The instant at which `amount` of working time has passed since `start`."""
    start = as_utc(start)
    left = amount
    day = local_date(start)
    cursor = start
    while True:
        day_start, day_end = _day_bounds(day)
        cursor = max(cursor, day_start)
        if is_working_day(day):
            available = day_end - cursor
            if left <= available:
                return cursor + left
            left -= available
        day += DAY


def resumed_due_at(paused_at: datetime, due: datetime, resumed_at: datetime) -> datetime:
    """REV-4: the due time after waiting for the user from `paused_at` to `resumed_at`.

    The working time that was left at the pause is added from the resumption, on working days only.
    An item paused after it was already due stays due at once (no time is left to add).
    """
    left = working_time_between(paused_at, due) if due > paused_at else timedelta(0)
    return add_working_time(resumed_at, left) if left > timedelta(0) else as_utc(resumed_at)
