"""Enterprise real-name verification over the GraphQL API, with the sandbox magic values (docs/sandbox.md).

RULES: RNE-1 RNE-2 RNE-3 RNE-4 RNE-5 RNE-6 RNE-7 RNE-8 RNE-9 ORG-1 ENT-2 ENT-3
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from models.enterprise import BalanceEntry, BankPayout, EnterpriseApplication
from models.review import Reviewer, ReviewItem
from models.verification import VerificationAttempt, VerificationMethodUse
from schema.types.documents import upload_id
from services.checksums import uscc_check_character
from services.clock import SHANGHAI, ManualClock
from services.database import Database
from services.review import service as review
from services.review.kinds import RejectReason
from tests.api.test_appeals import _upload
from tests.api.test_verification import ID_1949, ID_2008, Spy, codes_of, count, face_verified, ticket_path
from tests.helpers import VERIFICATION_AGREEMENT, gql, last_code, mutate, outbox, registered_and_signed_in, send_code

USCC_ENTERPRISE = "91350100M000100Y43"  # docs/checksums.md sample, prefix 91: enterprise


def uscc(prefix: str, body: str = "350100M000100Y4") -> str:
    first17 = (prefix + body)[:17]
    return first17 + uscc_check_character(first17)


USCC_SOCIAL_GROUP = uscc("51")  # an other organisation (RNE-3)
USCC_PUBLIC_INSTITUTION = uscc("12")
USCC_INDIVIDUAL_BUSINESS = uscc("92")
USCC_OWNERS_ASSEMBLY = uscc("Y1")
ENTERPRISE_VERIFICATION = (
    "id status method verifiedAt organisationName uscc organisationType legalRepresentativeNameMasked faceBy "
    "failureReason submittedAt bankName accountNumberMasked amountDeadline wrongAmountEntriesLeft "
    "remittance { payeeName bankName accountNumber amount payerAccountName payBefore } "
    "review { dueAt moreMaterialMessage rejectReason rejectText }"
)
ACCOUNT_NUMBER = "110060149018000888"
STARTED = (
    f"faceCheckStart {{ enterpriseVerification {{ {ENTERPRISE_VERIFICATION} }} faceCheck {{ url expiresAt }} }} "
    "account { id verificationMethods(subjectType: ENTERPRISE) { method attemptsUsed } }"
)


def organisation(
    name: str = "示例科技有限公司", code: str = USCC_ENTERPRISE, kind: str = "ENTERPRISE", rep: str = "张三"
) -> dict[str, str]:
    return {"name": name, "uscc": code, "organisationType": kind, "legalRepresentativeName": rep}


# ORG-4: one certificate image per signed-in account and client, uploaded the first time a start needs it.
_CERTIFICATES: dict[tuple[int, str], str] = {}


async def certificate(client: httpx.AsyncClient, token: str) -> str:
    """The upload ID of a certificate image of the account (ORG-4), uploaded once per client and token."""
    key = (id(client), token)
    if key not in _CERTIFICATES:
        _CERTIFICATES[key] = await _upload(client, token)
    return _CERTIFICATES[key]


async def _certified(client: httpx.AsyncClient, token: str, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the certificate image in its organisation, unless the test chose one (or none)."""
    if isinstance(data.get("organisation"), dict) and "certificateUploadId" not in data["organisation"]:
        data["organisation"] = {**data["organisation"], "certificateUploadId": await certificate(client, token)}
    return data


async def legal_rep_face(client: httpx.AsyncClient, token: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": organisation(),
        "legalRepresentativeIdNumber": ID_1949,
        "agreement": VERIFICATION_AGREEMENT,
        **changes,
    }
    await _certified(client, token, data)
    return await mutate(
        client,
        "enterpriseVerificationLegalRepFaceStart",
        data,
        STARTED,
        token,
    )


async def transfer(client: httpx.AsyncClient, token: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": organisation(),
        "bankName": "中国工商银行",
        "accountNumber": ACCOUNT_NUMBER,
        "handlerName": "李四",
        "handlerIdNumber": ID_2008,
        "agreement": VERIFICATION_AGREEMENT,
        **changes,
    }
    await _certified(client, token, data)
    return await mutate(
        client,
        "enterpriseVerificationBankTransferStart",
        data,
        STARTED,
        token,
    )


async def confirm(client: httpx.AsyncClient, token: str, vid: str, amount: str) -> dict[str, Any]:
    return await mutate(
        client,
        "enterpriseVerificationAmountConfirm",
        {"id": vid, "amount": amount},
        f"enterpriseVerification {{ {ENTERPRISE_VERIFICATION} }} account {{ id verification {{ status }} }}",
        token,
    )


async def recharge(client: httpx.AsyncClient, token: str, code: str | None = None, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organisation": organisation(),
        "code": code,
        "agreement": VERIFICATION_AGREEMENT,
        **changes,
    }
    await _certified(client, token, data)
    return await mutate(
        client,
        "enterpriseVerificationRechargeStart",
        data,
        f"enterpriseVerification {{ {ENTERPRISE_VERIFICATION} }} account {{ id }}",
        token,
    )


async def current(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    data = await gql(
        client,
        f"{{ viewer {{ balance enterpriseVerifications(first: 5) {{ edges {{ node {{ {ENTERPRISE_VERIFICATION} }} }} }} "
        "verification { __typename subjectType status method ... on EnterpriseVerification { organisationName "
        "organisationType } } "
        "entitlements { subjectType specialVatInvoice smsService invoices lssVodTrafficCapGb } "
        "verificationMethods(subjectType: ENTERPRISE) { method available attemptsLimit attemptsUsed attemptsRemaining } "
        "verificationAttempts(first: 20) { totalCount edges { node { subjectType method outcome reason "
        "countsAgainstLimit } } } } }",
        token=token,
    )
    return data["viewer"]


async def face_pass(client: httpx.AsyncClient, started: dict[str, Any], outcome: str = "pass") -> httpx.Response:
    response = await client.post(ticket_path(started), data={"outcome": outcome})
    assert response.status_code == 200, response.text
    return response


async def statement(client: httpx.AsyncClient, number: str = ACCOUNT_NUMBER) -> list[dict[str, Any]]:
    response = await client.get(f"/sandbox/bank/{number}.json")
    assert response.status_code == 200
    return list(response.json())


@pytest.fixture
async def lead(db: Database, clock: ManualClock) -> Reviewer:
    async with db.write_sessions() as s:
        staff = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                         totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(staff)
        await s.commit()
        return staff


async def _item(db: Database) -> ReviewItem:
    async with db.read_sessions() as s:
        return (await s.scalars(select(ReviewItem))).one()


# --- ORG-1 / RNE-1 ---------------------------------------------------------------------------------


async def test_org_1_the_18_types_with_certificates_and_enterprise_flags(client) -> None:
    types = (
        await gql(client, "{ organisationTypes { type number name certificateName isEnterprise bankTransferOffered } }")
    )["organisationTypes"]
    assert [t["number"] for t in types] == list(range(1, 19))
    assert [t["type"] for t in types if t["isEnterprise"]] == ["ENTERPRISE", "INDIVIDUAL_BUSINESS"]
    assert types[0]["certificateName"].startswith("营业执照")
    assert [t["type"] for t in types if not t["bankTransferOffered"]] == ["PUBLIC_INSTITUTION"]  # RNE-6
    banks = (await gql(client, "{ banks }"))["banks"]
    assert "中国工商银行" in banks


async def test_rne_1_three_enterprise_methods_with_their_limits(client) -> None:
    token = await registered_and_signed_in(client)
    assert (await current(client, token))["verificationMethods"] == [
        {
            "method": "LEGAL_REP_FACE",
            "available": True,
            "attemptsLimit": 10,
            "attemptsUsed": 0,
            "attemptsRemaining": 10,
        },
        {"method": "BANK_TRANSFER", "available": True, "attemptsLimit": 10, "attemptsUsed": 0, "attemptsRemaining": 10},
        {"method": "RECHARGE", "available": True, "attemptsLimit": None, "attemptsUsed": 0, "attemptsRemaining": None},
    ]


# --- RNE-2 / RNE-9: legal-representative face ---------------------------------------------------------


async def test_rne_2_an_enterprise_is_verified_by_its_legal_representatives_face(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    started = await legal_rep_face(client, token)
    assert started["errors"] == []
    node = started["faceCheckStart"]["enterpriseVerification"]
    assert started["account"]["verificationMethods"][0] == {"method": "LEGAL_REP_FACE", "attemptsUsed": 1}
    assert (node["status"], node["method"], node["faceBy"], node["organisationType"]) == (
        "FACE_CHECK_PENDING",
        "LEGAL_REP_FACE",
        "LEGAL_REPRESENTATIVE",
        "ENTERPRISE",
    )
    assert node["legalRepresentativeNameMasked"] == "*三"
    await face_pass(client, started)
    state = await current(client, token)
    assert state["verification"] == {
        "__typename": "EnterpriseVerification",
        "subjectType": "ENTERPRISE",
        "status": "VERIFIED",
        "method": "LEGAL_REP_FACE",
        "organisationName": "示例科技有限公司",
        "organisationType": "ENTERPRISE",
    }
    # ENT-2: a general enterprise has special VAT invoices and the SMS service, no traffic cap
    assert state["entitlements"] == {
        "subjectType": "ENTERPRISE",
        "specialVatInvoice": True,
        "smsService": True,
        "invoices": True,
        "lssVodTrafficCapGb": None,
    }
    assert state["enterpriseVerifications"]["edges"][0]["node"]["verifiedAt"] == clock.now().isoformat()
    assert state["verificationMethods"][0]["attemptsUsed"] == 1


@pytest.mark.parametrize(
    ("org", "code", "field"),
    [
        (organisation(name="查无此司有限公司"), "ORGANISATION_NOT_FOUND", ["input", "organisation", "uscc"]),
        (organisation(kind="SOCIAL_GROUP"), "TYPE_MISMATCH", ["input", "organisation", "organisationType"]),
        (organisation(name="新设科技有限公司"), "REGISTERED_RECENTLY", ["input", "organisation", "uscc"]),
        (organisation(rep="王不符"), "LEGAL_REP_MISMATCH", ["input", "organisation", "legalRepresentativeName"]),
        (organisation(code=uscc("99")), "ORGANISATION_NOT_FOUND", ["input", "organisation", "uscc"]),
    ],
)
async def test_rne_9_registry_refusals_are_counted_attempts_with_their_reason(
    client, db: Database, org: dict[str, str], code: str, field: list[str]
) -> None:
    token = await registered_and_signed_in(client)
    refused = await legal_rep_face(client, token, organisation=org)
    assert codes_of(refused) == [(code, field)]
    assert refused["errors"][0]["attemptsRemaining"] == 9
    assert (refused["faceCheckStart"], refused["account"]) == (None, None)
    state = await current(client, token)
    [node] = [e["node"] for e in state["enterpriseVerifications"]["edges"]]
    assert (node["status"], node["failureReason"]) == ("FAILED", code)
    [attempt] = [e["node"] for e in state["verificationAttempts"]["edges"]]
    assert attempt == {
        "subjectType": "ENTERPRISE",
        "method": "LEGAL_REP_FACE",
        "outcome": "FAILED",
        "reason": code,
        "countsAgainstLimit": True,
    }
    assert state["verification"] is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"organisation": organisation(code=USCC_ENTERPRISE[:-1] + "X")},
            ("USCC_INVALID", ["input", "organisation", "uscc"]),
        ),
        ({"organisation": organisation(name="  ")}, ("ORGANISATION_NAME_INVALID", ["input", "organisation", "name"])),
        # control characters: PostgreSQL refuses NUL outright; a name is one line
        (
            {"organisation": organisation(name="示例\x00科技有限公司")},
            ("ORGANISATION_NAME_INVALID", ["input", "organisation", "name"]),
        ),
        (
            {"organisation": organisation(name="示例科技\n有限公司")},
            ("ORGANISATION_NAME_INVALID", ["input", "organisation", "name"]),
        ),
        (
            {"organisation": organisation(rep="张\x1b三")},
            ("NAME_INVALID", ["input", "organisation", "legalRepresentativeName"]),
        ),
        (
            {"legalRepresentativeIdNumber": "１１０１０５１９４９１２３１００２X"},
            ("ID_NUMBER_INVALID", ["input", "legalRepresentativeIdNumber"]),
        ),
        (
            {"legalRepresentativeIdNumber": ID_1949[:-1] + "1"},
            ("ID_NUMBER_INVALID", ["input", "legalRepresentativeIdNumber"]),
        ),
        ({"legalRepresentativeIdNumber": None}, ("ID_NUMBER_INVALID", ["input", "legalRepresentativeIdNumber"])),
        ({"agreement": {"version": "2020-01"}}, ("AGREEMENT_VERSION_OUTDATED", ["input", "agreement", "version"])),
        ({"faceBy": "AUTHORISED_EMPLOYEE"}, ("AUTHORISED_EMPLOYEE_NOT_ALLOWED", ["input", "faceBy"])),
    ],
)
async def test_rne_2_local_refusals_reach_no_provider_and_count_nothing(
    app, client, db: Database, changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    providers = app.state.deps.providers
    spy = providers.business = Spy(providers.business)
    spy.look_up = spy.check  # the registry's one call
    token = await registered_and_signed_in(client)
    assert codes_of(await legal_rep_face(client, token, **changes)) == [expected]
    assert spy.calls == 0
    assert await count(db, VerificationAttempt) == 0
    assert await count(db, EnterpriseApplication) == 0
    assert await count(db, VerificationMethodUse) == 0


async def test_rne_2_ten_attempts_per_account_then_the_method_closes(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    for i in range(10):
        refused = await legal_rep_face(client, token, organisation=organisation(name="查无此司"))
        assert refused["errors"][0]["attemptsRemaining"] == 9 - i
    closed = await legal_rep_face(client, token)
    assert codes_of(closed) == [("ENTERPRISE_ATTEMPTS_EXHAUSTED", None)]
    assert await count(db, VerificationAttempt) == 10
    methods = (await current(client, token))["verificationMethods"]
    assert methods[0] == {
        "method": "LEGAL_REP_FACE",
        "available": False,
        "attemptsLimit": 10,
        "attemptsUsed": 10,
        "attemptsRemaining": 0,
    }
    assert methods[1]["available"] is True  # the transfer remains


async def test_rne_2_a_failed_face_check_fails_the_verification(client) -> None:
    token = await registered_and_signed_in(client)
    started = await legal_rep_face(client, token)
    await face_pass(client, started, "fail")
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["failureReason"]) == ("FAILED", "FACE_CHECK_FAILED")


# --- ENT-2 / ENT-3: what the verified subject may do -----------------------------------------------------


@pytest.mark.parametrize(
    ("org", "special_vat_invoice"),
    [
        (organisation(), True),  # type 1, enterprise
        (organisation(name="示例小吃店", code=USCC_INDIVIDUAL_BUSINESS, kind="INDIVIDUAL_BUSINESS"), True),  # type 2
        (organisation(name="示例市第一中学", code=USCC_PUBLIC_INSTITUTION, kind="PUBLIC_INSTITUTION"), False),  # 4
        (organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP"), False),  # 6
        (organisation(name="示例小区业主大会", code=USCC_OWNERS_ASSEMBLY, kind="OWNERS_ASSEMBLY"), False),  # 11
    ],
    ids=["enterprise", "individual-business", "public-institution", "social-group", "owners-assembly"],
)
async def test_ent_2_every_enterprise_verified_account_gets_sms_and_only_types_1_2_special_vat_invoices(
    client, db: Database, run, lead: Reviewer, org: dict[str, str], special_vat_invoice: bool
) -> None:
    token = await registered_and_signed_in(client)
    assert (await current(client, token))["entitlements"]["smsService"] is False  # not verified yet (ENT-1)
    started = await legal_rep_face(client, token, organisation=org)
    assert started["errors"] == []
    await face_pass(client, started)
    if not special_vat_invoice:  # an other organisation (types 3-18) is verified on approval (RNE-3)
        item = await _item(db)
        await run(review.claim, lead, item.id)
        await run(review.approve, lead, item.id)
    state = await current(client, token)
    assert (state["verification"]["status"], state["verification"]["organisationType"]) == (
        "VERIFIED",
        org["organisationType"],
    )
    assert state["entitlements"] == {
        "subjectType": "ENTERPRISE",
        "specialVatInvoice": special_vat_invoice,
        "smsService": True,
        "invoices": True,
        "lssVodTrafficCapGb": None,
    }


async def test_ent_2_ent_3_a_person_verified_account_gets_neither_sms_nor_special_vat_invoices(client) -> None:
    token = await registered_and_signed_in(client)
    await face_verified(client, token)
    assert (await current(client, token))["entitlements"] == {
        "subjectType": "PERSON",
        "specialVatInvoice": False,
        "smsService": False,
        "invoices": True,
        "lssVodTrafficCapGb": 100,
    }


# --- RNE-3: other organisations, authorised employees, the 2-working-day review ------------------------


async def test_rne_3_an_other_organisation_goes_to_the_2_day_review_and_is_verified_on_approval(
    client, db: Database, clock: ManualClock, run, lead: Reviewer
) -> None:
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))  # a Thursday
    token = await registered_and_signed_in(client)
    letter = await _upload(client, token)
    started = await legal_rep_face(
        client,
        token,
        organisation=organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP"),
        faceBy="AUTHORISED_EMPLOYEE",
        employeeName="李四",
        employeeIdNumber=ID_2008,
        authorisationLetterUploadId=letter,
    )
    assert started["errors"] == []
    assert started["faceCheckStart"]["enterpriseVerification"]["faceBy"] == "AUTHORISED_EMPLOYEE"
    await face_pass(client, started)
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    # Due at the end of the second working day: Monday 2026-11-30 in Shanghai
    assert node["status"] == "IN_REVIEW"
    assert node["review"]["dueAt"] == "2026-11-30T15:59:59+00:00"
    item = await _item(db)
    assert (item.kind, item.queue_days) == ("enterprise_verification", 2)
    # ORG-4: the certificate named for the type beside the application; RNE-3: the authorisation letter
    materials = (await run(review.detail, item.id)).materials
    assert [(m.role, upload_id(m.document), m.detail) for m in materials] == [
        (
            "ORGANISATION_CERTIFICATE",
            await certificate(client, token),
            "社会团体法人登记证书 / Social-group legal-person registration certificate",
        ),
        ("AUTHORISATION_LETTER", letter, None),
    ]
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    state = await current(client, token)
    assert state["verification"]["status"] == "VERIFIED"
    assert state["verification"]["organisationType"] == "SOCIAL_GROUP"
    # REV-5: the user is told, in both languages
    assert (await outbox(client, "13700000001"))[0]["text"] == (
        "【账号中心 Account center】您的企业实名认证已通过审核。 Your enterprise real-name verification was approved."
    )
    # ENT-2: enterprise-verified, so the SMS service; not a general enterprise, so no special VAT invoice
    assert (state["entitlements"]["specialVatInvoice"], state["entitlements"]["smsService"]) == (False, True)


async def test_rne_3_rejection_and_more_material(client, db: Database, run, lead: Reviewer) -> None:
    token = await registered_and_signed_in(client)
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    started = await legal_rep_face(client, token, organisation=other)
    await face_pass(client, started)
    item = await _item(db)
    await run(review.claim, lead, item.id)
    await run(review.request_more, lead, item.id, "请上传盖章的授权书 / upload the stamped letter")
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert node["status"] == "WAITING_FOR_MATERIAL"
    assert node["review"] == {
        "dueAt": None,
        "moreMaterialMessage": "请上传盖章的授权书 / upload the stamped letter",
        "rejectReason": None,
        "rejectText": None,
    }
    answered = await mutate(
        client,
        "enterpriseVerificationMaterialAnswer",
        {"id": node["id"], "authorisationLetterUploadId": await _upload(client, token)},
        "enterpriseVerification { status } account { id }",
        token,
    )
    assert answered["enterpriseVerification"] == {"status": "IN_REVIEW"}
    assert answered["account"]["id"] == (await gql(client, "{ viewer { id } }", token=token))["viewer"]["id"]
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.MATERIAL_MISMATCH, "印章不符")
    state = await current(client, token)
    node = state["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["review"]["rejectReason"], node["review"]["rejectText"]) == (
        "REJECTED",
        "MATERIAL_MISMATCH",
        "印章不符",
    )
    assert state["verification"] is None


async def test_rev_5_a_rejected_enterprise_verification_is_told_the_reason_in_both_languages(
    client, db: Database, run, lead: Reviewer
) -> None:
    # Given an other organisation's verification in review
    token = await registered_and_signed_in(client)
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    await face_pass(client, await legal_rep_face(client, token, organisation=other))
    item = await _item(db)
    # When a reviewer rejects it as inconsistent, with their own words naming the organisation
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.INFORMATION_INCONSISTENT, "示例市软件行业协会 名称不符")
    # Then the SMS names the reason from the list, Chinese first, then English, and no entered value
    [notice] = [m for m in await outbox(client, "13700000001") if m["purpose"] == "REVIEW_ENTERPRISE_VERIFICATION"]
    assert notice["text"] == (
        "【账号中心 Account center】您的企业实名认证未通过审核，原因：材料与所填信息不一致。"
        " Your enterprise real-name verification was rejected. Reason: the materials and the information given disagree."
    )


async def test_rne_3_an_authorised_employee_needs_the_letter_of_this_account(client) -> None:
    token = await registered_and_signed_in(client)
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    employee = {"faceBy": "AUTHORISED_EMPLOYEE", "employeeName": "李四", "employeeIdNumber": ID_2008}
    missing = await legal_rep_face(client, token, organisation=other, **employee)
    assert codes_of(missing) == [("AUTHORISATION_LETTER_REQUIRED", ["input", "authorisationLetterUploadId"])]
    stranger = await registered_and_signed_in(client, "bob0001", "13700000002")
    foreign = await legal_rep_face(
        client, token, organisation=other, authorisationLetterUploadId=await _upload(client, stranger), **employee
    )
    assert codes_of(foreign) == [("DOCUMENT_NOT_FOUND", ["input", "authorisationLetterUploadId"])]
    assert (await current(client, token))["verificationMethods"][0]["attemptsUsed"] == 0


# --- RNE-4..7: corporate bank transfer ----------------------------------------------------------------


async def test_rne_4_the_amount_paid_out_verifies_the_organisation(client, clock: ManualClock, db: Database) -> None:
    token = await registered_and_signed_in(client)
    started = await transfer(client, token)
    assert started["errors"] == []
    assert started["faceCheckStart"]["enterpriseVerification"]["faceBy"] == "HANDLER"
    # When the handler passes the face check, the payout arrives at once
    await face_pass(client, started)
    [credit] = await statement(client)
    assert 0.01 <= float(credit["amount"]) <= 1.00
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert node["status"] == "AMOUNT_PENDING"
    assert node["amountDeadline"] == (clock.now() + timedelta(days=8)).isoformat()
    assert node["wrongAmountEntriesLeft"] == 2
    assert node["accountNumberMasked"].endswith("0888")
    # Then the right amount verifies it
    done = await confirm(client, token, node["id"], credit["amount"])
    assert done["errors"] == []
    assert done["enterpriseVerification"]["status"] == "VERIFIED"
    assert done["account"]["verification"] == {"status": "VERIFIED"}  # the viewer comes back verified
    assert (await current(client, token))["verification"]["method"] == "BANK_TRANSFER"
    page = await client.get(f"/sandbox/bank/{ACCOUNT_NUMBER}")
    assert credit["amount"] in page.text


async def _amount_pending(client: httpx.AsyncClient, token: str) -> tuple[str, str]:
    started = await transfer(client, token)
    assert started["errors"] == [], started
    await face_pass(client, started)
    return started["faceCheckStart"]["enterpriseVerification"]["id"], (await statement(client))[0]["amount"]


def _other_than(amount: str) -> str:
    return "0.99" if amount != "0.99" else "0.98"


async def test_rne_5_two_wrong_amounts_fail_it_and_a_new_one_counts_as_an_attempt(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    vid, amount = await _amount_pending(client, token)
    first = await confirm(client, token, vid, _other_than(amount))
    assert codes_of(first) == [("AMOUNT_WRONG", ["input", "amount"])]
    assert first["errors"][0]["attemptsRemaining"] == 1
    bad_format = await confirm(client, token, vid, "0.371")
    assert codes_of(bad_format) == [("AMOUNT_FORMAT_INVALID", ["input", "amount"])]
    full_width = await confirm(client, token, vid, "０.３７")  # ASCII digits only, and not counted
    assert codes_of(full_width) == [("AMOUNT_FORMAT_INVALID", ["input", "amount"])]
    second = await confirm(client, token, vid, _other_than(amount))
    assert codes_of(second) == [("AMOUNT_WRONG_TWICE", ["input", "amount"])]
    assert second["errors"][0]["attemptsRemaining"] == 9
    late = await confirm(client, token, vid, amount)
    assert codes_of(late) == [("NOT_AWAITING_AMOUNT", ["input", "id"])]
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["failureReason"]) == ("FAILED", "AMOUNT_WRONG_TWICE")
    again = await transfer(client, token)
    assert again["errors"] == []
    assert (await current(client, token))["verificationMethods"][1]["attemptsUsed"] == 2


async def test_rne_4_the_amount_must_be_confirmed_within_8_days(client, clock: ManualClock, run) -> None:
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    vid, amount = await _amount_pending(client, token)
    clock.advance(days=8)
    token = await _sign_in_again(client)
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert node["status"] == "EXPIRED"
    refused = await confirm(client, token, vid, amount)
    assert codes_of(refused) == [("AMOUNT_DEADLINE_PASSED", ["input", "amount"])]
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["failureReason"]) == ("EXPIRED", "AMOUNT_DEADLINE_PASSED")
    assert (await run(sweep))["enterprise_steps_ended"] == 0


async def test_rne_4_the_sweeper_expires_unconfirmed_transfers(client, clock: ManualClock, run, db: Database) -> None:
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    await _amount_pending(client, token)
    clock.advance(days=7, hours=23)
    assert (await run(sweep))["enterprise_steps_ended"] == 0
    clock.advance(hours=1)
    assert (await run(sweep))["enterprise_steps_ended"] == 1
    async with db.read_sessions() as s:
        assert await s.scalar(select(EnterpriseApplication.state)) == "expired"
        assert await s.scalar(select(VerificationAttempt.outcome)) == "expired"


async def _sign_in_again(client: httpx.AsyncClient) -> str:
    from tests.helpers import sign_in

    return await sign_in(client, "alice01")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"organisation": organisation(code=USCC_PUBLIC_INSTITUTION, kind="PUBLIC_INSTITUTION")},
            ("METHOD_NOT_OFFERED", ["input", "organisation", "organisationType"]),
        ),
        ({"bankName": "不存在银行"}, ("BANK_NAME_WRONG", ["input", "bankName"])),
        ({"accountNumber": "12ab"}, ("ACCOUNT_NUMBER_INVALID", ["input", "accountNumber"])),
        (
            {"accountNumber": "１１００６０１４９０１８０００８８８"},
            ("ACCOUNT_NUMBER_INVALID", ["input", "accountNumber"]),
        ),  # full-width
        ({"handlerName": "王\x00五"}, ("NAME_INVALID", ["input", "handlerName"])),
        ({"handlerIdNumber": ID_2008[:-1] + "0"}, ("ID_NUMBER_INVALID", ["input", "handlerIdNumber"])),
    ],
)
async def test_rne_6_rne_9_transfer_refusals_before_any_call_count_nothing(
    client, db: Database, changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    token = await registered_and_signed_in(client)
    assert codes_of(await transfer(client, token, **changes)) == [expected]
    assert await count(db, VerificationAttempt) == 0
    assert await count(db, VerificationMethodUse) == 0


async def test_rne_6_a_payment_licence_holder_is_refused_without_counting(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    refused = await transfer(client, token, organisation=organisation(name="示例支付有限公司"))
    assert codes_of(refused) == [("PAYMENT_LICENCE_HOLDER", None)]
    state = await current(client, token)
    assert state["verificationMethods"][1]["attemptsUsed"] == 0
    assert state["verificationAttempts"]["edges"][0]["node"]["countsAgainstLimit"] is False
    assert await count(db, BankPayout) == 0


@pytest.mark.parametrize(("ending", "reason"), [("1", "ACCOUNT_MISMATCH"), ("2", "CANNOT_RECEIVE")])
async def test_rne_9_the_bank_refuses_the_payout(client, db: Database, ending: str, reason: str) -> None:
    token = await registered_and_signed_in(client)
    started = await transfer(client, token, accountNumber="11006014901800088" + ending)
    await face_pass(client, started)
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["failureReason"]) == ("FAILED", reason)
    async with db.read_sessions() as s:  # the request was recorded before the call; no money moved
        assert list(await s.scalars(select(BankPayout.status))) == ["refused"]
    assert await statement(client, "11006014901800088" + ending) == []


async def test_rne_7_a_right_amount_with_a_risk_hit_goes_to_the_2_day_review(
    client, db: Database, run, lead: Reviewer
) -> None:
    token = await registered_and_signed_in(client)
    started = await transfer(client, token, organisation=organisation(name="风险示例有限公司"))
    await face_pass(client, started)
    amount = (await statement(client))[0]["amount"]
    done = await confirm(client, token, started["faceCheckStart"]["enterpriseVerification"]["id"], amount)
    assert done["enterpriseVerification"]["status"] == "IN_REVIEW"
    item = await _item(db)
    assert (item.kind, item.queue_days) == ("enterprise_verification", 2)
    assert done["enterpriseVerification"]["review"]["dueAt"] is not None
    assert (await current(client, token))["verification"] is None
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    assert (await current(client, token))["verification"]["status"] == "VERIFIED"


# --- RNE-8: recharge ---------------------------------------------------------------------------------


async def _recharge_pending(client: httpx.AsyncClient, token: str, **changes: Any) -> dict[str, Any]:
    assert (await send_code(client, "REMITTANCE_ACCOUNT", token=token))["errors"] == []
    code = await last_code(client, "13700000001")
    started = await recharge(client, token, code, **changes)
    assert started["errors"] == [], started
    return started["enterpriseVerification"]


async def _remit(client: httpx.AsyncClient, node: dict[str, Any], **changes: str) -> httpx.Response:
    form = {
        "payer_account_name": node["remittance"]["payerAccountName"],
        "payer_account_number": "6222020000000000000",
        "amount": node["remittance"]["amount"],
        "to_account": node["remittance"]["accountNumber"],
        **changes,
    }
    return await client.post("/sandbox/remittance", data=form)


async def test_rne_8_an_exact_remittance_in_time_verifies_and_is_credited(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    refused = await recharge(client, token)
    assert codes_of(refused) == [("CODE_REQUIRED", ["input", "code"])]
    node = await _recharge_pending(client, token)
    assert node["status"] == "REMITTANCE_PENDING"
    remittance = node["remittance"]
    assert remittance["payerAccountName"] == "示例科技有限公司"
    assert remittance["payBefore"] == (clock.now() + timedelta(days=3)).isoformat()
    response = await _remit(client, node)
    assert response.json() == {"credited": remittance["amount"], "outcome": "matched", "verification_state": "verified"}
    state = await current(client, token)
    assert state["verification"]["method"] == "RECHARGE"
    assert state["balance"] == remittance["amount"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"payer_account_name": "别的公司"}, "PAYER_NAME_MISMATCH"), ({"amount": "1.00"}, "PAYMENT_AMOUNT_WRONG")],
)
async def test_rne_8_a_mismatch_rejects_but_the_money_stays_in_the_balance(
    client, changes: dict[str, str], reason: str
) -> None:
    token = await registered_and_signed_in(client)
    node = await _recharge_pending(client, token)
    if changes.get("amount") == node["remittance"]["amount"]:
        changes = {"amount": "0.01" if node["remittance"]["amount"] != "0.01" else "0.02"}
    response = await _remit(client, node, **changes)
    assert response.status_code == 200
    state = await current(client, token)
    latest = state["enterpriseVerifications"]["edges"][0]["node"]
    assert (latest["status"], latest["failureReason"]) == ("REJECTED", reason)
    assert state["verification"] is None
    assert state["balance"] == changes.get("amount", node["remittance"]["amount"])


@pytest.mark.parametrize("swept_first", [False, True])
async def test_rne_8_a_late_remittance_is_credited_and_rejects_whenever_the_sweeper_ran(
    client, clock: ManualClock, run, swept_first: bool
) -> None:
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    node = await _recharge_pending(client, token)
    clock.advance(days=3)
    token = await _sign_in_again(client)
    latest = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (latest["status"], latest["failureReason"]) == ("EXPIRED", "PAYMENT_NOT_RECEIVED")
    if swept_first:
        assert (await run(sweep))["enterprise_steps_ended"] == 1
    response = await _remit(client, node)
    assert response.json()["outcome"] == "payment_late"
    state = await current(client, token)
    latest = state["enterpriseVerifications"]["edges"][0]["node"]
    assert (latest["status"], latest["failureReason"]) == ("REJECTED", "PAYMENT_LATE")
    assert state["verification"] is None
    assert state["balance"] == node["remittance"]["amount"]
    # A second recharge reuses the dedicated account: no code needed
    again = await recharge(client, token)
    assert again["errors"] == []
    assert again["enterpriseVerification"]["remittance"]["accountNumber"] == node["remittance"]["accountNumber"]


async def test_rne_8_an_unknown_remittance_account_is_refused_and_credits_nothing(client, db: Database) -> None:
    response = await client.post(
        "/sandbox/remittance",
        data={"payer_account_name": "x", "payer_account_number": "1", "amount": "0.50", "to_account": "6216000"},
    )
    assert response.status_code == 404
    assert await count(db, BalanceEntry) == 0
    bad = await client.post("/sandbox/remittance", data={"payer_account_name": "x"})
    assert bad.status_code == 400


async def test_rne_1_one_enterprise_verification_at_a_time(client) -> None:
    token = await registered_and_signed_in(client)
    await _amount_pending(client, token)
    busy = await legal_rep_face(client, token)
    assert codes_of(busy) == [("APPLICATION_IN_PROGRESS", None)]


async def test_rne_2_a_verified_person_cannot_verify_an_organisation(client) -> None:
    from tests.api.test_verification import face_verified

    token = await registered_and_signed_in(client)
    await face_verified(client, token)
    assert codes_of(await legal_rep_face(client, token)) == [("ALREADY_VERIFIED", None)]
    assert codes_of(await recharge(client, token, "123456")) == [("ALREADY_VERIFIED", None)]


async def test_enterprise_attempt_rows_do_not_grow_statements(client, sql) -> None:
    token = await registered_and_signed_in(client)
    await legal_rep_face(client, token, organisation=organisation(name="查无此司"))
    sql.reset()
    await current(client, token)
    one = sql.count
    for _ in range(5):
        await legal_rep_face(client, token, organisation=organisation(name="查无此司"))
    sql.reset()
    await current(client, token)
    assert sql.count == one


async def test_rne_3_the_back_office_item_shows_what_to_decide_on(client, db: Database, run) -> None:
    token = await registered_and_signed_in(client)
    letter = await _upload(client, token)
    started = await legal_rep_face(
        client,
        token,
        organisation=organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP"),
        faceBy="AUTHORISED_EMPLOYEE",
        employeeName="李四",
        employeeIdNumber=ID_2008,
        authorisationLetterUploadId=letter,
    )
    await face_pass(client, started)
    facts = dict((await run(review.detail, (await _item(db)).id)).facts)
    assert facts["Organisation"] == "示例市软件行业协会"
    assert facts["USCC"] == USCC_SOCIAL_GROUP
    assert facts["Type"].startswith("6. 社会团体")
    assert facts["Authorised employee"] == "李四, ID 440***********1238 (face check passed)"
    assert ID_2008 not in " ".join(facts.values())


async def test_rne_2_twenty_concurrent_starts_count_exactly_ten(client, db: Database) -> None:
    import asyncio

    token = await registered_and_signed_in(client)
    results = await asyncio.gather(
        *(legal_rep_face(client, token, organisation=organisation(name="查无此司")) for _ in range(20))
    )
    codes = [r["errors"][0]["code"] for r in results]
    # Ten are counted; each of those is refused by the registry, or replaced by a newer start meanwhile
    assert codes.count("ENTERPRISE_ATTEMPTS_EXHAUSTED") == 10
    assert set(codes) - {"ENTERPRISE_ATTEMPTS_EXHAUSTED"} <= {"ORGANISATION_NOT_FOUND", "APPLICATION_SUPERSEDED"}
    assert await count(db, VerificationAttempt) == 10
    async with db.read_sessions() as s:
        assert await s.scalar(select(VerificationMethodUse.attempts)) == 10


async def test_rne_5_concurrent_wrong_amounts_fail_it_exactly_once(client, db: Database) -> None:
    import asyncio

    token = await registered_and_signed_in(client)
    vid, amount = await _amount_pending(client, token)
    results = await asyncio.gather(*(confirm(client, token, vid, _other_than(amount)) for _ in range(6)))
    codes = sorted(r["errors"][0]["code"] for r in results)
    assert codes.count("AMOUNT_WRONG") == 1
    assert codes.count("AMOUNT_WRONG_TWICE") == 1
    assert set(codes) <= {"AMOUNT_WRONG", "AMOUNT_WRONG_TWICE", "NOT_AWAITING_AMOUNT"}
    async with db.read_sessions() as s:
        application = (await s.scalars(select(EnterpriseApplication))).one()
    assert (application.state, application.wrong_amount_entries) == ("failed", 2)


# --- found in review: steps that run out or stop, superseded starts, races between methods -----------


async def test_rne_2_a_used_enterprise_face_ticket_is_refused_not_a_crash(client) -> None:
    token = await registered_and_signed_in(client)
    started = await transfer(client, token)
    await face_pass(client, started)
    assert (await client.post(ticket_path(started), data={"outcome": "pass"})).status_code == 409
    assert (await client.get(ticket_path(started))).status_code == 409
    assert len(await statement(client)) == 1  # paid once


async def test_rne_4_a_new_start_supersedes_an_open_face_check(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    first = await transfer(client, token)
    second = await transfer(client, token)
    assert second["errors"] == []
    assert (await client.post(ticket_path(first), data={"outcome": "pass"})).status_code == 409
    await face_pass(client, second)
    nodes = [e["node"] for e in (await current(client, token))["enterpriseVerifications"]["edges"]]
    assert [(n["status"], n["failureReason"]) for n in nodes] == [("AMOUNT_PENDING", None), ("EXPIRED", "SUPERSEDED")]
    assert await count(db, BankPayout) == 1


async def test_rne_4_a_payout_that_never_finished_is_given_up_and_given_back(
    client, clock: ManualClock, run, monkeypatch
) -> None:
    from sandbox import routes
    from services.sweeper import sweep

    async def stopped(tx: Any, attempt: Any) -> None:  # the process stopped between the face check and the payout
        return None

    token = await registered_and_signed_in(client)
    started = await transfer(client, token)
    monkeypatch.setattr(routes, "after_face_check", stopped)
    await face_pass(client, started)
    monkeypatch.undo()
    assert (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]["status"] == "PAYOUT_PENDING"
    assert codes_of(await transfer(client, token)) == [("APPLICATION_IN_PROGRESS", None)]
    clock.advance(minutes=5)
    assert (await run(sweep))["enterprise_steps_ended"] == 1
    state = await current(client, token)
    node = state["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["failureReason"]) == ("FAILED", "PROVIDER_UNAVAILABLE")
    assert state["verificationMethods"][1]["attemptsUsed"] == 0
    assert (await transfer(client, token))["errors"] == []


async def test_rne_4_a_run_out_amount_does_not_block_a_new_start_before_the_sweeper(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    await _amount_pending(client, token)
    clock.advance(days=8)
    token = await _sign_in_again(client)
    again = await transfer(client, token)
    assert again["errors"] == []
    nodes = [e["node"] for e in (await current(client, token))["enterpriseVerifications"]["edges"]]
    assert [(n["status"], n["failureReason"]) for n in nodes] == [
        ("FACE_CHECK_PENDING", None),
        ("EXPIRED", "AMOUNT_DEADLINE_PASSED"),
    ]


async def test_rne_8_the_sweeper_expires_unpaid_recharges(client, clock: ManualClock, run) -> None:
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    await _recharge_pending(client, token)
    clock.advance(days=2, hours=23)
    assert (await run(sweep))["enterprise_steps_ended"] == 0
    clock.advance(hours=1)
    assert (await run(sweep))["enterprise_steps_ended"] == 1
    token = await _sign_in_again(client)
    latest = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (latest["status"], latest["failureReason"]) == ("EXPIRED", "PAYMENT_NOT_RECEIVED")


async def test_rne_8_money_without_a_pending_recharge_is_credited_unmatched(client) -> None:
    token = await registered_and_signed_in(client)
    node = await _recharge_pending(client, token)
    assert (await _remit(client, node)).json()["outcome"] == "matched"
    extra = await _remit(client, node, amount="5.00")
    assert extra.json() == {"credited": "5.00", "outcome": "unmatched", "verification_state": "verified"}
    fen = int(node["remittance"]["amount"].replace(".", "")) + 500
    assert (await current(client, token))["balance"] == f"{fen // 100}.{fen % 100:02d}"


async def test_rne_3_the_legal_representatives_id_is_not_needed_when_an_employee_does_the_check(client) -> None:
    token = await registered_and_signed_in(client)
    started = await legal_rep_face(
        client,
        token,
        organisation=organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP"),
        legalRepresentativeIdNumber=None,
        faceBy="AUTHORISED_EMPLOYEE",
        employeeName="李四",
        employeeIdNumber=ID_2008,
        authorisationLetterUploadId=await _upload(client, token),
    )
    assert started["errors"] == []
    # HANDLER belongs to bank transfers: not a value of the legal-representative input (schema refusal)
    body = await gql(
        client,
        "mutation($input: EnterpriseVerificationLegalRepFaceStartInput!) { "
        "enterpriseVerificationLegalRepFaceStart(input: $input) { errors { code } } }",
        {"input": {"organisation": organisation(), "faceBy": "HANDLER", "agreement": VERIFICATION_AGREEMENT}},
        token,
        expect_errors=True,
    )
    assert body.get("data") is None
    assert "HANDLER" in body["errors"][0]["message"]


async def test_rn_1_a_personal_verification_waits_for_an_enterprise_one_under_way(
    client, db: Database, run, lead: Reviewer
) -> None:
    from tests.api.test_verification import face_start

    token = await registered_and_signed_in(client)
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    await face_pass(client, await legal_rep_face(client, token, organisation=other))
    assert codes_of(await face_start(client, token)) == [("APPLICATION_IN_PROGRESS", None)]
    item = await _item(db)
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.NOT_ELIGIBLE, "")
    node = (await current(client, token))["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["failureReason"], node["review"]["rejectReason"]) == (
        "REJECTED",
        "REJECTED_IN_REVIEW",
        "NOT_ELIGIBLE",
    )
    assert (await face_start(client, token))["errors"] == []


async def test_rne_4_the_eleventh_transfer_is_refused_and_a_failed_face_check_counts(client) -> None:
    token = await registered_and_signed_in(client)
    await face_pass(client, await transfer(client, token), "fail")
    for _ in range(9):
        await transfer(client, token, organisation=organisation(name="查无此司"))
    assert codes_of(await transfer(client, token)) == [("ENTERPRISE_ATTEMPTS_EXHAUSTED", None)]
    methods = (await current(client, token))["verificationMethods"]
    assert (methods[1]["attemptsUsed"], methods[1]["available"]) == (10, False)


async def test_rne_9_the_handler_must_be_known_to_the_identity_registry(client) -> None:
    from tests.api.test_verification import id_number

    token = await registered_and_signed_in(client)
    refused = await transfer(client, token, handlerIdNumber=id_number("19800101", "999"))
    assert codes_of(refused) == [("IDENTITY_NOT_FOUND", ["input", "handlerIdNumber"])]
    assert refused["errors"][0]["attemptsRemaining"] == 9


class RegistryDown:
    async def look_up(self, **_: Any) -> Any:
        raise ConnectionError("reset")


async def test_rne_4_a_provider_failure_gives_the_attempt_back(app, client) -> None:
    token = await registered_and_signed_in(client)
    providers = app.state.deps.providers
    real, providers.business = providers.business, RegistryDown()
    assert codes_of(await transfer(client, token)) == [("PROVIDER_UNAVAILABLE", None)]
    providers.business = real
    state = await current(client, token)
    assert state["verificationMethods"][1]["attemptsUsed"] == 0
    assert state["enterpriseVerifications"]["edges"][0]["node"]["failureReason"] == "PROVIDER_UNAVAILABLE"
    assert (await transfer(client, token))["errors"] == []


async def test_rne_8_bank_and_remittance_pages_are_404_when_sandbox_is_off(settings, clock, db) -> None:
    from dataclasses import replace

    from app import create_app

    app = create_app(replace(settings, sandbox=False), clock=clock, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await c.get(f"/sandbox/bank/{ACCOUNT_NUMBER}.json")).status_code == 404
        assert (await c.post("/sandbox/remittance", data={"to_account": "1"})).status_code == 404
        assert (await c.get("/downloads/authorisation-letter")).status_code == 200


# --- issue 12: nested input paths, every stateless problem at once ------------------------------------


async def test_rne_2_rne_9_a_legal_rep_form_reports_every_problem_at_its_nested_path(app, client, db: Database) -> None:
    providers = app.state.deps.providers
    spy = providers.business = Spy(providers.business)
    spy.look_up = spy.check
    token = await registered_and_signed_in(client)
    # When every field of the organisation, the legal representative's ID number and the agreement are wrong
    refused = await legal_rep_face(
        client,
        token,
        organisation=organisation(name=" ", code=USCC_ENTERPRISE[:-1] + "X", rep="张\x1b三"),
        legalRepresentativeIdNumber="12345",
        agreement={"version": "2020-01"},
    )
    # Then each comes back at its path in the nested input
    assert codes_of(refused) == [
        ("ORGANISATION_NAME_INVALID", ["input", "organisation", "name"]),
        ("USCC_INVALID", ["input", "organisation", "uscc"]),
        ("NAME_INVALID", ["input", "organisation", "legalRepresentativeName"]),
        ("ID_NUMBER_INVALID", ["input", "legalRepresentativeIdNumber"]),
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreement", "version"]),
    ]
    assert (refused["faceCheckStart"], refused["account"]) == (None, None)
    # An authorised employee's fields are checked together, for an other organisation
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    employee = await legal_rep_face(
        client, token, organisation=other, faceBy="AUTHORISED_EMPLOYEE", employeeName="", employeeIdNumber="1"
    )
    assert codes_of(employee) == [
        ("NAME_INVALID", ["input", "employeeName"]),
        ("ID_NUMBER_INVALID", ["input", "employeeIdNumber"]),
        ("AUTHORISATION_LETTER_REQUIRED", ["input", "authorisationLetterUploadId"]),
    ]
    # And an enterprise cannot have an employee do it, whatever else is wrong
    enterprise = await legal_rep_face(
        client, token, organisation=organisation(name=" "), faceBy="AUTHORISED_EMPLOYEE", employeeName=""
    )
    assert codes_of(enterprise) == [
        ("ORGANISATION_NAME_INVALID", ["input", "organisation", "name"]),
        ("AUTHORISED_EMPLOYEE_NOT_ALLOWED", ["input", "faceBy"]),
    ]
    # Nothing reached the registry, was recorded or counted
    assert spy.calls == 0
    assert await count(db, VerificationAttempt) == 0
    assert await count(db, EnterpriseApplication) == 0
    assert await count(db, VerificationMethodUse) == 0


async def test_rne_4_rne_6_rne_9_a_transfer_form_reports_every_problem_at_once(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    refused = await transfer(
        client,
        token,
        organisation=organisation(code=USCC_PUBLIC_INSTITUTION, kind="PUBLIC_INSTITUTION"),
        bankName="不存在银行",
        accountNumber="12ab",
        handlerName="王\x00五",
        handlerIdNumber=ID_2008[:-1] + "0",
    )
    assert codes_of(refused) == [
        ("METHOD_NOT_OFFERED", ["input", "organisation", "organisationType"]),
        ("BANK_NAME_WRONG", ["input", "bankName"]),
        ("ACCOUNT_NUMBER_INVALID", ["input", "accountNumber"]),
        ("NAME_INVALID", ["input", "handlerName"]),
        ("ID_NUMBER_INVALID", ["input", "handlerIdNumber"]),
    ]
    assert await count(db, VerificationAttempt) == 0
    assert await count(db, VerificationMethodUse) == 0


async def test_rne_8_a_recharge_form_reports_every_problem_at_once_and_counts_no_code(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    assert (await send_code(client, "REMITTANCE_ACCOUNT", token=token))["errors"] == []
    code = await last_code(client, "13700000001")
    refused = await recharge(
        client, token, "12ab", organisation=organisation(code="1234"), agreement={"version": "2020-01"}
    )
    assert codes_of(refused) == [
        ("USCC_INVALID", ["input", "organisation", "uscc"]),
        ("CODE_FORMAT_INVALID", ["input", "code"]),
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreement", "version"]),
    ]
    assert await count(db, EnterpriseApplication) == 0
    # The code was neither counted nor used: the corrected form goes through with it
    started = await recharge(client, token, code)
    assert started["errors"] == []
    assert started["enterpriseVerification"]["status"] == "REMITTANCE_PENDING"


async def test_rne_9_the_identity_registry_points_at_the_persons_fields(client) -> None:
    from tests.api.test_verification import id_number

    token = await registered_and_signed_in(client)
    unknown = await legal_rep_face(client, token, legalRepresentativeIdNumber=id_number("19800101", "999"))
    assert codes_of(unknown) == [("IDENTITY_NOT_FOUND", ["input", "legalRepresentativeIdNumber"])]
    other = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
    mismatch = await legal_rep_face(
        client,
        token,
        organisation=other,
        faceBy="AUTHORISED_EMPLOYEE",
        employeeName="王不符",
        employeeIdNumber=ID_2008,
        authorisationLetterUploadId=await _upload(client, token),
    )
    assert codes_of(mismatch) == [("NAME_MISMATCH", ["input", "employeeName"])]


async def test_rn_5_a_verified_account_is_told_about_its_form_before_its_state(client) -> None:
    from tests.api.test_verification import face_verified

    token = await registered_and_signed_in(client)
    await face_verified(client, token)
    assert codes_of(await legal_rep_face(client, token, organisation=organisation(code="1"))) == [
        ("USCC_INVALID", ["input", "organisation", "uscc"])
    ]
    assert codes_of(await legal_rep_face(client, token)) == [("ALREADY_VERIFIED", None)]
