"""The one clock every rule reads (docs/architecture.md: "nothing else calls `datetime.now()`")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; tests and benchmarks use it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs an aware datetime")
        self._now = when.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """Datetimes read back from SQLite are naive; they are stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def shanghai_day(value: datetime) -> str:
    """The Asia/Shanghai calendar date of an instant, as YYYY-MM-DD."""
    return as_utc(value).astimezone(SHANGHAI).date().isoformat()


def shanghai_day_start(value: datetime) -> tuple[datetime, int]:
    """The start (in UTC) of the Asia/Shanghai day of an instant, and the seconds until the next day."""
    local = as_utc(value).astimezone(SHANGHAI)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(UTC), int((start + timedelta(days=1) - local).total_seconds()) + 1
