"""Subject changes (CHG-1..7) over the GraphQL API: what every kind shares, its start, withdrawal, the
listing and the deadlines read and swept. The kinds' own steps are tested in their own files.
RULES: CHG-1 CHG-5 CHG-7
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from models.changes import SubjectChange
from schema.types.common import node_id
from services.clock import ManualClock
from services.database import Database
from services.sweeper import sweep
from tests.api.test_enterprise import face_pass, legal_rep_face
from tests.api.test_verification import face_verified
from tests.helpers import gql, mutate, registered_and_signed_in, sign_in, step_up

APPLICATION = {"version": "2026-12"}
CHANGE = (
    "id kind state steps { step status } fromSubject { subjectType name documentMasked organisationType } "
    "toSubject { subjectType name } deadline attempts { method limit used remaining } reviewDueAt endReason "
    "startedAt completedAt endedAt nextChangeAvailableAt"
)
CHANGES = f"query {{ viewer {{ subjectChanges {{ totalCount edges {{ node {{ {CHANGE} }} }} }} }} }}"


PHONES: dict[str, str] = {}  # token -> the account's phone, for its step-up codes


async def grant(client: httpx.AsyncClient, token: str, clock: ManualClock) -> str:
    """MFA-2: a step-up grant by SMS code (operation protection is on by default); the clock moves past the
    code's resend interval first."""
    clock.advance(timedelta(minutes=2))
    return await step_up(client, token, PHONES[token])


async def start(
    client: httpx.AsyncClient, token: str, kind: str, clock: ManualClock | None = None, **extra: Any
) -> dict[str, Any]:
    if clock is not None and "stepUpToken" not in extra:
        extra["stepUpToken"] = await grant(client, token, clock)
    return await mutate(
        client,
        "subjectChangeStart",
        {"kind": kind, "applicationAgreement": APPLICATION, **extra},
        f"subjectChange {{ {CHANGE} }}",
        token,
    )


async def withdraw(client: httpx.AsyncClient, token: str, change_id: str) -> dict[str, Any]:
    return await mutate(
        client, "subjectChangeWithdraw", {"changeId": change_id}, f"subjectChange {{ {CHANGE} }}", token
    )


async def listed(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    connection: dict[str, Any] = (await gql(client, CHANGES, token=token))["viewer"]["subjectChanges"]
    return connection


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def changes_in_db(db: Database) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SubjectChange)) or 0)


async def person(client: httpx.AsyncClient, username: str = "alice01", phone: str = "13700000001") -> str:
    token = await registered_and_signed_in(client, username, phone)
    PHONES[token] = phone
    await face_verified(client, token)
    return token


async def again(client: httpx.AsyncClient, token: str, username: str = "alice01") -> str:
    """A new session of the same account, after the clock moved past the idle limit."""
    fresh = await sign_in(client, username)
    PHONES[fresh] = PHONES[token]
    return fresh


async def test_chg_1_an_enterprise_cannot_change_to_a_person(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    started = await legal_rep_face(client, token)
    await face_pass(client, started)
    for kind in ("PERSON_TO_PERSON", "PERSON_TO_ENTERPRISE"):
        refused = await start(client, token, kind)
        assert codes(refused) == ["CHANGE_NOT_SUPPORTED"], refused
        assert refused["subjectChange"] is None
    assert await changes_in_db(db) == 0
    assert (await listed(client, token))["totalCount"] == 0


async def test_chg_a_change_needs_a_verified_account_and_the_current_application_agreement(
    client, db: Database
) -> None:
    token = await registered_and_signed_in(client)
    assert codes(await start(client, token, "PERSON_TO_PERSON")) == ["VERIFICATION_REQUIRED"]
    await face_verified(client, token)
    outdated = await start(client, token, "PERSON_TO_PERSON", applicationAgreement={"version": "2020-01"})
    assert codes(outdated) == ["AGREEMENT_VERSION_OUTDATED"]
    assert outdated["errors"][0]["path"] == ["input", "applicationAgreement", "version"]
    # A person's account cannot start the enterprise kinds either.
    assert codes(await start(client, token, "NAME")) == ["CHANGE_NOT_SUPPORTED"]
    assert await changes_in_db(db) == 0


async def test_chg_7_a_change_is_listed_with_its_steps_and_withdrawn_at_any_step(
    client, clock: ManualClock, db: Database
) -> None:
    token = await person(client)
    # MFA-2: a protected operation (operation protection by SMS is on by default).
    unprotected = await start(client, token, "PERSON_TO_PERSON")
    assert codes(unprotected) == ["STEP_UP_REQUIRED"]
    assert await changes_in_db(db) == 0
    started = await start(client, token, "PERSON_TO_PERSON", clock)
    assert started["errors"] == [], started
    change = started["subjectChange"]
    assert (change["kind"], change["state"]) == ("PERSON_TO_PERSON", "IDENTITY_PENDING")
    assert change["fromSubject"]["subjectType"] == "person"
    assert [s["status"] for s in change["steps"]] == ["CURRENT", "PENDING", "PENDING"]
    # CHG-5: the new person's verification is due within 1 day of the start.
    assert change["deadline"] == (clock.now() + timedelta(days=1)).isoformat()
    # One open change per account.
    assert codes(await start(client, token, "PERSON_TO_ENTERPRISE", clock)) == ["CHANGE_IN_PROGRESS"]

    ended = await withdraw(client, token, change["id"])
    assert ended["errors"] == [], ended
    node = ended["subjectChange"]
    assert (node["state"], node["endReason"], node["deadline"]) == ("WITHDRAWN", "WITHDRAWN_BY_USER", None)
    assert [s["status"] for s in node["steps"]] == ["NOT_REACHED", "NOT_REACHED", "NOT_REACHED"]
    assert codes(await withdraw(client, token, change["id"])) == ["CHANGE_ENDED"]
    # Withdrawn, it no longer stands in the way; the list keeps both, newest first.
    again = await start(client, token, "PERSON_TO_ENTERPRISE", clock)
    assert again["errors"] == []
    connection = await listed(client, token)
    assert connection["totalCount"] == 2
    assert [e["node"]["state"] for e in connection["edges"]] == ["IDENTITY_PENDING", "WITHDRAWN"]
    # The account keeps its verification throughout.
    viewer = await gql(client, "query { viewer { verification { subjectType status } } }", token=token)
    assert viewer["viewer"]["verification"] == {"subjectType": "PERSON", "status": "VERIFIED"}


async def test_chg_7_another_accounts_change_is_as_unknown_as_a_made_up_id(client, clock: ManualClock) -> None:
    owner = await person(client)
    change = (await start(client, owner, "PERSON_TO_PERSON", clock))["subjectChange"]
    other = await person(client, "bob0001", "13700000002")
    assert codes(await withdraw(client, other, change["id"])) == ["CHANGE_NOT_FOUND"]
    assert codes(await withdraw(client, other, "not-an-id")) == ["CHANGE_NOT_FOUND"]
    assert (await listed(client, owner))["edges"][0]["node"]["state"] == "IDENTITY_PENDING"
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": change["id"]}, token=other)
    assert node["node"] is None


async def test_chg_5_a_change_not_submitted_within_1_day_withdraws_itself_when_read_and_when_swept(
    client, clock: ManualClock, db: Database, run
) -> None:
    token = await person(client)
    change = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    token = await again(client, token)  # the session ended while idle (AUTH-3)
    assert (await listed(client, token))["edges"][0]["node"]["state"] == "IDENTITY_PENDING"
    clock.advance(timedelta(seconds=1))
    node = (await listed(client, token))["edges"][0]["node"]
    assert (node["state"], node["endReason"], node["deadline"]) == ("WITHDRAWN", "NEW_PERSON_NOT_SUBMITTED", None)
    async with db.read_sessions() as session:
        row = await session.get(SubjectChange, node_id(change["id"], "SubjectChange"))
        stored_state = None if row is None else row.state
    assert stored_state == "identity_pending"  # read as ended before the sweeper gets to it
    counts = await run(sweep)
    assert counts["subject_changes_ended"] == 1
    assert codes(await withdraw(client, token, change["id"])) == ["CHANGE_EXPIRED"]
    assert (await start(client, token, "PERSON_TO_PERSON", clock))["errors"] == []


async def test_chg_7_ten_concurrent_starts_open_one_change(client, clock: ManualClock, db: Database) -> None:
    token = await person(client)
    granted = await grant(client, token, clock)
    answers = await asyncio.gather(*(start(client, token, "PERSON_TO_PERSON", stepUpToken=granted) for _ in range(10)))
    assert sorted(tuple(codes(a)) for a in answers) == [()] + [("CHANGE_IN_PROGRESS",)] * 9
    assert await changes_in_db(db) == 1


async def test_chg_7_the_list_reads_in_a_fixed_number_of_statements(client, clock: ManualClock, sql) -> None:
    token = await person(client)
    for _ in range(3):
        change = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]
        await withdraw(client, token, change["id"])
    sql.reset()
    await listed(client, token)
    few = sql.count
    for _ in range(5):
        change = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]
        await withdraw(client, token, change["id"])
    sql.reset()
    connection = await listed(client, token)
    assert connection["totalCount"] == 8
    assert sql.count == few
