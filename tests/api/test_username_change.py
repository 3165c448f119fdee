"""PROF-5: a portal account's username changes at most once a year, the refusal saying when the next change
is possible; PROF-4: a cloud account's never does. Whether a name is taken is told a signed-in account at
most 10 times a day (the `accountUsernameSet` probe, bounded)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from models.accounts import Account, RetiredUsername
from models.auth import LoginThrottle
from services.clock import ManualClock, shanghai_day_start
from services.database import Database
from tests.helpers import gql, mutate, register, registered_and_signed_in, sms_sign_in

PHONE = "13800000011"
SELECTION = "account { username usernameChangeableAt }"


def _errors(payload: dict) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


async def _set(client: httpx.AsyncClient, token: str, username: str) -> dict:
    return await mutate(client, "accountUsernameSet", {"username": username}, SELECTION, token)


async def _portal(client: httpx.AsyncClient, phone: str = PHONE) -> str:
    signed_in = await sms_sign_in(client, phone)
    assert signed_in["errors"] == [], signed_in
    return str(signed_in["token"])


async def _state(db: Database) -> tuple[list[tuple[str | None, str | None, object]], list[str], list[tuple]]:
    """Every account's username, key and last change; the retired names; the counted tries."""
    async with db.read_sessions() as s:
        accounts = [
            (a.username, a.username_key, a.username_changed_at)
            for a in await s.scalars(select(Account).order_by(Account.id))
        ]
        retired = [
            r.username_key for r in await s.scalars(select(RetiredUsername).order_by(RetiredUsername.username_key))
        ]
        tries = [(t.key, t.failures) for t in await s.scalars(select(LoginThrottle).order_by(LoginThrottle.key))]
    return accounts, retired, tries


async def test_prof_5_portal_account_changes_its_username_once_a_year(client, db: Database, clock: ManualClock) -> None:
    # Given a portal account created by SMS sign-in, with no username yet
    token = await _portal(client)
    # When it chooses its first username, it is not a change: it may change it at once afterwards
    first = await _set(client, token, "carol01")
    assert first == {"account": {"username": "carol01", "usernameChangeableAt": None}, "errors": []}
    # When it changes it
    changed_at = clock.advance(minutes=5)
    changed = await _set(client, token, "carol02")
    # Then the change is made, and the next one is possible a year later
    next_change = changed_at.replace(year=changed_at.year + 1)
    assert changed == {
        "account": {"username": "carol02", "usernameChangeableAt": next_change.isoformat()},
        "errors": [],
    }
    before = await _state(db)
    # When it changes it again the day before the year is over
    clock.advance(days=364)
    token = await _portal(client)  # the session ended meanwhile (AUTH-3); SMS sign-in reaches the same account
    refused = await _set(client, token, "carol03")
    # Then it is refused with the time of the next possible change, and nothing changed
    assert _errors(refused) == [("USERNAME_CHANGE_TOO_SOON", ["input", "username"])]
    assert refused["errors"][0]["retryAfter"] == 24 * 3600
    assert refused["errors"][0]["message"] == (
        "The username can be changed once a year; the next change is possible from 2027-11-26 10:05 (Asia/Shanghai)."
    )
    assert await _state(db) == before
    # When the year is over (one second left: still refused, told one second)
    clock.set(next_change - timedelta(seconds=1))
    token = await _portal(client)
    assert (await _set(client, token, "carol03"))["errors"][0]["retryAfter"] == 1
    clock.set(next_change)
    due = await gql(client, "{ viewer { usernameChangeableAt } }", token=token)
    assert due["viewer"] == {"usernameChangeableAt": None}  # the year is over: a change is possible now
    again = await _set(client, token, "carol03")
    # Then the change is made
    assert again["errors"] == []
    assert again["account"]["username"] == "carol03"


async def test_prof_5_names_given_up_are_never_given_to_another_account(client, db: Database) -> None:
    # Given a portal account that chose a username and changed it
    token = await _portal(client)
    assert (await _set(client, token, "carol01"))["errors"] == []
    assert (await _set(client, token, "Carol02"))["errors"] == []
    # Then the name it gave up is retired (REG-2): another portal account is told it is taken
    other = await _portal(client, "13800000022")
    taken = await _set(client, other, "CAROL01")
    assert _errors(taken) == [("USERNAME_TAKEN", ["input", "username"])]
    # And nobody can register it as a cloud account either
    registered = await register(client, "carol01", "13800000033")
    assert _errors(registered) == [("USERNAME_TAKEN", ["input", "username"])]
    _, retired, _ = await _state(db)
    assert retired == ["carol01"]


async def test_prof_5_while_no_change_is_possible_a_taken_name_is_not_told(client, db: Database) -> None:
    # Given a portal account that has just changed its username, and a cloud account's name
    assert (await register(client, "alice01", "13700000001"))["errors"] == []
    token = await _portal(client)
    assert (await _set(client, token, "carol01"))["errors"] == []
    assert (await _set(client, token, "carol02"))["errors"] == []
    before = await _state(db)
    # When it asks for the taken name and for a free one
    taken = await _set(client, token, "alice01")
    free = await _set(client, token, "carol03")
    # Then both are answered alike, PROF-5's refusal, before any name is looked up or a try counted
    assert _errors(taken) == _errors(free) == [("USERNAME_CHANGE_TOO_SOON", ["input", "username"])]
    assert await _state(db) == before


async def test_prof_5_the_same_name_again_changes_nothing_and_a_new_letter_case_is_a_change(
    client, db: Database, clock: ManualClock
) -> None:
    # Given a portal account with a username
    token = await _portal(client)
    assert (await _set(client, token, "carol01"))["errors"] == []
    before = await _state(db)
    # When it sets the same name again, nothing changes and no change is counted
    same = await _set(client, token, "carol01")
    assert same == {"account": {"username": "carol01", "usernameChangeableAt": None}, "errors": []}
    assert await _state(db) == before
    # When it changes the letter case only, that is its change of the year (the name stays its own)
    recased = await _set(client, token, "Carol01")
    assert recased["errors"] == []
    assert recased["account"]["usernameChangeableAt"] == clock.now().replace(year=2027).isoformat()
    accounts, retired, _ = await _state(db)
    assert (accounts[0][:2], retired) == (("Carol01", "carol01"), [])


async def test_prof_4_prof_5_cloud_account_username_never_changes(client, db: Database) -> None:
    # Given a cloud account
    token = await registered_and_signed_in(client, "alice01", "13700000001")
    before = await _state(db)
    # When it asks for another username
    refused = await _set(client, token, "alice02")
    # Then it is refused (PROF-4: PROF-5 is for portal accounts) and nothing changed
    assert _errors(refused) == [("USERNAME_IMMUTABLE", ["input", "username"])]
    assert await _state(db) == before
    viewer = await mutate(client, "accountUsernameSet", {"username": "alice01"}, SELECTION, token)
    assert _errors(viewer) == [("USERNAME_IMMUTABLE", ["input", "username"])]


async def test_prof_5_taken_names_are_told_ten_times_a_day(client, db: Database, clock: ManualClock) -> None:
    # Given a cloud account's name and a portal account without a username
    assert (await register(client, "alice01", "13700000001"))["errors"] == []
    token = await _portal(client)
    # When it asks for the taken name ten times
    told = [await _set(client, token, "alice01") for _ in range(10)]
    # Then each time it is told the name is taken
    assert [_errors(r) for r in told] == [[("USERNAME_TAKEN", ["input", "username"])]] * 10
    before = await _state(db)
    # When it asks an eleventh time, for a taken or a free name
    eleventh = [await _set(client, token, name) for name in ("alice01", "carol01")]
    # Then nothing is looked up: both are refused until the next Asia/Shanghai day, and nothing changed
    _, until_tomorrow = shanghai_day_start(clock.now())
    for refused in eleventh:
        assert _errors(refused) == [("USERNAME_CHECK_LIMIT_REACHED", ["input", "username"])]
        assert refused["errors"][0]["retryAfter"] == until_tomorrow
    assert await _state(db) == before
    # When the next day comes, it may try again
    clock.advance(seconds=until_tomorrow)
    token = await _portal(client)  # the session ended meanwhile (AUTH-3)
    assert (await _set(client, token, "carol01"))["errors"] == []


@pytest.mark.slow
async def test_prof_5_sixty_simultaneous_taken_names_get_ten_answers(client, db: Database) -> None:
    # Given a cloud account's name and a portal account without a username
    assert (await register(client, "alice01", "13700000001"))["errors"] == []
    token = await _portal(client)
    # When it asks for the taken name 60 times at once
    results = await asyncio.gather(*[_set(client, token, "alice01") for _ in range(60)])
    # Then exactly ten are told it is taken, and the rest are refused without a look-up
    answers = [_errors(r) for r in results]
    assert answers.count([("USERNAME_TAKEN", ["input", "username"])]) == 10
    assert answers.count([("USERNAME_CHECK_LIMIT_REACHED", ["input", "username"])]) == 50
    _, _, tries = await _state(db)
    assert [n for key, n in tries if key.startswith("username-check:")] == [10]
