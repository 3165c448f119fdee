"""DateTime is an RFC 3339 date-time with an offset, both ways, and the schema says so."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from strawberry.exceptions import StrawberryInputCoercionError

from schema.scalars import parse_date_time, serialize_date_time
from tests.helpers import gql, registered_and_signed_in

RFC_3339_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
SHANGHAI = timezone(timedelta(hours=8))


async def test_date_times_in_responses_carry_an_offset(client, clock) -> None:
    # Given a session created now
    token = await registered_and_signed_in(client)
    # When its times are read
    data = await gql(
        client, "{ viewer { createdAt sessions { edges { node { lastSeenAt expiresAt } } } } }", token=token
    )
    (session,) = [e["node"] for e in data["viewer"]["sessions"]["edges"]]
    # Then each is an RFC 3339 date-time in UTC, the instant the clock gave
    for value in (data["viewer"]["createdAt"], session["lastSeenAt"], session["expiresAt"]):
        assert RFC_3339_WITH_OFFSET.fullmatch(value), value
        assert value.endswith("+00:00")
    assert datetime.fromisoformat(session["lastSeenAt"]) == clock.now()


def test_serialising_writes_utc_and_refuses_a_naive_datetime() -> None:
    assert serialize_date_time(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)) == "2026-11-26T02:00:00+00:00"
    assert serialize_date_time(datetime(2026, 11, 26, 2, 0, 0, 5000, tzinfo=UTC)) == "2026-11-26T02:00:00.005000+00:00"
    with pytest.raises(TypeError):
        serialize_date_time(datetime(2026, 11, 26, 2, 0))  # which instant? a bug, never written without an offset


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-11-26T02:00:00Z", datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),
        ("2026-11-26t02:00:00z", datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),
        ("2026-11-26T10:00:00+08:00", datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),
        ("2026-11-25T21:00:00.25-05:00", datetime(2026, 11, 26, 2, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-26T02:00:00.123456789Z", datetime(2026, 11, 26, 2, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_parsing_takes_any_offset(text: str, instant: datetime) -> None:
    assert parse_date_time(text) == instant


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-26T02:00:00",  # no offset
        "2026-11-26",
        "2026-11-26 02:00:00Z",
        "2026-13-26T02:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T02:00:00+8:00",
        "２０２６-11-26T02:00:00Z",
        1764122400,
        None,
    ],
)
def test_parsing_refuses_what_is_not_an_rfc_3339_date_time_with_an_offset(value: object) -> None:
    with pytest.raises(StrawberryInputCoercionError):
        parse_date_time(value)


def test_the_schema_describes_date_time_as_rfc_3339_with_an_offset() -> None:
    sdl = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
    found = re.search(r'"""\n(.*)\n"""\nscalar DateTime @specifiedBy\(url: "([^"]+)"\)', sdl)
    assert found is not None
    assert "RFC 3339 date-time with an offset" in found.group(1)
    assert "rfc3339" in found.group(2)
