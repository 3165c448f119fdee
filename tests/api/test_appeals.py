"""APL-2 / PROF-2: the phone-rebind appeal for a lost phone, filed over GraphQL with uploaded
materials and decided in the 5-working-day queue of the back office."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from models.accounts import Account, PhoneQuota
from models.appeals import Appeal
from models.codes import OneTimeCode, OutboxMessage
from models.documents import Document
from models.review import Reviewer, ReviewItem
from services.appeals import service as appeals
from services.clock import SHANGHAI
from services.review import service as review
from services.review.kinds import RejectReason
from services.verification import subject
from tests.helpers import (
    gql,
    last_code,
    mutate,
    portal_accounts_binding,
    registered_and_signed_in,
    send_code,
    sms_sign_in,
)

OLD_PHONE, NEW_PHONE = "13700000001", "13900000009"
FREE_PHONE = "13900000008"
BOUND_ANSWER = {"portal": "PHONE_PORTAL_QUOTA_REACHED", "cloud": "PHONE_QUOTA_REACHED"}
PERSON = ("ID_CARD_IN_HAND", "APPLICATION_LETTER", "PAYMENT_PROOF")
ENTERPRISE = ("LEGAL_REP_ID_CARD_IN_HAND", "BUSINESS_LICENCE")  # APL-2: held in hand, upper body
APPEAL = "appeal { id status dueAt newPhoneMasked requiredMaterials moreMaterialMessage rejectReason }"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


async def _upload(client, token: str) -> str:
    response = await client.post(
        "/uploads", files={"file": ("m.png", _png())}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    return response.json()["id"]


async def _materials(client, token: str, roles=PERSON) -> list[dict]:
    return [{"role": role, "uploadId": await _upload(client, token)} for role in roles]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def _file(client, token: str, materials: list[dict], code: str | None = None) -> dict:
    if code is None:
        await send_code(client, "PHONE_CHANGE_NEW", phone=NEW_PHONE, token=token)
        code = await last_code(client, NEW_PHONE)
    return await mutate(
        client,
        "phoneRebindAppealFile",
        {"newPhone": NEW_PHONE, "newPhoneCode": code, "materials": materials},
        APPEAL,
        token,
    )


@pytest.fixture
async def lead(db, clock) -> Reviewer:
    async with db.write_sessions() as s:
        staff = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                         totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(staff)
        await s.commit()
        return staff


async def test_apl_2_prof_2_lost_phone_appeal_is_reviewed_and_binds_the_new_phone(client, db, clock, run, lead) -> None:
    # Given a signed-in user who lost the bound phone, on 2026-11-26 (Thursday) in Shanghai
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    token = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    # When they file the appeal with the three materials and a code to the new phone
    filed = await _file(client, token, await _materials(client, token))
    # Then it is in the 5-working-day queue, due at the end of Thursday 12-03
    assert filed["errors"] == []
    assert filed["appeal"]["status"] == "SUBMITTED"
    assert filed["appeal"]["newPhoneMasked"] == "139****0009"
    assert filed["appeal"]["dueAt"] == "2026-12-03T15:59:59+00:00"  # answered at once
    assert filed["appeal"]["requiredMaterials"] == list(PERSON)
    listed = await gql(client, "{ viewer { appeals(first: 5) { edges { node { status dueAt } } } } }", token=token)
    [edge] = listed["viewer"]["appeals"]["edges"]
    assert edge["node"]["dueAt"] == "2026-12-03T15:59:59+00:00"
    async with db.read_sessions() as s:
        [item] = list(await s.scalars(select(ReviewItem)))
    assert (item.kind, item.queue_days) == ("phone_rebind", 5)
    # When a reviewer approves it
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    # Then the new phone is bound, and both numbers were told
    async with db.read_sessions() as s:
        account = await s.scalar(select(Account))
        told = {
            m.destination
            for m in await s.scalars(select(OutboxMessage).where(OutboxMessage.purpose != "PHONE_CHANGE_NEW"))
        }
    assert account.phone == "+86" + NEW_PHONE
    assert told == {"+86" + OLD_PHONE, "+86" + NEW_PHONE}
    status = await gql(client, "{ viewer { appeals(first: 1) { edges { node { status } } } } }", token=token)
    assert status["viewer"]["appeals"]["edges"][0]["node"]["status"] == "APPROVED"


async def test_apl_2_missing_material_is_refused_and_nothing_is_filed(client, db) -> None:
    token = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    materials = (await _materials(client, token))[:2]
    await send_code(client, "PHONE_CHANGE_NEW", phone=NEW_PHONE, token=token)
    code = await last_code(client, NEW_PHONE)
    refused = await _file(client, token, materials, code)
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [("MATERIAL_MISSING", ["input", "materials"])]
    async with db.read_sessions() as s:
        assert list(await s.scalars(select(Appeal))) == []
    # The code was not used up: the complete appeal goes through with it
    full = await _materials(client, token)
    assert (await _file(client, token, full, code))["errors"] == []


async def test_apl_2_enterprise_accounts_need_the_enterprise_materials_held_in_hand(client, monkeypatch) -> None:
    async def enterprise(uow, account_id):
        return "enterprise"

    monkeypatch.setattr(subject, "verified_subject", enterprise)
    token = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    refused = await _file(client, token, await _materials(client, token, PERSON))
    assert refused["errors"][0]["code"] == "MATERIAL_MISSING"
    assert "LEGAL_REP_ID_CARD_IN_HAND" in refused["errors"][0]["message"]
    # APL-1's enterprise roles (the ID card not held in hand, the stamped letter) are not APL-2's
    for extra in ("PAYMENT_PROOF", "LEGAL_REP_ID_CARD", "STAMPED_APPLICATION_LETTER"):
        mixed = await _materials(client, token, (*ENTERPRISE, extra))
        unexpected = await _file(client, token, mixed, await last_code(client, NEW_PHONE))
        assert [(e["code"], e["path"]) for e in unexpected["errors"]] == [
            ("MATERIAL_NOT_EXPECTED", ["input", "materials", "2", "role"])
        ]
    accepted = await _file(
        client, token, await _materials(client, token, ENTERPRISE), await last_code(client, NEW_PHONE)
    )
    assert accepted["errors"] == []
    assert accepted["appeal"]["requiredMaterials"] == list(ENTERPRISE)


async def test_apl_2_org_3_another_accounts_upload_is_unknown_at_its_index(client) -> None:
    bob = await registered_and_signed_in(client, "bob0001", "13600000006")
    bobs = await _materials(client, bob)
    alice = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    materials = await _materials(client, alice)
    materials[1] = bobs[1]
    refused = await _file(client, alice, materials)
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("DOCUMENT_NOT_FOUND", ["input", "materials", "1", "uploadId"])
    ]


async def test_apl_2_an_upload_id_with_a_control_character_is_unknown(client, db) -> None:
    # Given an account with its materials uploaded
    alice = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    materials = await _materials(client, alice)
    # When one upload ID holds a NUL (PostgreSQL refuses NUL outright)
    materials[0]["uploadId"] += "\x00"
    refused = await _file(client, alice, materials)
    # Then it is an unknown upload, like another account's, and nothing is filed
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("DOCUMENT_NOT_FOUND", ["input", "materials", "0", "uploadId"])
    ]
    assert refused["appeal"] is None
    async with db.read_sessions() as s:
        assert list(await s.scalars(select(ReviewItem))) == []


async def test_apl_2_a_raw_upload_name_is_not_an_upload_id(client, db) -> None:
    # Given an account with its materials uploaded, and the stored name of one of them
    alice = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    materials = await _materials(client, alice)
    async with db.read_sessions() as s:
        stored = (await s.scalars(select(Document).order_by(Document.id))).first()
    # When the raw stored name, or an ID of another type, stands for an upload
    for not_an_upload_id in (stored.public_id, base64.b64encode(b"Appeal:1").decode()):
        materials[2]["uploadId"] = not_an_upload_id
        refused = await _file(client, alice, materials)
        # Then it is that material's DOCUMENT_NOT_FOUND, and nothing is filed
        assert [(e["code"], e["path"]) for e in refused["errors"]] == [
            ("DOCUMENT_NOT_FOUND", ["input", "materials", "2", "uploadId"])
        ]
    assert await _nothing_filed(db)


async def test_apl_2_every_stateless_problem_comes_back_at_once_and_nothing_is_counted(client, db) -> None:
    # Given an account with its materials, and a code sent to the new phone
    token = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    materials = await _materials(client, token)
    await send_code(client, "PHONE_CHANGE_NEW", phone=NEW_PHONE, token=token)
    code = await last_code(client, NEW_PHONE)
    # When the appeal names a bad phone, a malformed code and the same material twice
    twice = [*materials, {"role": "PAYMENT_PROOF", "uploadId": materials[2]["uploadId"]}]
    refused = await mutate(
        client,
        "phoneRebindAppealFile",
        {"newPhone": "12345", "newPhoneCode": "12ab", "materials": twice},
        APPEAL,
        token,
    )
    # Then all three problems come back together, each at its input path
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("INVALID_PHONE", ["input", "newPhone"]),
        ("CODE_FORMAT_INVALID", ["input", "newPhoneCode"]),
        ("MATERIAL_DUPLICATE", ["input", "materials", "3", "role"]),
    ]
    assert refused["appeal"] is None
    # And nothing was filed, and the code was neither counted nor used: it files the corrected appeal
    assert await _nothing_filed(db)
    async with db.read_sessions() as s:
        [row] = list(await s.scalars(select(OneTimeCode).where(OneTimeCode.purpose == "PHONE_CHANGE_NEW")))
    assert (row.attempts, row.consumed_at) == (0, None)
    assert (await _file(client, token, materials, code))["errors"] == []


async def test_apl_2_a_state_dependent_refusal_comes_alone_after_the_stateless_checks(client, db) -> None:
    # Given an account whose bound phone is OLD_PHONE
    token = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    materials = await _materials(client, token)
    # When it appeals for its own phone with a malformed code, then with a well-formed one
    malformed = await _file_for(client, token, OLD_PHONE, "12ab", materials)
    formed = await _file_for(client, token, OLD_PHONE, "123456", materials)
    # Then the malformed code is answered first, and PHONE_UNCHANGED only once the input is well formed
    assert [(e["code"], e["path"]) for e in malformed["errors"]] == [("CODE_FORMAT_INVALID", ["input", "newPhoneCode"])]
    assert [(e["code"], e["path"]) for e in formed["errors"]] == [("PHONE_UNCHANGED", ["input", "newPhone"])]
    assert await _nothing_filed(db)


async def test_apl_2_more_material_then_answer_then_reject(client, db, run, lead) -> None:
    token = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    filed = await _file(client, token, await _materials(client, token))
    async with db.read_sessions() as s:
        [item] = list(await s.scalars(select(ReviewItem)))
    await run(review.claim, lead, item.id)
    await run(review.request_more, lead, item.id, "The payment proof is unreadable.")
    waiting = await gql(
        client, "{ viewer { appeals(first: 1) { edges { node { status moreMaterialMessage dueAt } } } } }", token=token
    )
    node = waiting["viewer"]["appeals"]["edges"][0]["node"]
    assert (node["status"], node["moreMaterialMessage"], node["dueAt"]) == (
        "WAITING_USER",
        "The payment proof is unreadable.",
        None,
    )
    # A second appeal is refused while this one is open
    second = await _file(client, token, await _materials(client, token))
    assert second["errors"][0]["code"] == "APPEAL_ALREADY_OPEN"
    # The user answers with a new payment proof
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
    assert answered["appeal"]["status"] == "SUBMITTED"
    # Answering again is refused: nothing is awaited
    again = await mutate(
        client,
        "appealAnswer",
        {
            "id": filed["appeal"]["id"],
            "materials": [{"role": "PAYMENT_PROOF", "uploadId": await _upload(client, token)}],
        },
        APPEAL,
        token,
    )
    assert [(e["code"], e["path"]) for e in again["errors"]] == [("NOT_WAITING_FOR_MATERIAL", ["input", "id"])]
    # Rejected with a reason, the phone stays
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.MATERIAL_MISMATCH, "The ID does not match the account.")
    done = await gql(
        client, "{ viewer { phone appeals(first: 1) { edges { node { status rejectReason } } } } }", token=token
    )
    assert done["viewer"]["phone"] == "+86" + OLD_PHONE
    assert done["viewer"]["appeals"]["edges"][0]["node"] == {"status": "REJECTED", "rejectReason": "MATERIAL_MISMATCH"}
    kind = await gql(client, "{ viewer { appeals(first: 1) { edges { node { kind } } } } }", token=token)
    assert kind["viewer"]["appeals"]["edges"][0]["node"] == {"kind": "PHONE_REBIND"}
    assert appeals.KIND == "phone_rebind"


async def _filer_and_bound_phone(client, db, clock, kind: str) -> str:
    """NEW_PHONE has accounts a `kind` account cannot join (REG-4: 5 portal accounts; REG-3: 10 cloud
    accounts); the signed-in filer, of `kind`, is bound to OLD_PHONE. Returns the filer's session token."""
    if kind == "portal":
        assert (await sms_sign_in(client, NEW_PHONE))["errors"] == []  # the portal account the phone holds
        await portal_accounts_binding(db, "+86" + NEW_PHONE, 4, clock.now())  # and 4 more: 5 bound (REG-4)
        signed_in = await sms_sign_in(client, OLD_PHONE)
        assert signed_in["errors"] == []
        return str(signed_in["token"])
    async with db.write_sessions() as s:
        s.add_all(
            Account(kind="cloud", status="active", phone="+86" + NEW_PHONE, username=f"full{i:02d}",
                    username_key=f"full{i:02d}", idle_timeout_minutes=60, op_protection_sms=True,
                    op_protection_totp=False, login_protection_sms=False, login_protection_totp=False,
                    created_at=clock.now())
            for i in range(10)
        )  # fmt: skip
        s.add(PhoneQuota(phone="+86" + NEW_PHONE, cloud_accounts=10))
        await s.commit()
    return await registered_and_signed_in(client, "alice01", OLD_PHONE)


async def _file_for(client, token: str, phone: str, code: str, materials: list[dict]) -> dict:
    return await mutate(
        client,
        "phoneRebindAppealFile",
        {"newPhone": phone, "newPhoneCode": code, "materials": materials},
        APPEAL,
        token,
    )


async def _nothing_filed(db) -> bool:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(Appeal))) == [] and list(await s.scalars(select(ReviewItem))) == []


async def _phones_and_quotas(db) -> tuple[list[tuple[str, str]], dict[str, int]]:
    async with db.read_sessions() as s:
        accounts = [(a.kind, a.phone) for a in await s.scalars(select(Account).order_by(Account.id))]
        quotas = {q.phone: q.cloud_accounts for q in await s.scalars(select(PhoneQuota))}
    return accounts, quotas


@pytest.mark.parametrize("kind", ["portal", "cloud"])
async def test_apl_2_reg_3_reg_4_without_its_code_a_phone_with_accounts_answers_like_a_free_one(
    client, db, clock, kind: str
) -> None:
    # Given a phone the filer could not move to because of its accounts, and the filer's materials
    token = await _filer_and_bound_phone(client, db, clock, kind)
    materials = await _materials(client, token)
    before = await _phones_and_quotas(db)
    # When appeals to that phone and to a free one are filed, again and again, with a made-up code
    filed = {
        phone: [await _file_for(client, token, phone, "000000", materials) for _ in range(3)]
        for phone in (NEW_PHONE, FREE_PHONE)
    }
    # Then both phones get the same answers, word for word: the code is wrong
    assert [r["errors"] for r in filed[NEW_PHONE]] == [r["errors"] for r in filed[FREE_PHONE]]
    assert [(e["code"], e["path"]) for e in filed[NEW_PHONE][0]["errors"]] == [
        ("CODE_INVALID", ["input", "newPhoneCode"])
    ]
    # And with a code sent to each phone (the filer holds neither), a wrong one is answered alike
    for phone in (NEW_PHONE, FREE_PHONE):
        assert (await send_code(client, "PHONE_CHANGE_NEW", phone=phone, token=token))["errors"] == []
    wrong = {
        phone: await _file_for(client, token, phone, _wrong(await last_code(client, phone)), materials)
        for phone in (NEW_PHONE, FREE_PHONE)
    }
    assert wrong[NEW_PHONE]["errors"] == wrong[FREE_PHONE]["errors"]
    assert [(e["code"], e["attemptsRemaining"]) for e in wrong[NEW_PHONE]["errors"]] == [("CODE_INVALID", 4)]
    # And nothing was filed or moved
    assert await _nothing_filed(db)
    assert await _phones_and_quotas(db) == before


@pytest.mark.parametrize("kind", ["portal", "cloud"])
async def test_apl_2_reg_3_reg_4_with_its_code_a_phone_with_accounts_is_told_at_most_five_times(
    client, db, clock, kind: str
) -> None:
    # Given a phone the filer could not move to because of its accounts, the materials and the phone's code
    token = await _filer_and_bound_phone(client, db, clock, kind)
    materials = await _materials(client, token)
    assert (await send_code(client, "PHONE_CHANGE_NEW", phone=NEW_PHONE, token=token))["errors"] == []
    code = await last_code(client, NEW_PHONE)
    before = await _phones_and_quotas(db)
    # When the appeal is filed five times with the right code
    told = [await _file_for(client, token, NEW_PHONE, code, materials) for _ in range(5)]
    # Then each answer says why, and each costs one of the code's five tries
    assert [[(e["code"], e["path"]) for e in r["errors"]] for r in told] == [
        [(BOUND_ANSWER[kind], ["input", "newPhone"])]
    ] * 5
    assert [r["errors"][0]["attemptsRemaining"] for r in told] == [4, 3, 2, 1, 0]
    # And a sixth is answered only as a void code
    sixth = await _file_for(client, token, NEW_PHONE, code, materials)
    assert [(e["code"], e["path"]) for e in sixth["errors"]] == [("CODE_ATTEMPTS_EXHAUSTED", ["input", "newPhoneCode"])]
    # And nothing was filed or moved, and the code is void but unused
    assert await _nothing_filed(db)
    assert await _phones_and_quotas(db) == before
    async with db.read_sessions() as s:
        [row] = list(await s.scalars(select(OneTimeCode).where(OneTimeCode.purpose == "PHONE_CHANGE_NEW")))
    assert (row.attempts, row.consumed_at) == (5, None)
    # And the same materials file an appeal to a free phone
    assert (await send_code(client, "PHONE_CHANGE_NEW", phone=FREE_PHONE, token=token))["errors"] == []
    free = await _file_for(client, token, FREE_PHONE, await last_code(client, FREE_PHONE), materials)
    assert free["errors"] == []
    assert free["appeal"]["newPhoneMasked"] == "139****0008"
