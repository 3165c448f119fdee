"""Scalars whose wire format this API fixes itself, instead of Strawberry's defaults.

`DateTime`: Strawberry's writes `datetime.isoformat()` (no offset for a naive value) and reads whatever
dateutil guesses (a bare date, no offset). Here an instant is always an RFC 3339 date-time with an
offset: written in UTC, read only with an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

# RFC 3339's `date-time` (section 5.6) always has an offset: `Z` or `+hh:mm`/`-hh:mm`.
DATE_TIME_SPECIFIED_BY = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
_RFC_3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.ASCII | re.IGNORECASE
)


def serialize_date_time(value: object) -> str:
    """`2026-11-26T02:00:00+00:00`: in UTC, microseconds only when not zero. A naive datetime is a bug
    (which instant would it be?), refused rather than written without an offset."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise TypeError("DateTime needs a timezone-aware datetime")
    return value.astimezone(UTC).isoformat()


def parse_date_time(value: object) -> datetime:
    found = _RFC_3339.fullmatch(value) if isinstance(value, str) else None
    if found is not None:
        date, time, fraction, offset = found.groups()
        try:  # microseconds: a finer fraction is cut
            return datetime.fromisoformat(f"{date}T{time}{(fraction or '')[:7]}{offset.upper()}")
        except ValueError:
            pass  # a month 13, a 25th hour, a leap second: refused below
    raise StrawberryInputCoercionError(
        "DateTime must be an RFC 3339 date-time with an offset, e.g. 2026-11-26T10:00:00+08:00 or 2026-11-26T02:00:00Z."
    )


DATE_TIME = ScalarDefinition(
    name="DateTime",
    description="An instant: an RFC 3339 date-time with an offset, e.g. `2026-11-26T02:00:00+00:00`. Written in UTC "
    "(`+00:00`), with fractions of a second only when not zero. As input, any offset (`Z`, `+08:00`); a date-time "
    "without an offset is refused.",
    specified_by_url=DATE_TIME_SPECIFIED_BY,
    serialize=serialize_date_time,
    parse_value=parse_date_time,
    parse_literal=None,
    origin=datetime,
)
