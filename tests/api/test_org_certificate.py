"""ORG-4 over the GraphQL API: an organisation's verification carries the image of the certificate named for
its type (ORG-1), whatever the method; without it the start is refused with CERTIFICATE_REQUIRED and nothing
is recorded or counted; reviewers see it, and the rejection reasons name its photo requirements.

RULES: ORG-4 ORG-1 ORG-3 REV-4 REV-5
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLEnumType, build_schema
from sqlalchemy import select

from models.documents import Document
from models.enterprise import EnterpriseApplication
from models.review import Reviewer
from models.verification import VerificationAttempt, VerificationMethodUse
from schema.types.documents import upload_id
from services.clock import ManualClock
from services.database import Database
from services.review import service as review
from services.review.kinds import REASON_LABELS, RejectReason
from tests.api.test_appeals import _upload
from tests.api.test_enterprise import (
    USCC_SOCIAL_GROUP,
    _item,
    certificate,
    current,
    face_pass,
    legal_rep_face,
    organisation,
    recharge,
    transfer,
)
from tests.api.test_verification import Spy, codes_of, count
from tests.helpers import gql, mutate, outbox, registered_and_signed_in

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATE_PATH = ["input", "organisation", "certificateUploadId"]
Start = Callable[..., Awaitable[dict[str, Any]]]
ORG_4_REASONS = [
    RejectReason.CERTIFICATE_WRONG_TYPE,
    RejectReason.CERTIFICATE_NOT_ORIGINAL,
    RejectReason.CERTIFICATE_NOT_LEGIBLE,
    RejectReason.CERTIFICATE_ALTERED,
]


@pytest.mark.parametrize("start", [legal_rep_face, transfer, recharge], ids=["legal_rep_face", "transfer", "recharge"])
async def test_org_4_a_start_without_the_certificate_is_refused_and_changes_nothing(
    app, client: httpx.AsyncClient, db: Database, start: Start
) -> None:
    # Given a signed-in account, and a business registry that counts its calls
    providers = app.state.deps.providers
    spy = providers.business = Spy(providers.business)
    spy.look_up = spy.check
    token = await registered_and_signed_in(client)
    # When it starts an organisation's verification without the certificate image
    refused = await start(client, token, organisation={**organisation(), "certificateUploadId": None})
    # Then CERTIFICATE_REQUIRED at the certificate's input path, and nothing was asked, recorded or counted
    assert codes_of(refused) == [("CERTIFICATE_REQUIRED", CERTIFICATE_PATH)]
    assert "营业执照" in refused["errors"][0]["message"]  # the certificate named for the type (ORG-1)
    assert spy.calls == 0
    assert await count(db, VerificationAttempt) == 0
    assert await count(db, EnterpriseApplication) == 0
    assert await count(db, VerificationMethodUse) == 0


async def test_org_4_a_missing_certificate_is_reported_with_the_forms_other_problems(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    refused = await legal_rep_face(
        client, token, organisation={**organisation(code="1234"), "certificateUploadId": None}
    )
    assert codes_of(refused) == [
        ("USCC_INVALID", ["input", "organisation", "uscc"]),
        ("CERTIFICATE_REQUIRED", CERTIFICATE_PATH),
    ]
    assert await count(db, EnterpriseApplication) == 0


async def test_org_4_org_3_another_accounts_upload_is_no_certificate(client, db: Database) -> None:
    # Given bob's upload, which alice may not use
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    bobs = await _upload(client, bob)
    alice = await registered_and_signed_in(client)
    # When alice names it as her organisation's certificate
    refused = await transfer(client, alice, organisation={**organisation(), "certificateUploadId": bobs})
    # Then it is as unknown as an ID never given out, and nothing was counted
    assert codes_of(refused) == [("DOCUMENT_NOT_FOUND", CERTIFICATE_PATH)]
    assert await count(db, VerificationAttempt) == 0
    assert await count(db, VerificationMethodUse) == 0


async def test_org_4_the_started_verification_keeps_its_certificate(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    started = await legal_rep_face(client, token)
    assert started["errors"] == []
    async with db.read_sessions() as s:
        application = (await s.scalars(select(EnterpriseApplication))).one()
        document = await s.get(Document, application.certificate_document_id)
    assert document is not None
    assert upload_id(document) == await certificate(client, token)


async def test_org_4_org_1_each_type_names_its_certificate_for_the_upload_label(client) -> None:
    types = {
        t["type"]: t["certificateName"]
        for t in (await gql(client, "{ organisationTypes { type certificateName } }"))["organisationTypes"]
    }
    assert len(types) == 18
    assert types["ENTERPRISE"] == "营业执照 / Business licence"
    assert types["PUBLIC_INSTITUTION"] == "事业单位法人证书 / Public-institution legal-person certificate"
    assert types["SOCIAL_GROUP"] == "社会团体法人登记证书 / Social-group legal-person registration certificate"
    assert types["FOREIGN_NGO_REPRESENTATIVE_OFFICE"] == "境外非政府组织代表机构登记证书 / Registration certificate"


def test_org_4_rev_4_the_rejection_reasons_name_the_certificates_photo_requirements() -> None:
    # The API's RejectReason (what a user reads as `rejectReason`) has them, each described with ORG-4
    reasons = build_schema((ROOT / "schema.graphql").read_text()).type_map["RejectReason"]
    assert isinstance(reasons, GraphQLEnumType)
    for r in ORG_4_REASONS:
        assert "ORG-4" in (reasons.values[r.value].description or ""), r
    # and the list reviewers choose from names every photo requirement of ORG-4
    en = " ".join(REASON_LABELS[r][1] for r in ORG_4_REASONS)
    for requirement in (
        "named for the organisation type",
        "colour photo or scan of the original",
        "fresh company stamp",
        "electronic seals are not accepted",
        "from the front",
        "all four corners",
        "text and stamp legible",
        "re-photographed",
        "screenshot",
        "mirrored",
        "edited",
    ):
        assert requirement in en, requirement
    assert all(REASON_LABELS[r][0] for r in ORG_4_REASONS)  # and in Chinese


async def test_org_4_rev_5_a_certificate_rejection_reaches_the_user_in_both_languages(
    client, db: Database, run, clock: ManualClock
) -> None:
    # Given an other organisation's verification in review, with its certificate beside it
    token = await registered_and_signed_in(client)
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    await face_pass(client, await legal_rep_face(client, token, organisation=other))
    item = await _item(db)
    [shown] = (await run(review.detail, item.id)).materials
    assert (shown.role, upload_id(shown.document)) == ("ORGANISATION_CERTIFICATE", await certificate(client, token))
    # When a reviewer rejects it: the corners and the stamp cannot be seen
    async with db.write_sessions() as s:
        lead = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                        totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(lead)
        await s.commit()
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.CERTIFICATE_NOT_LEGIBLE, "")
    # Then the user reads the reason from the list, and the SMS names it in Chinese, then English
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["review"]["rejectReason"]) == ("REJECTED", "CERTIFICATE_NOT_LEGIBLE")
    [notice] = [m for m in await outbox(client, "13700000001") if m["purpose"] == "REVIEW_ENTERPRISE_VERIFICATION"]
    zh, en = REASON_LABELS[RejectReason.CERTIFICATE_NOT_LEGIBLE]
    assert f"原因：{zh}。" in notice["text"]
    assert f"Reason: {en}." in notice["text"]


async def test_org_4_rev_4_asked_for_a_better_certificate_the_user_sends_a_new_one(
    client, db: Database, run, clock: ManualClock
) -> None:
    # Given an other organisation's verification waiting for material: the certificate is a screenshot
    token = await registered_and_signed_in(client)
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    await face_pass(client, await legal_rep_face(client, token, organisation=other))
    item = await _item(db)
    async with db.write_sessions() as s:
        lead = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                        totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(lead)
        await s.commit()
    await run(review.claim, lead, item.id)
    await run(review.request_more, lead, item.id, "证照为截图，请上传原件彩色照片 / the certificate is a screenshot")
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert node["status"] == "WAITING_FOR_MATERIAL"
    answer = "enterpriseVerification { status } account { id }"

    # When the answer sends nothing: MATERIAL_MISSING, and it still waits
    empty = await mutate(client, "enterpriseVerificationMaterialAnswer", {"id": node["id"]}, answer, token)
    assert codes_of(empty) == [("MATERIAL_MISSING", None)]
    assert (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]["status"] == (
        "WAITING_FOR_MATERIAL"
    )
    # When it sends another account's upload: DOCUMENT_NOT_FOUND at the certificate, and it still waits
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    foreign = await mutate(
        client,
        "enterpriseVerificationMaterialAnswer",
        {"id": node["id"], "certificateUploadId": await _upload(client, bob)},
        answer,
        token,
    )
    assert codes_of(foreign) == [("DOCUMENT_NOT_FOUND", ["input", "certificateUploadId"])]

    # When it sends a new certificate image
    new = await _upload(client, token)
    sent = await mutate(
        client, "enterpriseVerificationMaterialAnswer", {"id": node["id"], "certificateUploadId": new}, answer, token
    )
    # Then it is back in review, and the reviewer sees the new certificate beside the application
    assert sent["errors"] == []
    assert sent["enterpriseVerification"] == {"status": "IN_REVIEW"}
    [shown] = (await run(review.detail, item.id)).materials
    assert (shown.role, upload_id(shown.document)) == ("ORGANISATION_CERTIFICATE", new)
