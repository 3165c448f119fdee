"""The MFA-unbind appeal for a lost virtual MFA device (MFA-6's lost-device path), filed over GraphQL
with uploaded materials and decided in the 5-working-day queue (APL-1). Codes are real RFC 6238 codes
made with pyotp at the moved clock, as in tests/api/test_mfa.py.

RULES: APL-1 MFA-6
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from models.appeals import Appeal, AppealDocument
from models.codes import OutboxMessage
from models.mfa import MfaDevice, MfaRecoveryCode
from models.review import Reviewer, ReviewItem
from services.appeals import service as appeals
from services.clock import SHANGHAI, ManualClock
from services.database import Database
from services.review import service as review
from services.review.kinds import RejectReason
from tests.api.test_appeals import ENTERPRISE, PERSON, _upload
from tests.api.test_mfa import (
    PHONE,
    bind,
    code_at,
    password_sign_in,
    security,
    set_protections,
    totp_for_operations,
)
from tests.helpers import gql, mutate, registered_and_signed_in, step_up

APPEAL = "appeal { id kind status dueAt newPhoneMasked requiredMaterials moreMaterialMessage rejectReason }"
THURSDAY_10_AM = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # 5 working days: due at the end of 12-03
LATEST = "{ viewer { appeals(first: 1) { edges { node { kind status dueAt moreMaterialMessage rejectReason } } } } }"


@pytest.fixture
async def lead(db: Database, clock: ManualClock) -> Reviewer:
    async with db.write_sessions() as s:
        staff = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                         totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(staff)
        await s.commit()
        return staff


async def _materials(client: httpx.AsyncClient, token: str, roles: tuple[str, ...] = PERSON) -> list[dict[str, str]]:
    return [{"role": role, "uploadId": await _upload(client, token)} for role in roles]


async def _file(client: httpx.AsyncClient, token: str | None, materials: list[dict[str, str]]) -> dict[str, Any]:
    return await mutate(client, "mfaUnbindAppealFile", {"materials": materials}, APPEAL, token)


async def _totp_only_login(client: httpx.AsyncClient, clock: ManualClock) -> str:
    """A signed-in user with a bound device and login protection on with TOTP only."""
    token = await registered_and_signed_in(client)
    await bind(client, token, clock)
    done = await set_protections(client, token, await step_up(client, token, PHONE), (False, True), (True, False))
    assert done["account"]["security"]["loginProtection"] == {"enabled": True, "factors": ["TOTP"]}
    return token


async def _latest(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return dict((await gql(client, LATEST, token=token))["viewer"]["appeals"]["edges"][0]["node"])


async def _rows(db: Database) -> tuple[int, int, int]:
    """How many appeals, appeal documents and review items there are."""
    async with db.read_sessions() as s:
        counts = [await s.scalar(select(func.count()).select_from(m)) for m in (Appeal, AppealDocument, ReviewItem)]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


async def _item(db: Database) -> ReviewItem:
    async with db.read_sessions() as s:
        [item] = list(await s.scalars(select(ReviewItem)))
    return item


async def test_apl_1_mfa_6_lost_device_appeal_is_approved_and_the_password_alone_signs_in(
    client: httpx.AsyncClient, db: Database, clock: ManualClock, run: Any, lead: Reviewer
) -> None:
    # Given a user on Thursday 2026-11-26 in Shanghai with a bound device and login protection TOTP only
    clock.set(THURSDAY_10_AM)
    token = await _totp_only_login(client, clock)
    assert (await password_sign_in(client))["token"] is None  # the device is needed to sign in
    # When they lose the device and file the appeal with the three materials
    filed = await _file(client, token, await _materials(client, token))
    # Then it is in the 5-working-day queue, due at the end of Thursday 12-03 (Asia/Shanghai)
    assert filed["errors"] == []
    assert filed["appeal"]["kind"] == "MFA_UNBIND"
    assert filed["appeal"]["status"] == "SUBMITTED"
    assert filed["appeal"]["newPhoneMasked"] is None
    assert filed["appeal"]["requiredMaterials"] == list(PERSON)
    listed = await _latest(client, token)
    assert (listed["kind"], listed["status"], listed["dueAt"]) == (
        "MFA_UNBIND",
        "SUBMITTED",
        "2026-12-03T15:59:59+00:00",
    )
    item = await _item(db)
    assert (item.kind, item.queue_days) == (appeals.MFA_UNBIND, 5)
    async with db.read_sessions() as s:
        appeal = await s.scalar(select(Appeal))
        roles = sorted(await s.scalars(select(AppealDocument.role)))
    assert appeal is not None
    assert (appeal.kind, appeal.subject_type, appeal.new_phone) == ("mfa_unbind", "person", None)
    assert roles == sorted(PERSON)
    # The reviewer decides on the appeal's facts and the three uploads
    detail = await run(review.detail, item.id)
    assert detail.facts == [
        ("Appeal", "MFA unbind (APL-1)"),
        ("Materials for", "person"),
        ("Device bound at", "2026-11-26 10:00"),
    ]
    assert len(detail.materials) == 3
    # When a reviewer claims and approves it
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    # Then the device and its recovery codes are gone, and login protection (TOTP only) is off
    async with db.read_sessions() as s:
        assert (await s.scalars(select(MfaDevice))).first() is None
        assert (await s.scalars(select(MfaRecoveryCode))).first() is None
        [notice] = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "REVIEW_MFA_UNBIND")))
    assert notice.destination == "+86" + PHONE
    assert "MFA 解绑申诉已通过审核" in notice.text
    assert "MFA-unbind appeal was approved" in notice.text
    state = await security(client, token)
    assert state["mfaDeviceBoundAt"] is None
    assert state["recoveryCodesLeft"] == 0
    assert state["loginProtection"] == {"enabled": False, "factors": []}
    assert state["operationProtection"] == {"enabled": True, "factors": ["SMS"]}
    assert (await _latest(client, token))["status"] == "APPROVED"
    # And the password alone signs in: a token, no challenge
    signed = await password_sign_in(client)
    assert signed["errors"] == []
    assert signed["challenge"] is None
    assert signed["token"] is not None


async def test_mfa_6_apl_1_without_a_bound_device_the_appeal_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    token = await registered_and_signed_in(client)
    refused = await _file(client, token, await _materials(client, token))
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [("MFA_DEVICE_NOT_BOUND", None)]
    assert refused["appeal"] is None
    assert await _rows(db) == (0, 0, 0)


async def test_apl_1_without_a_session_nothing_is_filed(client: httpx.AsyncClient, db: Database) -> None:
    refused = await _file(client, None, [])
    assert [e["code"] for e in refused["errors"]] == ["AUTHENTICATION_REQUIRED"]
    assert await _rows(db) == (0, 0, 0)


async def test_apl_1_a_missing_material_is_refused_and_nothing_is_filed(
    client: httpx.AsyncClient, db: Database, clock: ManualClock
) -> None:
    token = await _totp_only_login(client, clock)
    materials = await _materials(client, token)
    refused = await _file(client, token, materials[:2])
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [("MATERIAL_MISSING", ["input", "materials"])]
    assert "PAYMENT_PROOF" in refused["errors"][0]["message"]
    assert await _rows(db) == (0, 0, 0)
    # A material of the other set is refused too
    extra = await _file(client, token, [*materials, {"role": ENTERPRISE[0], "uploadId": materials[0]["uploadId"]}])
    assert [(e["code"], e["path"]) for e in extra["errors"]] == [
        ("MATERIAL_NOT_EXPECTED", ["input", "materials", "3", "role"])
    ]
    assert await _rows(db) == (0, 0, 0)
    # The complete set goes through
    assert (await _file(client, token, materials))["errors"] == []
    assert await _rows(db) == (1, 3, 1)


async def test_apl_1_another_accounts_upload_is_unknown(
    client: httpx.AsyncClient, db: Database, clock: ManualClock
) -> None:
    bob = await registered_and_signed_in(client, "bob0001", "13600000006")
    bobs = await _materials(client, bob)
    alice = await _totp_only_login(client, clock)
    refused = await _file(client, alice, [*(await _materials(client, alice))[:2], bobs[2]])
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("DOCUMENT_NOT_FOUND", ["input", "materials", "2", "uploadId"])
    ]
    assert await _rows(db) == (0, 0, 0)


async def test_apl_1_a_material_sent_twice_is_refused_before_the_device_is_looked_at(
    client: httpx.AsyncClient, db: Database
) -> None:
    # Given an account without a bound device
    token = await registered_and_signed_in(client)
    materials = await _materials(client, token)
    # When the appeal sends two materials twice each
    twice = [*materials, materials[0], materials[1]]
    refused = await _file(client, token, twice)
    # Then each second copy is refused at its index, before the state of the account (no device) is told
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("MATERIAL_DUPLICATE", ["input", "materials", "3", "role"]),
        ("MATERIAL_DUPLICATE", ["input", "materials", "4", "role"]),
    ]
    assert await _rows(db) == (0, 0, 0)
    # And once each is sent once, the state-dependent refusal comes alone
    alone = await _file(client, token, materials)
    assert [(e["code"], e["path"]) for e in alone["errors"]] == [("MFA_DEVICE_NOT_BOUND", None)]


async def test_apl_1_a_second_open_appeal_is_refused(
    client: httpx.AsyncClient, db: Database, clock: ManualClock
) -> None:
    token = await _totp_only_login(client, clock)
    assert (await _file(client, token, await _materials(client, token)))["errors"] == []
    second = await _file(client, token, await _materials(client, token))
    assert [(e["code"], e["path"]) for e in second["errors"]] == [("APPEAL_ALREADY_OPEN", None)]
    assert await _rows(db) == (1, 3, 1)


async def test_apl_1_mfa_6_more_material_then_answer_then_reject_keeps_the_device(
    client: httpx.AsyncClient, db: Database, clock: ManualClock, run: Any, lead: Reviewer
) -> None:
    token = await _totp_only_login(client, clock)
    filed = await _file(client, token, await _materials(client, token))
    item = await _item(db)
    await run(review.claim, lead, item.id)
    await run(review.request_more, lead, item.id, "The payment proof is unreadable.")
    waiting = await _latest(client, token)
    assert (waiting["status"], waiting["moreMaterialMessage"], waiting["dueAt"]) == (
        "WAITING_USER",
        "The payment proof is unreadable.",
        None,
    )
    # Still open while waiting: a second appeal is refused
    second = await _file(client, token, await _materials(client, token))
    assert second["errors"][0]["code"] == "APPEAL_ALREADY_OPEN"
    # The user answers with a new payment proof: back in the queue
    answered = await mutate(
        client,
        "appealAnswer",
        {
            "id": filed["appeal"]["id"],
            "materials": [{"role": "PAYMENT_PROOF", "uploadId": await _upload(client, token)}],
        },
        APPEAL,
        token,
    )
    assert answered["errors"] == []
    assert (answered["appeal"]["kind"], answered["appeal"]["status"]) == ("MFA_UNBIND", "SUBMITTED")
    assert await _rows(db) == (1, 4, 1)
    # Rejected with a reason: the device stays, and the password alone still gives only a challenge
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.MATERIAL_MISMATCH, "The ID does not match the account.")
    done = await _latest(client, token)
    assert (done["status"], done["rejectReason"]) == ("REJECTED", "MATERIAL_MISMATCH")
    state = await security(client, token)
    assert state["mfaDeviceBoundAt"] is not None
    assert state["loginProtection"] == {"enabled": True, "factors": ["TOTP"]}
    assert (await password_sign_in(client))["challenge"] is not None
    # A rejected appeal is not open: the user may file again
    assert (await _file(client, token, await _materials(client, token)))["errors"] == []


async def test_rev_5_a_rejected_mfa_unbind_appeal_is_told_the_reason_in_both_languages(
    client: httpx.AsyncClient, db: Database, clock: ManualClock, run: Any, lead: Reviewer
) -> None:
    # Given a filed MFA-unbind appeal
    token = await _totp_only_login(client, clock)
    assert (await _file(client, token, await _materials(client, token)))["errors"] == []
    item = await _item(db)
    # When a reviewer rejects it as not matching the account, with their own words
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.MATERIAL_MISMATCH, "Another person's ID card.")
    # Then the SMS names the reason from the list, Chinese first, then English, and not the reviewer's words
    async with db.read_sessions() as s:
        [notice] = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "REVIEW_MFA_UNBIND")))
    assert notice.destination == "+86" + PHONE
    assert notice.text == (
        "【账号中心 Account center】您的MFA 解绑申诉未通过审核，原因：材料与账号或申请不符。"
        " Your MFA-unbind appeal was rejected. Reason: a material does not match the account or request."
    )


async def test_apl_1_approval_leaves_a_device_bound_after_the_filing(
    client: httpx.AsyncClient, db: Database, clock: ManualClock, run: Any, lead: Reviewer
) -> None:
    # Given an appeal about a device thought lost, after which the user found it, unbound it with a
    # current code (MFA-6) and bound a new one
    token = await registered_and_signed_in(client)
    old_secret, _ = await bind(client, token, clock)
    assert (await _file(client, token, await _materials(client, token)))["errors"] == []
    clock.advance(minutes=2)
    grant = await step_up(client, token, PHONE)
    unbound = await mutate(
        client, "mfaDeviceUnbind", {"code": code_at(old_secret, clock), "stepUpToken": grant}, "account { id }", token
    )
    assert unbound["errors"] == []
    new_secret, _ = await bind(client, token, clock)
    # When the appeal is approved
    item = await _item(db)
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    # Then the new device stays bound and still works
    assert (await security(client, token))["mfaDeviceBoundAt"] == clock.now().isoformat()
    clock.advance(seconds=61)
    await totp_for_operations(client, token)
    clock.advance(seconds=30)
    verified = await mutate(
        client,
        "operationChallengeVerify",
        {"factor": "TOTP", "code": code_at(new_secret, clock)},
        "stepUpGrant { token }",
        token,
    )
    assert verified["errors"] == []
    assert (await _latest(client, token))["status"] == "APPROVED"


async def test_apl_1_a_user_locked_out_by_the_lost_device_files_with_the_login_challenge(
    client: httpx.AsyncClient, db: Database, clock: ManualClock
) -> None:
    # Given a user whose login protection asks for the device they lost, and no session any more
    await _totp_only_login(client, clock)
    challenge = (await password_sign_in(client))["challenge"]["token"]
    headers = {"authorization": f"Bearer {challenge}", "user-agent": "test-agent"}
    # When they upload the materials and file, carrying the challenge of the right password
    from tests.api.test_appeals import _png

    ids = []
    for _ in PERSON:
        response = await client.post("/uploads", files={"file": ("m.png", _png())}, headers=headers)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    materials = [{"role": r, "uploadId": i} for r, i in zip(PERSON, ids, strict=True)]
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($m: [AppealMaterialInput!]!) { mfaUnbindAppealFile(input: {materials: $m}) { "
            "appeal { kind status dueAt } appealToken { token expiresAt } errors { code } } }",
            "variables": {"m": materials},
        },
        headers=headers,
    )
    # Then the appeal is filed, due in 5 working days at once, with an appeal token to follow it (APL-2's token)
    filed = response.json()["data"]["mfaUnbindAppealFile"]
    assert (filed["errors"], filed["appeal"]["kind"], filed["appeal"]["status"]) == ([], "MFA_UNBIND", "SUBMITTED")
    assert filed["appeal"]["dueAt"] is not None
    assert filed["appealToken"]["token"].startswith("apt_")
    assert filed["appealToken"]["expiresAt"] is None
    followed = await gql(
        client,
        "query($t: String!) { appealByToken(token: $t) { kind status dueAt } }",
        {"t": filed["appealToken"]["token"]},
    )
    assert followed["appealByToken"] == filed["appeal"]
    # The challenge is no session: it reads no account, and from another client it files nothing
    assert (await gql(client, "{ viewer { username } }", token=challenge))["viewer"] is None
    other = await client.post(
        "/graphql",
        json={
            "query": "mutation($m: [AppealMaterialInput!]!) { mfaUnbindAppealFile(input: {materials: $m}) { "
            "errors { code } } }",
            "variables": {"m": materials},
        },
        headers={"authorization": f"Bearer {challenge}", "user-agent": "another-browser"},
    )
    assert other.json()["data"]["mfaUnbindAppealFile"]["errors"] == [{"code": "AUTHENTICATION_REQUIRED"}]
    assert (await _rows(db))[0] == 1
