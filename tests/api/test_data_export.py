"""Issue 15 item 3: a copy of the user's data, a protected operation (MFA-2), downloadable by its owner until it
expires, with a bounded number of statements."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from models.lifecycle import DataExport
from services.clock import ManualClock
from services.database import Database
from services.lifecycle import export
from services.sweeper import sweep
from tests.conftest import SqlCounter
from tests.helpers import mutate, registered_and_signed_in, sign_in, step_up

PHONE = "13700000031"
EXPORT = "export { downloadUrl expiresAt sizeBytes }"


async def _grant(client: httpx.AsyncClient, token: str, clock: ManualClock, phone: str = PHONE) -> str:
    clock.advance(timedelta(minutes=2))  # past the code's resend interval
    return await step_up(client, token, phone)


async def _export(client: httpx.AsyncClient, token: str, grant: str | None) -> dict:
    return await mutate(client, "accountDataExportCreate", {"stepUpToken": grant}, EXPORT, token)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def _count(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(DataExport))).scalar_one())


async def test_export_is_protected_and_downloadable_by_its_owner(client, clock: ManualClock, db: Database) -> None:
    token = await registered_and_signed_in(client, "exporter1", PHONE)
    refused = await _export(client, token, None)
    assert [e["code"] for e in refused["errors"]] == ["STEP_UP_REQUIRED"]
    assert refused["export"] is None
    assert await _count(db) == 0

    made = await _export(client, token, await _grant(client, token, clock))
    assert made["errors"] == [], made
    url = made["export"]["downloadUrl"]
    assert "/exports/exp_" in url
    response = await client.get(_path(url), headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("attachment")
    document = json.loads(response.content)
    assert document["loginNames"]["username"] == "exporter1"
    assert document["loginNames"]["phone"].endswith("13700000031")
    assert {"profile", "agreements", "sessions", "appeals", "subjectChanges", "balanceLedger", "verification"} <= set(
        document
    )
    assert len(document["agreements"]["items"]) == 3  # REG-5: the three accepted at sign-up
    assert document["sessions"]["items"][0]["method"] == "password"


async def test_export_of_another_account_unknown_or_expired_answers_404_alike(
    client, clock: ManualClock, db: Database
) -> None:
    owner = await registered_and_signed_in(client, "exporter2", PHONE)
    other = await registered_and_signed_in(client, "exporter3", "13700000032")
    made = await _export(client, owner, await _grant(client, owner, clock))
    path = _path(made["export"]["downloadUrl"])

    assert (await client.get(path)).status_code == 401
    theirs = await client.get(path, headers={"authorization": f"Bearer {other}"})
    unknown = await client.get("/exports/exp_unknown", headers={"authorization": f"Bearer {other}"})
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert theirs.json()["errors"][0]["code"] == "EXPORT_NOT_FOUND"

    clock.advance(export.EXPORT_TTL)
    owner = await sign_in(client, "exporter2")  # the first session idled out meanwhile
    expired = await client.get(path, headers={"authorization": f"Bearer {owner}"})
    assert expired.status_code == 404
    assert expired.json() == unknown.json()


async def test_a_new_export_replaces_the_previous_one_and_the_sweeper_deletes_expired_ones(
    client, clock: ManualClock, db: Database, run
) -> None:
    token = await registered_and_signed_in(client, "exporter4", PHONE)
    first = await _export(client, token, await _grant(client, token, clock))
    second = await _export(client, token, await _grant(client, token, clock))
    assert await _count(db) == 1
    gone = await client.get(_path(first["export"]["downloadUrl"]), headers={"authorization": f"Bearer {token}"})
    assert gone.status_code == 404
    kept = await client.get(_path(second["export"]["downloadUrl"]), headers={"authorization": f"Bearer {token}"})
    assert kept.status_code == 200

    clock.advance(export.EXPORT_TTL + timedelta(seconds=1))
    counts = await run(sweep)
    assert counts["data_exports_deleted"] == 1
    assert await _count(db) == 0


async def test_export_statements_are_bounded_whatever_the_account_holds(
    client, clock: ManualClock, db: Database, sql: SqlCounter
) -> None:
    token = await registered_and_signed_in(client, "exporter5", PHONE)
    grant = await _grant(client, token, clock)
    sql.reset()
    assert (await _export(client, token, grant))["errors"] == []
    few = sql.count
    for _ in range(5):  # more sessions: more rows, not more statements
        await sign_in(client, "exporter5")
    grant = await _grant(client, token, clock)
    sql.reset()
    assert (await _export(client, token, grant))["errors"] == []
    assert sql.count == few
    assert few <= len(export.SECTIONS) + 12
