"""REV-1 / REV-4: due times in mainland-China working days, Asia/Shanghai, with the clock stopped
while an item waits for the user."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.calendar.service import (
    add_working_time,
    due_at,
    is_working_day,
    resumed_due_at,
    working_time_between,
)
from services.clock import SHANGHAI


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def test_rev_1_design_example_national_day_2026() -> None:
    # Given an item submitted on 2026-09-30 in the 2-working-day queue
    # Then it is due at the end of 2026-10-09 (National Day holidays 10-01..10-08 skipped)
    assert due_at(local(2026, 9, 30, 10, 0), 2) == local(2026, 10, 9, 23, 59, 59)


def test_rev_1_adjusted_working_weekends_count() -> None:
    # 2026-10-10 (Saturday) and 2026-02-14 (Saturday) are working days; 2026-10-07 (Wednesday) is not
    assert is_working_day(date(2026, 10, 10))
    assert is_working_day(date(2026, 2, 14))
    assert not is_working_day(date(2026, 10, 7))
    # Submitted Thursday 2026-02-12 in the 2-day queue: Friday, then the working Saturday
    assert due_at(local(2026, 2, 12, 9, 0), 2) == local(2026, 2, 14, 23, 59, 59)


def test_rev_1_spring_festival_2026_in_the_five_day_queue() -> None:
    # Submitted Friday 2026-02-13: Sat 02-14 (working), then 02-24, 25, 26, 27 after the Festival
    assert due_at(local(2026, 2, 13, 18, 0), 5) == local(2026, 2, 27, 23, 59, 59)


def test_rev_1_submission_day_is_the_shanghai_day_not_the_utc_day() -> None:
    # 23:30 on 09-29 in Shanghai is still 09-29: due at the end of 10-08 in the 2-day queue
    assert due_at(local(2026, 9, 29, 23, 30), 2) == local(2026, 10, 8, 23, 59, 59)
    # 00:30 on 09-30 in Shanghai (16:30 UTC on 09-29) is 09-30: due at the end of 10-09
    assert due_at(datetime(2026, 9, 29, 16, 30, tzinfo=UTC), 2) == local(2026, 10, 9, 23, 59, 59)


def test_rev_1_submitted_on_a_holiday() -> None:
    assert due_at(local(2026, 10, 3, 12, 0), 2) == local(2026, 10, 9, 23, 59, 59)


def test_rev_4_waiting_for_the_user_stops_the_clock() -> None:
    # Given an item due at the end of 2026-10-09, paused on 09-30 at 10:00 (14 h of 09-30, all of
    # 10-08 and 10-09 left: 61 h 59 min 59 s of working time)
    due = local(2026, 10, 9, 23, 59, 59)
    paused = local(2026, 9, 30, 10, 0)
    left = working_time_between(paused, due)
    assert left == timedelta(hours=61, minutes=59, seconds=59)
    # When the user answers on Monday 10-12 at 09:00
    resumed = local(2026, 10, 12, 9, 0)
    new_due = resumed_due_at(paused, due, resumed)
    # Then the due time moves on by exactly the time that was left, on working days only
    assert new_due == local(2026, 10, 14, 22, 59, 59)
    assert working_time_between(resumed, new_due) == left


def test_rev_4_answer_on_a_holiday_starts_the_clock_on_the_next_working_day() -> None:
    due = local(2026, 9, 30, 23, 59, 59)
    paused = local(2026, 9, 30, 20, 0)  # 3 h 59 min 59 s left
    new_due = resumed_due_at(paused, due, local(2026, 10, 2, 11, 0))  # answered on a holiday
    assert new_due == local(2026, 10, 8, 3, 59, 59)


def test_rev_4_item_paused_when_already_overdue_stays_due() -> None:
    due = local(2026, 9, 30, 23, 59, 59)
    resumed = local(2026, 10, 12, 9, 0)
    assert resumed_due_at(local(2026, 10, 9, 9, 0), due, resumed) == resumed


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 12),
)
def test_rev_4_adding_working_time_is_measured_back_exactly(start: datetime, minutes: int) -> None:
    amount = timedelta(minutes=minutes)
    end = add_working_time(start, amount)
    assert working_time_between(start, end) == amount
    assert is_working_day(end.astimezone(SHANGHAI).date()) or end.astimezone(SHANGHAI).time().isoformat() == "00:00:00"
