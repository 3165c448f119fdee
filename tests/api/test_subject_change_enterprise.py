"""A change to another enterprise (CHG-3) over the GraphQL API, and enterprise verifications run inside a
subject change (the new subject of CHG-3 and CHG-4).

RULES: CHG-3 CHG-4
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from models.changes import SubjectChange
from models.enterprise import EnterpriseApplication
from models.verification import VerificationAttempt
from schema.types.common import node_id
from services.clock import ManualClock
from services.database import Database
from tests.api.test_enterprise import (
    _recharge_pending,
    _remit,
    current,
    face_pass,
    legal_rep_face,
    organisation,
    uscc,
)
from tests.api.test_subject_changes import PHONES, codes, start
from tests.helpers import registered_and_signed_in

NEW_USCC = uscc("91", "350100M000200Y4")
NEW_NAME = "新星科技有限公司"


def new_organisation(**changes: str) -> dict[str, str]:
    return organisation(name=changes.get("name", NEW_NAME), code=changes.get("code", NEW_USCC), rep="王五")


async def enterprise_account(client: httpx.AsyncClient, username: str = "alice01", phone: str = "13700000001") -> str:
    """An account verified as the default organisation (legal-representative face)."""
    token = await registered_and_signed_in(client, username, phone)
    PHONES[token] = phone
    started = await legal_rep_face(client, token)
    assert started["errors"] == [], started
    await face_pass(client, started)
    return token


async def stored_change(db: Database, global_id: str) -> SubjectChange:
    async with db.read_sessions() as session:
        row = await session.get(SubjectChange, node_id(global_id, "SubjectChange"))
        assert row is not None
        return row


async def prepared_new_subject_pending(client: httpx.AsyncClient, token: str, clock: ManualClock, db: Database) -> str:
    """A CHG-3 change moved straight to NEW_SUBJECT_PENDING (its earlier steps are tested on their own),
    naming the new organisation, with the 9 days running."""
    started = await start(client, token, "ENTERPRISE", clock)
    assert started["errors"] == [], started
    change_id = str(started["subjectChange"]["id"])
    async with db.write_sessions() as session:
        row = await session.get(SubjectChange, node_id(change_id, "SubjectChange"))
        assert row is not None
        row.state, row.to_uscc, row.to_name = "new_subject_pending", NEW_USCC, NEW_NAME
        row.to_subject_type, row.to_organisation_type, row.to_legal_rep_name = "enterprise", "enterprise", "王五"
        row.acceptance_version = "2026-12"
        row.expires_at = clock.now() + timedelta(days=9)
        await session.commit()
    return change_id


async def verification_name(client: httpx.AsyncClient, token: str) -> str:
    state = await current(client, token)
    return str(state["verification"]["organisationName"])


# --- enterprise verification inside a change -----------------------------------------------------------


async def test_chg_3_the_new_enterprise_verifies_inside_the_change_by_legal_rep_face(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise_account(client)
    change_id = await prepared_new_subject_pending(client, token, clock, db)
    # Without the change, RN-5 still refuses: the account is verified.
    plain = await legal_rep_face(client, token, organisation=new_organisation())
    assert codes(plain) == ["ALREADY_VERIFIED"]
    # CHG-3: only the organisation named in the change, and nothing is counted or created when refused.
    other = await legal_rep_face(
        client, token, organisation=new_organisation(name="别的科技有限公司"), changeId=change_id
    )
    assert codes(other) == ["CHANGE_ORGANISATION_MISMATCH"]
    assert other["errors"][0]["path"] == ["input", "organisation", "uscc"]
    unknown = await legal_rep_face(client, token, organisation=new_organisation(), changeId="not-an-id")
    assert codes(unknown) == ["CHANGE_NOT_FOUND"]
    async with db.read_sessions() as session:
        assert len((await session.scalars(select(EnterpriseApplication.id))).all()) == 1
    started = await legal_rep_face(client, token, organisation=new_organisation(), changeId=change_id)
    assert started["errors"] == [], started
    # Until the new subject passes, the account's real name stays the original subject.
    assert await verification_name(client, token) == "示例科技有限公司"
    await face_pass(client, started)
    state = await current(client, token)
    assert state["verification"]["organisationName"] == NEW_NAME
    assert state["verification"]["status"] == "VERIFIED"
    row = await stored_change(db, change_id)
    assert (row.state, row.to_name) == ("completed", NEW_NAME)
    async with db.read_sessions() as session:
        attempt = (
            await session.scalars(select(VerificationAttempt).where(VerificationAttempt.change_id == row.id))
        ).one()
        application = (
            await session.scalars(select(EnterpriseApplication).where(EnterpriseApplication.change_id == row.id))
        ).one()
    assert (attempt.outcome, attempt.counted, application.state) == ("passed", False, "verified")
    assert row.to_attempt_id == attempt.id
    # Ended, the change takes no more verifications.
    assert codes(await legal_rep_face(client, token, organisation=new_organisation(), changeId=change_id)) == [
        "CHANGE_ENDED"
    ]


async def test_chg_3_a_change_at_another_step_takes_no_verification(client, clock: ManualClock, db: Database) -> None:
    token = await enterprise_account(client)
    started = await start(client, token, "ENTERPRISE", clock)
    change_id = started["subjectChange"]["id"]
    refused = await legal_rep_face(client, token, organisation=new_organisation(), changeId=change_id)
    assert codes(refused) == ["CHANGE_STEP_NOT_CURRENT"]
    other = await enterprise_account(client, "bob0001", "13700000002")
    assert codes(await legal_rep_face(client, other, organisation=new_organisation(), changeId=change_id)) == [
        "CHANGE_NOT_FOUND"
    ]
    async with db.read_sessions() as session:
        assert len((await session.scalars(select(EnterpriseApplication.id))).all()) == 2


async def test_chg_3_the_new_enterprise_verifies_inside_the_change_by_recharge(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise_account(client)
    change_id = await prepared_new_subject_pending(client, token, clock, db)
    node = await _recharge_pending(client, token, organisation=new_organisation(), changeId=change_id)
    assert node["remittance"]["payerAccountName"] == NEW_NAME
    response = await _remit(client, node)
    assert response.json()["outcome"] == "matched"
    state = await current(client, token)
    assert (state["verification"]["organisationName"], state["verification"]["method"]) == (NEW_NAME, "RECHARGE")
    assert (await stored_change(db, change_id)).state == "completed"


async def test_chg_3_a_face_pass_after_the_change_lapsed_fails_with_change_ended(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise_account(client)
    change_id = await prepared_new_subject_pending(client, token, clock, db)
    started = await legal_rep_face(client, token, organisation=new_organisation(), changeId=change_id)
    assert started["errors"] == [], started
    # The face ticket is still open while the 9 days run out.
    async with db.write_sessions() as session:
        row = await session.get(SubjectChange, node_id(change_id, "SubjectChange"))
        assert row is not None
        row.expires_at = clock.now() + timedelta(minutes=1)
        await session.commit()
    clock.advance(timedelta(minutes=2))
    await face_pass(client, started)
    row = await stored_change(db, change_id)
    async with db.read_sessions() as session:
        application = (
            await session.scalars(select(EnterpriseApplication).where(EnterpriseApplication.change_id == row.id))
        ).one()
    assert (application.state, application.reason) == ("failed", "CHANGE_ENDED")
    assert await verification_name(client, token) == "示例科技有限公司"
