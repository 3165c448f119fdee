"""CHG-2 over the GraphQL API: a name change of an enterprise-verified account, from the new name and licence
through the automatic registry check (completing at once) or the supplementary material and the review
(approve, reject, more material), and its withdrawal while in review (the item leaves the queue).
RULES: CHG-2 CHG-7 REV-4
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from models.accounts import AgreementAcceptance
from models.changes import SubjectChange, SubjectChangeDocument
from models.review import ReviewAuditEntry, Reviewer, ReviewItem
from models.verification import Verification
from schema.types.common import node_id
from services.clock import ManualClock
from services.database import Database
from services.review import queues
from services.review import service as review
from services.review.kinds import Comparison, RejectReason
from services.uow import Uow
from services.verification.changes import repository as change_repo
from tests.api.test_appeals import _upload
from tests.api.test_enterprise import face_pass, legal_rep_face
from tests.api.test_subject_changes import CHANGE, PHONES, codes, start, withdraw
from tests.helpers import gql, mutate, outbox, registered_and_signed_in

OLD_NAME = "示例科技有限公司"  # tests/api/test_enterprise.py organisation()
NEW_NAME = "示例智能科技有限公司"
FAILING_NAME = "示例更名科技有限公司"  # docs/sandbox.md: `更名` fails the automatic licence check
ACCEPTANCE = {"version": "2026-12"}
PHONE = "13700000001"
NAMED = f"subjectChange {{ {CHANGE} moreMaterialMessage rejectReason rejectText toSubject {{ documentMasked }} }}"
VERIFIED_NAME = (
    "query { viewer { verification { subjectType ... on EnterpriseVerification { organisationName uscc } } } }"
)


@pytest.fixture
async def lead(db: Database, clock: ManualClock) -> Reviewer:
    async with db.write_sessions() as s:
        staff = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                         totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(staff)
        await s.commit()
        return staff


async def enterprise(client: httpx.AsyncClient) -> str:
    """An account verified as the enterprise 示例科技有限公司 by legal-representative face (RNE-2)."""
    token = await registered_and_signed_in(client, "alice01", PHONE)
    PHONES[token] = PHONE
    started = await legal_rep_face(client, token)
    assert started["errors"] == [], started
    await face_pass(client, started)
    return token


async def started_name_change(client: httpx.AsyncClient, token: str, clock: ManualClock) -> dict[str, Any]:
    started = await start(client, token, "NAME", clock)
    assert started["errors"] == [], started
    change: dict[str, Any] = started["subjectChange"]
    assert (change["kind"], change["state"]) == ("NAME", "DETAILS_PENDING")
    return change


async def submit_name(
    client: httpx.AsyncClient, token: str, change_id: str, name: str = NEW_NAME, **extra: Any
) -> dict[str, Any]:
    if "licenceUploadId" not in extra:
        extra["licenceUploadId"] = await _upload(client, token)
    data = {"changeId": change_id, "newName": name, "acceptanceAgreement": ACCEPTANCE, **extra}
    return await mutate(client, "subjectChangeNameSubmit", data, NAMED, token)


async def submit_material(
    client: httpx.AsyncClient, token: str, change_id: str, kind: str = "REGISTRY_CHANGE_CERTIFICATE", **extra: Any
) -> dict[str, Any]:
    if "supplementUploadId" not in extra:
        extra["supplementUploadId"] = await _upload(client, token)
    data = {"changeId": change_id, "supplementKind": kind, **extra}
    return await mutate(client, "subjectChangeNameMaterialSubmit", data, NAMED, token)


async def answer(client: httpx.AsyncClient, token: str, change_id: str, upload_ids: list[str]) -> dict[str, Any]:
    data = {"changeId": change_id, "uploadIds": upload_ids}
    return await mutate(client, "subjectChangeMaterialAnswer", data, NAMED, token)


async def verified_name(client: httpx.AsyncClient, token: str) -> str:
    return str((await gql(client, VERIFIED_NAME, token=token))["viewer"]["verification"]["organisationName"])


async def rows(db: Database) -> dict[str, int]:
    """What a refusal must leave as it was: changes and their state, items, documents answered, acceptances."""
    async with db.read_sessions() as s:

        async def count(model: Any, *where: Any) -> int:
            return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return {
            "changes_details_pending": await count(SubjectChange, SubjectChange.state == "details_pending"),
            "changes_with_licence": await count(SubjectChange, SubjectChange.licence_document_id.is_not(None)),
            "changes_with_name": await count(SubjectChange, SubjectChange.to_name.is_not(None)),
            "review_items": await count(ReviewItem),
            "answered_documents": await count(SubjectChangeDocument),
            "acceptances": await count(AgreementAcceptance),
            "verifications_renamed": await count(Verification, Verification.name != OLD_NAME),
        }


async def in_review(client: httpx.AsyncClient, token: str, clock: ManualClock) -> dict[str, Any]:
    """A name change whose automatic check failed, with its supplementary material in the review queue."""
    change = await started_name_change(client, token, clock)
    failed = await submit_name(client, token, change["id"], FAILING_NAME)
    assert failed["errors"] == [], failed
    sent = await submit_material(client, token, change["id"])
    assert sent["errors"] == [], sent
    node: dict[str, Any] = sent["subjectChange"]
    assert node["state"] == "IN_REVIEW"
    return node


async def the_item(db: Database) -> ReviewItem:
    async with db.read_sessions() as s:
        return (await s.scalars(select(ReviewItem).where(ReviewItem.kind == "subject_change"))).one()


async def test_chg_2_a_passing_automatic_check_completes_the_name_change_at_once(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise(client)
    change = await started_name_change(client, token, clock)
    done = await submit_name(client, token, change["id"])
    assert done["errors"] == [], done
    node = done["subjectChange"]
    assert node["state"] == "COMPLETED"
    assert node["toSubject"]["name"] == NEW_NAME
    assert node["completedAt"] == clock.now().isoformat()
    # CHG-6: the next change may complete 30 days later.
    assert node["nextChangeAvailableAt"] == (clock.now() + timedelta(days=30)).isoformat()
    assert [s["status"] for s in node["steps"]] == ["DONE", "SKIPPED", "SKIPPED"]
    # The account's verification shows the new name; the USCC, the method and the type stay.
    viewer = (await gql(client, VERIFIED_NAME, token=token))["viewer"]["verification"]
    assert viewer == {"subjectType": "ENTERPRISE", "organisationName": NEW_NAME, "uscc": "91350100M000100Y43"}
    async with db.read_sessions() as s:
        agreements = set(await s.scalars(select(AgreementAcceptance.agreement)))
    assert {"SUBJECT_CHANGE_APPLICATION", "SUBJECT_CHANGE_ACCEPTANCE"} <= agreements
    # No review happened.
    assert (await rows(db))["review_items"] == 0


async def test_chg_2_refusals_answer_every_problem_at_once_and_change_nothing(
    client, clock: ManualClock, db: Database
) -> None:
    token = await enterprise(client)
    change = await started_name_change(client, token, clock)
    other = await registered_and_signed_in(client, "bob0001", "13700000002")
    foreign = await _upload(client, other)
    before = await rows(db)
    # A blank name, an outdated agreement and an upload that is not the account's: all three at once.
    refused = await submit_name(
        client, token, change["id"], " ", licenceUploadId=foreign, acceptanceAgreement={"version": "2020-01"}
    )
    assert sorted(codes(refused)) == ["AGREEMENT_VERSION_OUTDATED", "DOCUMENT_NOT_FOUND", "ORGANISATION_NAME_INVALID"]
    paths = sorted(tuple(e["path"]) for e in refused["errors"])
    assert paths == [
        ("input", "acceptanceAgreement", "version"),
        ("input", "licenceUploadId"),
        ("input", "newName"),
    ]
    # The new name equal to the verified name has its own code.
    same = await submit_name(client, token, change["id"], OLD_NAME)
    assert codes(same) == ["NAME_UNCHANGED"]
    assert same["errors"][0]["path"] == ["input", "newName"]
    # A made-up change and a made-up upload ID.
    assert codes(await submit_name(client, token, "not-an-id")) == ["CHANGE_NOT_FOUND"]
    assert codes(await submit_name(client, token, change["id"], licenceUploadId="nope")) == ["DOCUMENT_NOT_FOUND"]
    # Material before the automatic check failed is at the wrong step.
    assert codes(await submit_material(client, token, change["id"])) == ["CHANGE_STEP_NOT_CURRENT"]
    assert await rows(db) == before
    listed = await gql(client, "query { viewer { subjectChanges { edges { node { state } } } } }", token=token)
    assert listed["viewer"]["subjectChanges"]["edges"] == [{"node": {"state": "DETAILS_PENDING"}}]
    assert await verified_name(client, token) == OLD_NAME


async def test_chg_2_a_failed_check_asks_for_material_which_goes_to_review_and_approval_completes(
    client, clock: ManualClock, db: Database, run, lead: Reviewer
) -> None:
    token = await enterprise(client)
    change = await started_name_change(client, token, clock)
    failed = await submit_name(client, token, change["id"], FAILING_NAME)
    assert failed["errors"] == [], failed
    node = failed["subjectChange"]
    assert (node["state"], node["toSubject"]["name"]) == ("MATERIAL_PENDING", FAILING_NAME)
    assert [s["status"] for s in node["steps"]] == ["DONE", "CURRENT", "PENDING"]
    assert await verified_name(client, token) == OLD_NAME
    # At MATERIAL_PENDING the name and licence may be corrected: a passing check would complete at once, a
    # failing one stays here.
    again = await submit_name(client, token, change["id"], FAILING_NAME + "一")
    assert again["subjectChange"]["state"] == "MATERIAL_PENDING"
    # The material: the 2-working-day review.
    assert codes(await submit_material(client, token, change["id"], supplementUploadId="nope")) == [
        "DOCUMENT_NOT_FOUND"
    ]
    sent = await submit_material(client, token, change["id"], "CHANGE_APPLICATION_FORM")
    assert sent["errors"] == [], sent
    node = sent["subjectChange"]
    assert node["state"] == "IN_REVIEW"
    item = await the_item(db)
    assert (item.kind, item.queue_days, item.state) == ("subject_change", 2, "pending")
    assert node["reviewDueAt"] == item.due_at.isoformat()
    # The reviewer sees the licence and the material with its kind, and the names side by side.
    detail = await run(review.detail, item.id)
    assert [m.role for m in detail.materials] == ["NEW_BUSINESS_LICENCE", "CHANGE_SUPPLEMENT"]
    assert "name change application form" in (detail.materials[1].detail or "")
    assert Comparison("Name", OLD_NAME, FAILING_NAME + "一") in detail.comparison
    # Approved: the change completes and the verification takes the new name.
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    listed = await gql(
        client, f"query {{ viewer {{ subjectChanges {{ edges {{ node {{ {CHANGE} }} }} }} }} }}", token=token
    )
    done = listed["viewer"]["subjectChanges"]["edges"][0]["node"]
    assert (done["state"], done["completedAt"]) == ("COMPLETED", clock.now().isoformat())
    assert [s["status"] for s in done["steps"]] == ["DONE", "DONE", "DONE"]
    assert await verified_name(client, token) == FAILING_NAME + "一"


async def test_chg_2_a_rejection_ends_the_change_with_its_reason_and_frees_the_slot(
    client, clock: ManualClock, db: Database, run, lead: Reviewer
) -> None:
    token = await enterprise(client)
    change = await in_review(client, token, clock)
    item = await the_item(db)
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.MATERIAL_MISMATCH, "证明与执照不符")
    listed = await gql(
        client,
        "query { viewer { subjectChanges { edges { node { state rejectReason rejectText endReason } } } } }",
        token=token,
    )
    node = listed["viewer"]["subjectChanges"]["edges"][0]["node"]
    assert node == {
        "state": "REJECTED",
        "rejectReason": "MATERIAL_MISMATCH",
        "rejectText": "证明与执照不符",
        "endReason": "REJECTED_IN_REVIEW",
    }
    assert await verified_name(client, token) == OLD_NAME
    assert codes(await submit_name(client, token, change["id"])) == ["CHANGE_ENDED"]
    # REV-5: the bound phone hears of it.
    assert any("未通过审核" in m["text"] for m in await outbox(client, PHONE))
    # Ended, it no longer stands in the way of a new change.
    assert (await start(client, token, "NAME", clock))["errors"] == []


async def test_chg_2_more_material_waits_on_the_user_whose_answer_goes_back_to_review(
    client, clock: ManualClock, db: Database, run, lead: Reviewer
) -> None:
    token = await enterprise(client)
    change = await in_review(client, token, clock)
    item = await the_item(db)
    await run(review.claim, lead, item.id)
    await run(review.request_more, lead, item.id, "请上传清晰的变更登记证明 / a legible certificate please")
    listed = await gql(
        client,
        "query { viewer { subjectChanges { edges { node { state moreMaterialMessage reviewDueAt } } } } }",
        token=token,
    )
    node = listed["viewer"]["subjectChanges"]["edges"][0]["node"]
    assert node["state"] == "WAITING_USER"
    assert node["moreMaterialMessage"].startswith("请上传清晰")
    other = await registered_and_signed_in(client, "bob0001", "13700000002")
    foreign = await _upload(client, other)
    before = await rows(db)
    # An empty answer, another account's upload: refused, nothing changes.
    assert codes(await answer(client, token, change["id"], [])) == ["MATERIAL_MISSING"]
    refused = await answer(client, token, change["id"], [await _upload(client, token), foreign])
    assert codes(refused) == ["DOCUMENT_NOT_FOUND"]
    assert refused["errors"][0]["path"] == ["input", "uploadIds", "1"]
    assert await rows(db) == before
    # The answer: back in review, the item back in its queue with its due time moved on.
    clock.advance(timedelta(minutes=10))
    sent = await answer(client, token, change["id"], [await _upload(client, token)])
    assert sent["errors"] == [], sent
    assert sent["subjectChange"]["state"] == "IN_REVIEW"
    item = await the_item(db)
    assert item.state == "pending"
    assert sent["subjectChange"]["reviewDueAt"] == item.due_at.isoformat()
    assert codes(await answer(client, token, change["id"], [await _upload(client, token)])) == [
        "CHANGE_STEP_NOT_CURRENT"
    ]
    detail = await run(review.detail, item.id)
    assert [m.role for m in detail.materials][-1] == "ADDITIONAL_MATERIAL"
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    assert await verified_name(client, token) == FAILING_NAME


async def test_chg_2_chg_7_withdrawing_a_change_in_review_takes_its_item_out_of_the_queue(
    client, clock: ManualClock, db: Database, run
) -> None:
    token = await enterprise(client)
    change = await in_review(client, token, clock)
    item = await the_item(db)
    page = await run(queues.page, queues.QueueFilter(queue_days=2))
    assert [r.id for r in page.rows] == [item.id]
    ended = await withdraw(client, token, change["id"])
    assert ended["errors"] == [], ended
    assert ended["subjectChange"]["state"] == "WITHDRAWN"
    item = await the_item(db)
    assert item.state == "withdrawn"
    assert (await run(queues.page, queues.QueueFilter(queue_days=2))).rows == []
    withdrawn = await run(queues.page, queues.QueueFilter(queue_days=2, states=("withdrawn",)))
    assert [r.id for r in withdrawn.rows] == [item.id]
    async with db.read_sessions() as s:
        actions = list(await s.scalars(select(ReviewAuditEntry.action).where(ReviewAuditEntry.item_id == item.id)))
    assert actions == ["submit", "withdraw"]
    assert await verified_name(client, token) == OLD_NAME


async def test_chg_2_the_name_steps_refuse_another_kind_of_change(client, clock: ManualClock) -> None:
    token = await enterprise(client)
    other = await start(client, token, "ENTERPRISE", clock)
    assert other["errors"] == [], other
    refused = await submit_name(client, token, other["subjectChange"]["id"])
    assert codes(refused) == ["CHANGE_NOT_SUPPORTED"]


async def test_chg_3_an_approved_change_to_another_enterprise_waits_9_days_for_acceptance_and_says_so(
    client, clock: ManualClock, db: Database, run, lead: Reviewer
) -> None:
    # The review handler serves every kind of change; a CHG-3 change is put in review directly here (its own
    # steps up to the review are tested with CHG-3).
    token = await enterprise(client)
    started = await start(client, token, "ENTERPRISE", clock)
    change_id = node_id(started["subjectChange"]["id"], "SubjectChange")
    assert change_id is not None

    async def into_review(uow: Uow) -> int:
        change = await change_repo.get(uow, change_id)
        assert change is not None
        item = await review.submit(uow, kind="subject_change", subject_id=change_id, account_id=change.account_id,
                                   queue_days=2)  # fmt: skip
        moved = await change_repo.move(uow, change_id, ["details_pending"], "in_review", {"review_item_id": item.id},
                                       ends=False, now=uow.now())  # fmt: skip
        assert moved
        return item.id

    item_id = await run(into_review)
    await run(review.claim, lead, item_id)
    await run(review.approve, lead, item_id)
    listed = await gql(client, "query { viewer { subjectChanges { edges { node { state deadline } } } } }", token=token)
    node = listed["viewer"]["subjectChanges"]["edges"][0]["node"]
    assert node == {"state": "ACCEPTANCE_PENDING", "deadline": (clock.now() + timedelta(days=9)).isoformat()}
    # REV-5: one approval notice, saying what to do by when.
    notices = [m["text"] for m in await outbox(client, PHONE) if "审核" in m["text"]]
    assert len(notices) == 1, notices
    assert "was approved" in notices[0]
    assert "Accept the acceptance agreement and verify the new enterprise by" in notices[0]
    assert await verified_name(client, token) == OLD_NAME  # the original subject until the new one verifies
