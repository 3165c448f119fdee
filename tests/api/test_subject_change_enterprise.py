"""A change to another enterprise (CHG-3) over the GraphQL API, and enterprise verifications run inside a
subject change (the new subject of CHG-3 and CHG-4).

RULES: CHG-3 CHG-4
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from models.changes import SubjectChange
from models.enterprise import EnterpriseApplication
from models.review import Reviewer, ReviewItem
from models.verification import VerificationAttempt
from schema.types.common import node_id
from services.clock import ManualClock
from services.database import Database
from services.review import service as review
from tests.api.test_appeals import _upload
from tests.api.test_enterprise import (
    USCC_ENTERPRISE,
    _recharge_pending,
    _remit,
    confirm,
    current,
    lead,
    legal_rep_face,
    organisation,
    transfer,
    uscc,
)
from tests.api.test_subject_changes import CHANGE, PHONES, again, changes_in_db, codes, listed, start
from tests.api.test_verification import ID_1949, ID_2008
from tests.helpers import gql, mutate, outbox, registered_and_signed_in

__all__ = ["lead"]  # the reviewer fixture
CHANGE_FIELDS = f"{CHANGE} formDownloadUrl toSubject {{ subjectType name documentMasked organisationType }}"

NEW_USCC = uscc("91", "350100M000200Y4")
NEW_NAME = "新星科技有限公司"


async def face_pass_at(client: httpx.AsyncClient, started: dict[str, Any], outcome: str = "pass") -> None:
    """The sandbox face page's answer for a started face check, on whatever origin the app was served."""
    path = urlsplit(started["faceCheckStart"]["faceCheck"]["url"]).path
    assert path.startswith("/sandbox/face/"), path
    response = await client.post(path, data={"outcome": outcome})
    assert response.status_code == 200, response.text


def new_organisation(**changes: str) -> dict[str, str]:
    return organisation(name=changes.get("name", NEW_NAME), code=changes.get("code", NEW_USCC), rep="王五")


async def enterprise_account(
    client: httpx.AsyncClient, username: str = "alice01", phone: str = "13700000001", name: str = "示例科技有限公司"
) -> str:
    """An account verified as an organisation (legal-representative face)."""
    token = await registered_and_signed_in(client, username, phone)
    PHONES[token] = phone
    started = await legal_rep_face(client, token, organisation=organisation(name=name))
    assert started["errors"] == [], started
    await face_pass_at(client, started)
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
        row.to_subject_type, row.to_organisation_type, row.to_legal_rep_name = "enterprise", "ENTERPRISE", "王五"
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
    await face_pass_at(client, started)
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
    await face_pass_at(client, started)
    row = await stored_change(db, change_id)
    async with db.read_sessions() as session:
        application = (
            await session.scalars(select(EnterpriseApplication).where(EnterpriseApplication.change_id == row.id))
        ).one()
    assert (application.state, application.reason) == ("failed", "CHANGE_ENDED")
    assert await verification_name(client, token) == "示例科技有限公司"


# --- CHG-3 steps ---------------------------------------------------------------------------------------


def details_input(change_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "changeId": change_id,
        "newOrganisation": {
            "name": NEW_NAME,
            "uscc": NEW_USCC,
            "organisationType": "ENTERPRISE",
            "legalRepresentativeName": "王五",
        },
        "reason": "业务整体转让给新公司 / the business moved to the new company",
        "contactName": "李四",
        "contactIdNumber": ID_2008,
        **changes,
    }


async def submit_details(client: httpx.AsyncClient, token: str, change_id: str, **changes: Any) -> dict[str, Any]:
    return await mutate(
        client,
        "subjectChangeEnterpriseDetailsSubmit",
        details_input(change_id, **changes),
        f"subjectChange {{ {CHANGE_FIELDS} }}",
        token,
    )


async def contact_face(client: httpx.AsyncClient, token: str, change_id: str) -> dict[str, Any]:
    return await mutate(
        client,
        "subjectChangeContactFaceStart",
        {"changeId": change_id},
        f"subjectChange {{ {CHANGE_FIELDS} }} faceCheckStart {{ attempt {{ method outcome }} faceCheck {{ url }} }}",
        token,
    )


async def stamped_form(client: httpx.AsyncClient, token: str, change_id: str, upload: str) -> dict[str, Any]:
    return await mutate(
        client,
        "subjectChangeStampedFormSubmit",
        {"changeId": change_id, "uploadId": upload},
        f"subjectChange {{ {CHANGE_FIELDS} }}",
        token,
    )


async def node(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    data = await gql(
        client, f"query {{ viewer {{ subjectChanges {{ edges {{ node {{ {CHANGE_FIELDS} }} }} }} }} }}", token=token
    )
    return dict(data["viewer"]["subjectChanges"]["edges"][0]["node"])


async def at_form(client: httpx.AsyncClient, token: str, clock: ManualClock) -> dict[str, Any]:
    """A CHG-3 change through its details and the contact's face check: FORM_PENDING."""
    started = await start(client, token, "ENTERPRISE", clock)
    assert started["errors"] == [], started
    change_id = started["subjectChange"]["id"]
    assert started["subjectChange"]["state"] == "DETAILS_PENDING"
    submitted = await submit_details(client, token, change_id)
    assert submitted["errors"] == [], submitted
    face = await contact_face(client, token, change_id)
    assert face["errors"] == [], face
    await face_pass_at(client, face)
    return await node(client, token)


async def in_review(client: httpx.AsyncClient, token: str, clock: ManualClock) -> dict[str, Any]:
    change = await at_form(client, token, clock)
    submitted = await stamped_form(client, token, change["id"], await _upload(client, token))
    assert submitted["errors"] == [], submitted
    return dict(submitted["subjectChange"])


async def test_chg_3_an_organisation_named_offline_is_not_eligible_for_an_online_change(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise_account(client, name="示例线下科技有限公司")
    refused = await start(client, token, "ENTERPRISE", clock)
    assert codes(refused) == ["CHANGE_NOT_ELIGIBLE_ONLINE"]
    message = refused["errors"][0]["message"]
    assert "contact your account manager or open a ticket" in message
    assert "客户经理" in message
    assert await changes_in_db(db) == 0
    # Only CHG-3 asks: a name change of the same account starts.
    assert (await start(client, token, "NAME", clock))["errors"] == []


async def test_chg_3_details_are_checked_locally_every_problem_at_once_and_change_nothing(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise_account(client)
    change_id = (await start(client, token, "ENTERPRISE", clock))["subjectChange"]["id"]
    refused = await submit_details(
        client,
        token,
        change_id,
        newOrganisation={
            "name": " ",
            "uscc": "91350100M000100Y40",
            "organisationType": "ENTERPRISE",
            "legalRepresentativeName": "",
        },
        reason="",
        contactIdNumber="110101194910010000",
    )
    assert sorted((e["code"], tuple(e["path"])) for e in refused["errors"]) == sorted(
        [
            ("ORGANISATION_NAME_INVALID", ("input", "newOrganisation", "name")),
            ("USCC_INVALID", ("input", "newOrganisation", "uscc")),
            ("NAME_INVALID", ("input", "newOrganisation", "legalRepresentativeName")),
            ("CHANGE_REASON_INVALID", ("input", "reason")),
            ("ID_NUMBER_INVALID", ("input", "contactIdNumber")),
        ]
    )
    assert codes(await submit_details(client, token, change_id, reason="x" * 501)) == ["CHANGE_REASON_INVALID"]
    same = await submit_details(
        client,
        token,
        change_id,
        newOrganisation={
            "name": NEW_NAME,
            "uscc": USCC_ENTERPRISE,
            "organisationType": "ENTERPRISE",
            "legalRepresentativeName": "王五",
        },
    )
    assert codes(same) == ["CHANGE_USCC_UNCHANGED"]
    assert same["errors"][0]["path"] == ["input", "newOrganisation", "uscc"]
    assert codes(await contact_face(client, token, change_id)) == ["CHANGE_STEP_NOT_CURRENT"]
    row = await stored_change(db, change_id)
    assert (row.state, row.to_uscc, row.change_reason, row.contact_name) == ("details_pending", None, None, None)
    other = await enterprise_account(client, "bob0001", "13700000002")
    assert codes(await submit_details(client, other, change_id)) == ["CHANGE_NOT_FOUND"]


async def test_chg_3_details_then_the_contacts_face_check_generates_the_form(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise_account(client)
    change_id = (await start(client, token, "ENTERPRISE", clock))["subjectChange"]["id"]
    submitted = await submit_details(client, token, change_id)
    assert submitted["errors"] == [], submitted
    change = submitted["subjectChange"]
    assert change["state"] == "CONTACT_FACE_PENDING"
    assert change["toSubject"] == {
        "subjectType": "enterprise",
        "name": NEW_NAME,
        "documentMasked": NEW_USCC,
        "organisationType": "ENTERPRISE",
    }
    assert change["formDownloadUrl"] is None
    row = await stored_change(db, change_id)
    assert row.contact_document_masked is not None
    assert ID_2008 not in row.contact_document_masked
    assert row.contact_document_sealed is not None
    assert ID_2008 not in row.contact_document_sealed
    # A failed face check leaves the change where it is; a new one may start.
    failed = await contact_face(client, token, change_id)
    assert failed["errors"] == [], failed
    assert failed["faceCheckStart"]["attempt"]["method"] == "CONTACT_FACE"
    await face_pass_at(client, failed, "fail")
    assert (await node(client, token))["state"] == "CONTACT_FACE_PENDING"
    passed = await contact_face(client, token, change_id)
    await face_pass_at(client, passed)
    change = await node(client, token)
    assert change["state"] == "FORM_PENDING"
    row = await stored_change(db, change_id)
    assert row.form_reference is not None
    assert row.contact_attempt_id is not None
    assert change["formDownloadUrl"] == f"/subject-changes/{change_id}/form"
    # The face checks are in the account's attempt history (RN-7) and the verification stays the original.
    state = await current(client, token)
    assert state["verification"]["organisationName"] == "示例科技有限公司"


async def test_chg_3_the_form_is_a_printable_page_for_its_owner_only(client, clock: ManualClock, db: Database) -> None:
    token = await enterprise_account(client)
    change = await at_form(client, token, clock)
    url = change["formDownloadUrl"]
    row = await stored_change(db, change["id"])
    assert row.form_reference is not None
    response = await client.get(url, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "private, no-store"
    page = response.text
    for shown in (row.form_reference, "示例科技有限公司", USCC_ENTERPRISE, NEW_NAME, NEW_USCC, "*五", "*三",
                  "业务整体转让给新公司", "*四", "原认证主体盖章", "新认证主体盖章", clock.now().date().isoformat()[:4]):  # fmt: skip
        assert shown in page, shown
    for hidden in (ID_2008, ID_1949, "王五", "张三", "李四"):
        assert hidden not in page, hidden
    assert (await client.get(url)).status_code == 401
    other = await enterprise_account(client, "bob0001", "13700000002")
    assert (await client.get(url, headers={"authorization": f"Bearer {other}"})).status_code == 404
    assert (
        await client.get("/subject-changes/bm9wZQ==/form", headers={"authorization": f"Bearer {token}"})
    ).status_code == 404


async def test_chg_3_the_form_does_not_exist_before_the_contacts_face_check(client, clock: ManualClock) -> None:
    token = await enterprise_account(client)
    change_id = (await start(client, token, "ENTERPRISE", clock))["subjectChange"]["id"]
    response = await client.get(f"/subject-changes/{change_id}/form", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "CHANGE_NOT_FOUND"


async def test_chg_3_the_stamped_form_goes_to_the_2_day_review_then_acceptance_and_the_new_enterprise(
    client, clock: ManualClock, db: Database, run, lead: Reviewer
) -> None:
    token = await enterprise_account(client)
    change = await at_form(client, token, clock)
    other = await enterprise_account(client, "bob0001", "13700000002")
    refused = await stamped_form(client, token, change["id"], await _upload(client, other))
    assert codes(refused) == ["DOCUMENT_NOT_FOUND"]
    assert (await stored_change(db, change["id"])).state == "form_pending"
    submitted = await stamped_form(client, token, change["id"], await _upload(client, token))
    assert submitted["errors"] == [], submitted
    assert submitted["subjectChange"]["state"] == "IN_REVIEW"
    assert submitted["subjectChange"]["reviewDueAt"] is not None
    row = await stored_change(db, change["id"])
    assert row.review_item_id is not None
    assert row.stamped_form_document_id is not None
    async with db.read_sessions() as session:
        item = await session.get(ReviewItem, row.review_item_id)
        assert item is not None
        assert (item.kind, item.queue_days) == ("subject_change", 2)
    await run(review.claim, lead, row.review_item_id)
    await run(review.approve, lead, row.review_item_id)
    approved = await node(client, token)
    assert approved["state"] == "ACCEPTANCE_PENDING"
    assert approved["deadline"] == (clock.now() + timedelta(days=9)).isoformat()
    assert any("9" in m["text"] for m in await outbox(client, "13700000001"))
    accepted = await mutate(
        client,
        "subjectChangeAccept",
        {"changeId": change["id"], "acceptanceAgreement": {"version": "2026-12"}},
        f"subjectChange {{ {CHANGE_FIELDS} }}",
        token,
    )
    assert accepted["errors"] == [], accepted
    assert accepted["subjectChange"]["state"] == "NEW_SUBJECT_PENDING"
    # Until the new enterprise verifies, the account's real name is the original subject.
    assert await verification_name(client, token) == "示例科技有限公司"
    # Any enterprise method: here a corporate bank transfer, with its own face check and payout.
    started = await transfer(client, token, organisation=new_organisation(), changeId=change["id"])
    assert started["errors"] == [], started
    await face_pass_at(client, started)
    vid = started["faceCheckStart"]["enterpriseVerification"]["id"]
    async with db.read_sessions() as session:
        application = (
            await session.scalars(select(EnterpriseApplication).where(EnterpriseApplication.change_id == row.id))
        ).one()
    assert application.amount_fen is not None
    confirmed = await confirm(client, token, vid, f"{application.amount_fen / 100:.2f}")
    assert confirmed["errors"] == [], confirmed
    state = await current(client, token)
    assert (state["verification"]["organisationName"], state["verification"]["method"]) == (NEW_NAME, "BANK_TRANSFER")
    done = await node(client, token)
    assert done["state"] == "COMPLETED"
    assert [s["status"] for s in done["steps"]] == ["DONE"] * 6


async def test_chg_3_the_change_lapses_9_days_after_approval_and_a_late_pass_changes_nothing(
    client, clock: ManualClock, db: Database, run, lead: Reviewer
) -> None:
    token = await enterprise_account(client)
    change = await in_review(client, token, clock)
    row = await stored_change(db, change["id"])
    assert row.review_item_id is not None
    await run(review.claim, lead, row.review_item_id)
    await run(review.approve, lead, row.review_item_id)
    await mutate(
        client,
        "subjectChangeAccept",
        {"changeId": change["id"], "acceptanceAgreement": {"version": "2026-12"}},
        "subjectChange { state }",
        token,
    )
    clock.advance(timedelta(days=9) - timedelta(minutes=5))
    token = await again(client, token)
    started = await legal_rep_face(client, token, organisation=new_organisation(), changeId=change["id"])
    assert started["errors"] == [], started
    clock.advance(timedelta(minutes=5))
    lapsed = await node(client, token)
    assert (lapsed["state"], lapsed["endReason"]) == ("LAPSED", "NEW_SUBJECT_NOT_VERIFIED")
    await face_pass_at(client, started)
    async with db.read_sessions() as session:
        application = (
            await session.scalars(select(EnterpriseApplication).where(EnterpriseApplication.change_id == row.id))
        ).one()
    assert (application.state, application.reason) == ("failed", "CHANGE_ENDED")
    assert await verification_name(client, token) == "示例科技有限公司"
    assert codes(await legal_rep_face(client, token, organisation=new_organisation(), changeId=change["id"])) == [
        "CHANGE_EXPIRED"
    ]
    assert (await listed(client, token))["edges"][0]["node"]["state"] == "LAPSED"
