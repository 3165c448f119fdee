"""The vocabulary of student status and its month arithmetic, in Asia/Shanghai (STU-2, STU-3)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum

from services.calendar.service import end_of_day, local_date


class StudentLevel(Enum):
    """STU-2: the level of study."""

    JUNIOR_COLLEGE = "JUNIOR_COLLEGE"  # 专科
    BACHELOR = "BACHELOR"  # 本科
    MASTER = "MASTER"  # 硕士
    DOCTORATE = "DOCTORATE"  # 博士


class StudentState(Enum):
    """Where an application stands; EXPIRED is computed from the clock, never stored; ENDED is stored
    ("ended") when the account's verified person changed (CHG-5: the status was the previous person's)."""

    PENDING_EMAIL = "PENDING_EMAIL"
    VERIFIED = "VERIFIED"
    EXPIRED = "EXPIRED"
    ENDED = "ENDED"


def month_index(year: int, month: int) -> int:
    """Months since year 0: comparable, and cheap to compute in SQL too."""
    return year * 12 + (month - 1)


def current_month(now: datetime) -> tuple[int, int]:
    """The (year, month) of an instant in Asia/Shanghai."""
    day = local_date(now)
    return day.year, day.month


def month_has_passed(year: int, month: int, now: datetime) -> bool:
    """True once the Shanghai calendar is past that month; the month itself has not passed (STU-2)."""
    return month_index(year, month) < month_index(*current_month(now))


def end_of_month(year: int, month: int) -> datetime:
    """The last second of that month in Asia/Shanghai, in UTC (STU-3: verified until then)."""
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return end_of_day(first_of_next - timedelta(days=1))
