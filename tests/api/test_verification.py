"""Personal real-name verification over the GraphQL API, with the sandbox magic values (docs/sandbox.md).

RULES: RN-1 RN-2 RN-3 RN-4 RN-5 RN-6 RN-7 RNP-1 RNP-2 RNP-3 RNP-4 RNP-5 RNP-6
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import create_app
from models.codes import OneTimeCode
from models.verification import IdentityDocumentUse, Verification, VerificationAttempt, VerificationMethodUse
from services.checksums import id_check_character
from services.clock import ManualClock
from services.database import Database
from services.providers.errors import ProviderUnavailable
from services.providers.identity import SandboxIdentityRegistry
from tests.helpers import (
    VERIFICATION_AGREEMENT,
    gql,
    last_code,
    mutate,
    outbox,
    registered_and_signed_in,
    send_code,
    sign_in,
)

ID_1949 = "11010519491231002X"  # docs/checksums.md samples
ID_2008 = "440301200801011238"
ID_2015 = "110101201506010010"  # under 14 in 2026 (RN-4)
CARD = "6217000000000000004"
CARD_2 = "6222020000000000000"
VISA = "4111111111111111"  # passes Luhn, not UnionPay
WRONG_RESERVED_PHONE = "13800000002"  # docs/sandbox.md: reserved phone does not match
NAME = "张三"

ATTEMPT = (
    "id method outcome reason documentType nameMasked documentNumberMasked cardNumberMasked countsAgainstLimit "
    "createdAt completedAt faceCheckExpiresAt"
)
VIEWER = f"""query {{ viewer {{
  verification {{ __typename id subjectType status method verifiedAt
    ... on PersonalVerification {{ nameMasked documentType documentNumberMasked }} }}
  verificationAttempts(first: 50) {{ totalCount edges {{ node {{ {ATTEMPT} }} }} }}
  verificationMethods {{ method available attemptsLimit attemptsUsed attemptsRemaining attemptsLimitPerDay attemptsRemainingToday }}
  entitlements {{ subjectType cloudServices invoices specialVatInvoice smsService onlineContracts lssVodTrafficCapGb }}
}} }}"""


def id_number(birth: str, sequence: str = "123", region: str = "110105") -> str:
    first17 = region + birth + sequence
    return first17 + id_check_character(first17)


def luhn_card(body: str) -> str:
    """`body` plus the Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


MISMATCH_CARD = luhn_card("621700000000" + "9999")
FACE_OPEN = {
    "method": "FACE",
    "available": True,
    "attemptsLimit": None,
    "attemptsUsed": 0,
    "attemptsRemaining": None,
    "attemptsLimitPerDay": 10,
    "attemptsRemainingToday": 10,
}
BANK_CARD_OPEN = {
    "method": "BANK_CARD",
    "available": True,
    "attemptsLimit": 10,
    "attemptsUsed": 0,
    "attemptsRemaining": 10,
    "attemptsLimitPerDay": None,
    "attemptsRemainingToday": None,
}  # docs/sandbox.md: four digits before the check digit are 9999


async def viewer(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return (await gql(client, VIEWER, token=token))["viewer"]


async def face_start(
    client: httpx.AsyncClient,
    token: str,
    number: str = ID_1949,
    *,
    name: str = NAME,
    document_type: str = "MAINLAND_ID_CARD",
    agreement: dict[str, str] = VERIFICATION_AGREEMENT,
) -> dict[str, Any]:
    return await mutate(
        client,
        "personalVerificationFaceStart",
        {"documentType": document_type, "name": name, "documentNumber": number, "agreement": agreement},
        f"faceCheckStart {{ attempt {{ {ATTEMPT} }} faceCheck {{ url qrCodeSvg expiresAt }} }} "
        "account { id verificationMethods { method attemptsRemainingToday } }",
        token,
    )


def ticket_path(started: dict[str, Any]) -> str:
    """The sandbox face page of a started face check (personal or enterprise)."""
    url = started["faceCheckStart"]["faceCheck"]["url"]
    match = re.match(r"^http://127\.0\.0\.1:8000(/sandbox/face/[A-Za-z0-9_-]+)$", url)
    assert match, url
    return match.group(1)


async def face_verified(client: httpx.AsyncClient, token: str, number: str = ID_1949) -> dict[str, Any]:
    started = await face_start(client, token, number)
    assert started["errors"] == [], started
    response = await client.post(ticket_path(started), data={"outcome": "pass"})
    assert response.status_code == 200, response.text
    return started


async def bank_card(
    client: httpx.AsyncClient,
    token: str,
    *,
    name: str = NAME,
    id_number: str = ID_2008,
    card: str = CARD,
    phone: str = "13600000001",
    code: str | None = None,
    agreement: dict[str, str] = VERIFICATION_AGREEMENT,
) -> dict[str, Any]:
    if code is None:
        sent = await send_code(client, "BANK_CARD", phone=phone, token=token)
        assert sent["errors"] == [], sent
        code = await last_code(client, phone)
    data: dict[str, Any] = {
        "name": name,
        "idNumber": id_number,
        "cardNumber": card,
        "reservedPhone": phone,
        "code": code,
        "agreement": agreement,
    }
    return await mutate(
        client,
        "personalVerificationBankCardSubmit",
        data,
        "verification { subjectType method nameMasked documentType documentNumberMasked verifiedAt } "
        "account { id verification { id } entitlements { subjectType } }",
        token,
    )


def codes_of(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


async def count(db: Database, model: Any) -> int:
    async with db.read_sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


class Spy:
    """Counts calls to a provider; for "never reaches a provider" assertions."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    async def check(self, **kwargs: Any) -> Any:
        self.calls += 1
        return await self.inner.check(**kwargs)

    async def start(self, **kwargs: Any) -> Any:
        self.calls += 1
        return await self.inner.start(**kwargs)


@pytest.fixture
def spies(app: Any) -> dict[str, Spy]:
    providers = app.state.deps.providers
    found = {"identity": Spy(providers.identity), "bank_cards": Spy(providers.bank_cards)}
    found["liveness"] = Spy(providers.liveness)
    providers.identity, providers.bank_cards, providers.liveness = (
        found["identity"],
        found["bank_cards"],
        found["liveness"],
    )
    return found


# --- RNP-1 / RNP-2: face verification -----------------------------------------------------------


async def test_rnp_2_face_check_passed_on_the_sandbox_page_verifies_the_person(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    # Given a face verification started with a mainland ID card
    started = await face_start(client, token)
    assert started["errors"] == []
    attempt = started["faceCheckStart"]["attempt"]
    assert (attempt["method"], attempt["outcome"], attempt["reason"]) == ("FACE", "PENDING", None)
    assert attempt["faceCheckExpiresAt"] == (clock.now() + timedelta(minutes=10)).isoformat()
    face_check = started["faceCheckStart"]["faceCheck"]
    assert face_check["qrCodeSvg"].startswith("data:image/svg+xml")
    assert face_check["expiresAt"] == attempt["faceCheckExpiresAt"]
    # The viewer comes back with the start counted against today's face checks
    assert started["account"]["verificationMethods"][0] == {"method": "FACE", "attemptsRemainingToday": 9}
    # And the sandbox page shows who is being checked, masked, with Pass and Fail
    page = await client.get(ticket_path(started))
    assert page.status_code == 200
    assert "*三" in page.text
    assert "110***********002X" in page.text
    assert ID_1949 not in page.text
    assert 'value="pass"' in page.text
    assert 'value="fail"' in page.text
    # While pending the account is not verified yet
    before = await viewer(client, token)
    assert before["verification"] is None
    # When the phone presses Pass
    done = await client.post(ticket_path(started), data={"outcome": "pass"})
    assert done.status_code == 200
    assert "Passed" in done.text
    # Then the result is visible by query
    after = await viewer(client, token)
    verification_id = after["verification"].pop("id")
    assert after["verification"] == {
        "__typename": "PersonalVerification",
        "subjectType": "PERSON",
        "status": "VERIFIED",
        "method": "FACE",
        "verifiedAt": clock.now().isoformat(),
        "nameMasked": "*三",
        "documentType": "MAINLAND_ID_CARD",
        "documentNumberMasked": "110***********002X",
    }
    node = await gql(
        client, f'{{ node(id: "{attempt["id"]}") {{ ... on VerificationAttempt {{ outcome }} }} }}', token=token
    )
    assert node["node"] == {"outcome": "PASSED"}
    again = await gql(
        client, f'{{ node(id: "{verification_id}") {{ ... on PersonalVerification {{ method }} }} }}', token=token
    )
    assert again["node"] == {"method": "FACE"}
    stranger = await registered_and_signed_in(client, "bob0001", "13700000002")
    assert (await gql(client, f'{{ node(id: "{verification_id}") {{ id }} }}', token=stranger))["node"] is None


@pytest.mark.parametrize(
    ("document_type", "number"),
    [
        ("MAINLAND_ID_CARD", ID_2008),
        ("HMT_TRAVEL_PERMIT", "H12345678"),
        ("FOREIGN_PERMANENT_RESIDENCE_CARD", "USA110079010106"),
        ("CHINESE_PASSPORT_ABROAD", "E12345678"),
    ],
)
async def test_rnp_2_face_verification_accepts_the_four_document_types(client, document_type: str, number: str) -> None:
    token = await registered_and_signed_in(client)
    started = await face_start(client, token, number, document_type=document_type)
    assert started["errors"] == []
    assert (await client.post(ticket_path(started), data={"outcome": "pass"})).status_code == 200
    verification = (await viewer(client, token))["verification"]
    assert (verification["documentType"], verification["method"]) == (document_type, "FACE")


async def test_rnp_2_registry_refusals_are_attempts_with_their_reason(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    # docs/sandbox.md: name 王不符 does not match; sequence 999 and other documents' X0000000 are not found
    mismatch = await face_start(client, token, name="王不符")
    unknown = await face_start(client, token, id_number("19800101", "999"))
    unknown_other = await face_start(client, token, "X0000000", document_type="HMT_TRAVEL_PERMIT")
    assert codes_of(mismatch) == [("NAME_MISMATCH", ["input", "name"])]
    assert codes_of(unknown) == [("IDENTITY_NOT_FOUND", ["input", "documentNumber"])]
    assert codes_of(unknown_other) == [("IDENTITY_NOT_FOUND", ["input", "documentNumber"])]
    assert (mismatch["faceCheckStart"], mismatch["account"]) == (None, None)
    # Each is kept in the history (RN-7), no ticket was opened and the account is not verified
    state = await viewer(client, token)
    assert [(n["node"]["outcome"], n["node"]["reason"]) for n in state["verificationAttempts"]["edges"]] == [
        ("FAILED", "IDENTITY_NOT_FOUND"),
        ("FAILED", "IDENTITY_NOT_FOUND"),
        ("FAILED", "NAME_MISMATCH"),
    ]
    assert state["verification"] is None
    assert await count(db, VerificationMethodUse) == 0
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).where(VerificationAttempt.ticket_hash.is_not(None))) == 0
        # A failed attempt keeps the number only as a keyed hash and masked, not sealed
        assert await s.scalar(select(func.count()).where(VerificationAttempt.document_sealed.is_not(None))) == 0


async def test_rnp_3_a_failed_face_check_voids_its_qr_code(client) -> None:
    token = await registered_and_signed_in(client)
    started = await face_start(client, token)
    # When the liveness check fails
    failed = await client.post(ticket_path(started), data={"outcome": "fail"})
    assert failed.status_code == 200
    assert "void" in failed.text
    # Then the ticket is void: neither the page nor a second answer works
    assert (await client.get(ticket_path(started))).status_code == 409
    again = await client.post(ticket_path(started), data={"outcome": "pass"})
    assert again.status_code == 409
    state = await viewer(client, token)
    assert state["verification"] is None
    assert [(n["node"]["outcome"], n["node"]["reason"]) for n in state["verificationAttempts"]["edges"]] == [
        ("FAILED", "FACE_CHECK_FAILED")
    ]
    # And submitting again gives a new QR code that works
    retry = await face_start(client, token)
    assert ticket_path(retry) != ticket_path(started)
    assert (await client.post(ticket_path(retry), data={"outcome": "pass"})).status_code == 200
    assert (await viewer(client, token))["verification"]["method"] == "FACE"


async def test_rnp_2_face_ticket_lives_10_minutes_and_is_single_use(client, clock: ManualClock, run) -> None:
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    late = await face_start(client, token)
    # Ten minutes and a second later the ticket reads as expired, before any sweep
    clock.advance(minutes=10, seconds=1)
    edges = (await viewer(client, token))["verificationAttempts"]["edges"]
    assert (edges[0]["node"]["outcome"], edges[0]["node"]["reason"]) == ("EXPIRED", "FACE_CHECK_EXPIRED")
    assert (await client.get(ticket_path(late))).status_code == 410
    assert (await client.post(ticket_path(late), data={"outcome": "pass"})).status_code == 410
    assert (await viewer(client, token))["verification"] is None
    # A ticket is used once: a second Pass on a passed ticket is refused
    fresh = await face_start(client, token)
    assert (await client.post(ticket_path(fresh), data={"outcome": "pass"})).status_code == 200
    assert (await client.post(ticket_path(fresh), data={"outcome": "pass"})).status_code == 409
    # The sweeper finds nothing left to expire (the late one was expired on access)
    assert (await run(sweep))["face_checks_expired"] == 0


async def test_rnp_2_sweeper_expires_face_checks_nobody_answered(client, clock: ManualClock, run, db: Database) -> None:
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    await face_start(client, token)
    clock.advance(minutes=11)
    assert (await run(sweep))["face_checks_expired"] == 1
    async with db.read_sessions() as s:
        row = (await s.scalars(select(VerificationAttempt))).one()
    assert (row.outcome, row.reason) == ("expired", "FACE_CHECK_EXPIRED")


async def test_rnp_3_starting_again_voids_the_earlier_ticket(client) -> None:
    token = await registered_and_signed_in(client)
    first = await face_start(client, token)
    second = await face_start(client, token)
    assert (await client.post(ticket_path(first), data={"outcome": "pass"})).status_code == 409
    edges = (await viewer(client, token))["verificationAttempts"]["edges"]
    assert [(e["node"]["outcome"], e["node"]["reason"]) for e in edges] == [
        ("PENDING", None),
        ("EXPIRED", "SUPERSEDED"),
    ]
    assert (await client.post(ticket_path(second), data={"outcome": "pass"})).status_code == 200


async def test_rnp_2_sandbox_face_page_answers_unknown_tickets_and_bad_outcomes(client) -> None:
    assert (await client.get("/sandbox/face/face_unknown")).status_code == 404
    assert (await client.post("/sandbox/face/face_unknown", data={"outcome": "pass"})).status_code == 404
    token = await registered_and_signed_in(client)
    started = await face_start(client, token)
    assert (await client.post(ticket_path(started), data={"outcome": "maybe"})).status_code == 400
    assert (await viewer(client, token))["verificationAttempts"]["edges"][0]["node"]["outcome"] == "PENDING"


async def test_rnp_2_face_page_is_404_when_sandbox_is_off(settings, clock, db) -> None:
    app = create_app(replace(settings, sandbox=False), clock=clock, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await c.get("/sandbox/face/anything")).status_code == 404
        assert (await c.post("/sandbox/face/anything", data={"outcome": "pass"})).status_code == 404


# --- RNP-6 / RN-4 / RN-6: local checks never reach a provider -------------------------------------


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (ID_1949[:-1] + "1", "ID_NUMBER_INVALID"),  # wrong check character
        ("１１０１０５１９４９１２３１００２X", "ID_NUMBER_INVALID"),  # full-width digits (str.isdigit() takes them)
        ("11010519491231002", "ID_NUMBER_INVALID"),  # 17 characters
        (id_number("19490230"), "ID_NUMBER_INVALID"),  # 30 February
        (id_number("20270101"), "ID_NUMBER_INVALID"),  # born in the future
        (ID_2015, "AGE_BELOW_MINIMUM"),  # RN-4
    ],
)
async def test_rnp_6_and_rn_4_local_checks_refuse_before_any_provider_call(
    client, spies: dict[str, Spy], db: Database, number: str, code: str
) -> None:
    token = await registered_and_signed_in(client)
    refused = await face_start(client, token, number)
    assert codes_of(refused) == [(code, ["input", "documentNumber"])]
    by_card = await bank_card(client, token, id_number=number)
    assert codes_of(by_card) == [(code, ["input", "idNumber"])]
    # Nothing reached a provider, nothing was recorded or counted, the code was not used
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0
    assert await count(db, VerificationMethodUse) == 0
    async with db.read_sessions() as s:
        assert (
            await s.scalar(
                select(func.count()).where(OneTimeCode.purpose == "BANK_CARD", OneTimeCode.consumed_at.is_not(None))
            )
            == 0
        )


@pytest.mark.parametrize("name", ["张\x00三", "张\t三", "张三\r\n", "\x1b[31m张三", "张\x7f三", "张\x85三"])
async def test_rnp_2_a_name_with_a_control_character_is_refused_before_any_provider_call(
    client, spies: dict[str, Spy], db: Database, name: str
) -> None:
    # Given a signed-in account
    token = await registered_and_signed_in(client)
    # When a face check is started for a name holding NUL, a tab, a line break, ESC, DEL or a C1 code
    refused = await face_start(client, token, name=name)
    # Then the name is refused before any provider is asked, and nothing is recorded
    assert codes_of(refused) == [("NAME_INVALID", ["input", "name"])]
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0


async def test_rn_4_age_is_counted_to_the_day_in_asia_shanghai(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    # 2026-11-26 in Shanghai: born 2012-11-27 is 13, born 2012-11-26 is 14 today
    assert codes_of(await face_start(client, token, id_number("20121127"))) == [
        ("AGE_BELOW_MINIMUM", ["input", "documentNumber"])
    ]
    assert (await face_start(client, token, id_number("20121126")))["errors"] == []
    # At 2026-11-26T16:30Z it is already the 27th in Shanghai: the one born on the 27th turns 14
    clock.set(clock.now().replace(hour=16, minute=30))
    token = await sign_in(client, "alice01")
    assert (await face_start(client, token, id_number("20121127")))["errors"] == []


async def test_rnp_6_lower_case_x_is_accepted_and_normalised(client) -> None:
    token = await registered_and_signed_in(client)
    await face_verified(client, token, ID_1949.lower())
    assert (await viewer(client, token))["verification"]["documentNumberMasked"] == "110***********002X"


async def test_rn_6_the_verification_agreement_must_be_accepted_in_its_current_version(
    client, spies, db: Database
) -> None:
    token = await registered_and_signed_in(client)
    # Without the agreement the request does not validate: the field is non-null (no payload, nothing run)
    body = await gql(
        client,
        'mutation { personalVerificationFaceStart(input: {documentType: MAINLAND_ID_CARD, name: "张三", '
        f'documentNumber: "{ID_1949}"}}) {{ errors {{ code }} }} }}',
        token=token,
        expect_errors=True,
    )
    assert body.get("data") is None
    assert "agreement" in body["errors"][0]["message"]
    # An older version is refused at its path, by both methods
    outdated = await face_start(client, token, agreement={"version": "2020-01"})
    assert codes_of(outdated) == [("AGREEMENT_VERSION_OUTDATED", ["input", "agreement", "version"])]
    assert codes_of(await bank_card(client, token, code="123456", agreement={"version": "2020-01"})) == [
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreement", "version"])
    ]
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0
    # Once verified, the acceptance is recorded with its version and the submission time
    started = await face_verified(client, token)
    acceptances = (
        await gql(client, "{ viewer { agreementAcceptances { kind version context acceptedAt } } }", token=token)
    )["viewer"]["agreementAcceptances"]
    assert {
        "kind": "REAL_NAME_VERIFICATION",
        "version": VERIFICATION_AGREEMENT["version"],
        "context": "VERIFICATION",
        "acceptedAt": started["faceCheckStart"]["attempt"]["createdAt"],
    } in acceptances
    listed = (await gql(client, "{ agreements(step: REAL_NAME_VERIFICATION) { kind version step } }"))["agreements"]
    assert listed == [{"kind": "REAL_NAME_VERIFICATION", **VERIFICATION_AGREEMENT, "step": "REAL_NAME_VERIFICATION"}]


# --- RNP-4 / RNP-5: bank card ---------------------------------------------------------------------


async def test_rnp_4_bank_card_verifies_with_the_code_sent_to_the_reserved_phone(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    result = await bank_card(client, token, card="6217 0000 0000 0000 004")
    assert result["errors"] == []
    assert result["verification"] == {
        "subjectType": "PERSON",
        "method": "BANK_CARD",
        "nameMasked": "*三",
        "documentType": "MAINLAND_ID_CARD",
        "documentNumberMasked": "440***********1238",
        "verifiedAt": clock.now().isoformat(),
    }
    state = await viewer(client, token)
    [attempt] = [e["node"] for e in state["verificationAttempts"]["edges"]]
    assert (attempt["method"], attempt["outcome"], attempt["cardNumberMasked"]) == (
        "BANK_CARD",
        "PASSED",
        "6217 **** **** 0004",
    )
    assert state["verificationMethods"] == [
        {**FACE_OPEN, "available": False},
        {**BANK_CARD_OPEN, "available": False, "attemptsUsed": 1, "attemptsRemaining": 9},
    ]


async def test_rnp_4_local_refusals_change_nothing_and_keep_the_code(client, spies, db: Database) -> None:
    token = await registered_and_signed_in(client)
    phone = "13600000001"
    await send_code(client, "BANK_CARD", phone=phone, token=token)
    code = await last_code(client, phone)
    cases = [
        ({"card": CARD[:-1] + "5"}, ("CARD_NUMBER_INVALID", ["input", "cardNumber"])),  # Luhn
        ({"card": "62170000"}, ("CARD_NUMBER_INVALID", ["input", "cardNumber"])),
        ({"card": VISA}, ("CARD_NOT_UNIONPAY", ["input", "cardNumber"])),
        ({"phone": "12345"}, ("INVALID_PHONE", ["input", "reservedPhone"])),
        ({"name": "   "}, ("NAME_INVALID", ["input", "name"])),
        ({"name": "张\x00三"}, ("NAME_INVALID", ["input", "name"])),  # PostgreSQL refuses NUL outright
        ({"name": "张三\n"}, ("NAME_INVALID", ["input", "name"])),  # a name is one line
        (
            {"card": "６２１７０００００００００００００００４"},
            ("CARD_NUMBER_INVALID", ["input", "cardNumber"]),
        ),  # full-width
        ({"code": "12ab56"}, ("CODE_FORMAT_INVALID", ["input", "code"])),
    ]
    for change, expected in cases:
        args: dict[str, Any] = {"phone": phone, "code": code, **change}
        assert codes_of(await bank_card(client, token, **args)) == [expected], change
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0
    assert (await viewer(client, token))["verificationMethods"][1]["attemptsUsed"] == 0
    # The code was never used: it still verifies the card
    assert (await bank_card(client, token, phone=phone, code=code))["errors"] == []


async def test_rnp_4_a_wrong_sms_code_counts_against_the_code_not_the_card(client, spies, db: Database) -> None:
    token = await registered_and_signed_in(client)
    phone = "13600000001"
    await send_code(client, "BANK_CARD", phone=phone, token=token)
    code = await last_code(client, phone)
    wrong = "000000" if code != "000000" else "111111"
    refused = await bank_card(client, token, phone=phone, code=wrong)
    assert codes_of(refused) == [("CODE_INVALID", ["input", "code"])]
    assert refused["errors"][0]["attemptsRemaining"] == 4
    assert spies["bank_cards"].calls == 0
    assert await count(db, VerificationAttempt) == 0
    # A code sent to another phone does not verify this one (CODE-2)
    other = await bank_card(client, token, phone="13600000009", code=code)
    assert codes_of(other) == [("CODE_INVALID", ["input", "code"])]
    assert (await bank_card(client, token, phone=phone, code=code))["errors"] == []


@pytest.mark.parametrize(
    ("change", "code", "field", "reason"),
    [
        ({"card": MISMATCH_CARD}, "CARD_ELEMENTS_MISMATCH", ["input", "cardNumber"], "CARD_ELEMENTS_MISMATCH"),
        (
            {"phone": WRONG_RESERVED_PHONE},
            "RESERVED_PHONE_MISMATCH",
            ["input", "reservedPhone"],
            "RESERVED_PHONE_MISMATCH",
        ),
        ({"name": "王不符"}, "NAME_MISMATCH", ["input", "name"], "NAME_MISMATCH"),
        (
            {"id_number": id_number("19800101", "999")},
            "IDENTITY_NOT_FOUND",
            ["input", "idNumber"],
            "IDENTITY_NOT_FOUND",
        ),
    ],
)
async def test_rnp_5_a_refused_card_is_a_counted_attempt(
    client, db: Database, change: dict[str, str], code: str, field: list[str], reason: str
) -> None:
    token = await registered_and_signed_in(client)
    refused = await bank_card(client, token, **change)
    assert codes_of(refused) == [(code, field)]
    assert refused["errors"][0]["attemptsRemaining"] == 9
    state = await viewer(client, token)
    assert state["verification"] is None
    [attempt] = [e["node"] for e in state["verificationAttempts"]["edges"]]
    assert (attempt["method"], attempt["outcome"], attempt["reason"], attempt["countsAgainstLimit"]) == (
        "BANK_CARD",
        "FAILED",
        reason,
        True,
    )
    assert state["verificationMethods"][1] == {**BANK_CARD_OPEN, "attemptsUsed": 1, "attemptsRemaining": 9}


async def test_rnp_5_after_10_attempts_bank_card_closes_and_face_remains(client, spies, db: Database) -> None:
    token = await registered_and_signed_in(client)
    for i in range(10):
        refused = await bank_card(client, token, card=MISMATCH_CARD, phone=f"136000000{i:02d}")
        assert refused["errors"][0]["attemptsRemaining"] == 9 - i
    calls = spies["bank_cards"].calls
    # The 11th is refused before a code is sent or the bank asked, pointing to face verification
    phone = "13600000099"
    no_code = await send_code(client, "BANK_CARD", phone=phone, token=token)
    assert [(e["code"], e["attemptsRemaining"]) for e in no_code["errors"]] == [("BANK_CARD_ATTEMPTS_EXHAUSTED", 0)]
    assert await outbox(client, phone) == []
    closed = await bank_card(client, token, phone=phone, code="123456")
    assert codes_of(closed) == [("BANK_CARD_ATTEMPTS_EXHAUSTED", None)]
    assert closed["errors"][0]["attemptsRemaining"] == 0
    assert "face" in closed["errors"][0]["message"]
    assert spies["bank_cards"].calls == calls
    assert await count(db, VerificationAttempt) == 10
    methods = (await viewer(client, token))["verificationMethods"]
    assert methods[1] == {**BANK_CARD_OPEN, "available": False, "attemptsUsed": 10, "attemptsRemaining": 0}
    assert methods[0]["available"] is True
    await face_verified(client, token)
    assert (await viewer(client, token))["verification"]["method"] == "FACE"


async def test_rnp_5_twenty_concurrent_attempts_count_exactly_ten(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    phones = [f"135000000{i:02d}" for i in range(20)]
    codes = []
    for phone in phones:
        assert (await send_code(client, "BANK_CARD", phone=phone, token=token))["errors"] == []
        codes.append(await last_code(client, phone))
    results = await asyncio.gather(
        *(bank_card(client, token, card=MISMATCH_CARD, phone=p, code=c) for p, c in zip(phones, codes, strict=True))
    )
    outcomes = sorted(r["errors"][0]["code"] for r in results)
    assert outcomes == ["BANK_CARD_ATTEMPTS_EXHAUSTED"] * 10 + ["CARD_ELEMENTS_MISMATCH"] * 10
    assert await count(db, VerificationAttempt) == 10
    async with db.read_sessions() as s:
        assert await s.scalar(select(VerificationMethodUse.attempts)) == 10


# --- provider failures are not the user's ---------------------------------------------------------


class Down:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def check(self, **_: Any) -> Any:
        raise self.exc

    async def start(self, **_: Any) -> Any:
        raise self.exc


class Hangs:
    async def check(self, **_: Any) -> Any:
        await asyncio.Event().wait()

    async def start(self, **_: Any) -> Any:
        await asyncio.Event().wait()


@pytest.mark.parametrize("provider", [Down(ProviderUnavailable("down")), Down(ConnectionError("reset")), Hangs()])
async def test_a_provider_failure_is_retryable_and_not_counted(app, client, db: Database, provider: Any) -> None:
    token = await registered_and_signed_in(client)
    providers = app.state.deps.providers
    real, providers.bank_cards, providers.timeout_seconds = providers.bank_cards, provider, 0.0
    await send_code(client, "BANK_CARD", phone="13600000001", token=token)
    code = await last_code(client, "13600000001")
    failed = await bank_card(client, token, code=code)
    assert codes_of(failed) == [("PROVIDER_UNAVAILABLE", None)]
    assert failed["errors"][0]["retryAfter"] == 30
    state = await viewer(client, token)
    assert state["verificationMethods"][1]["attemptsUsed"] == 0
    [attempt] = [e["node"] for e in state["verificationAttempts"]["edges"]]
    assert (attempt["outcome"], attempt["reason"], attempt["countsAgainstLimit"]) == (
        "ERROR",
        "PROVIDER_UNAVAILABLE",
        False,
    )
    # The face check's providers failing is recorded as an error too, and not counted against the day's starts
    providers.liveness, providers.identity = provider, provider
    assert codes_of(await face_start(client, token)) == [("PROVIDER_UNAVAILABLE", None)]
    state = await viewer(client, token)
    assert [(e["node"]["method"], e["node"]["outcome"]) for e in state["verificationAttempts"]["edges"]] == [
        ("FACE", "ERROR"),
        ("BANK_CARD", "ERROR"),
    ]
    assert state["verificationMethods"][0]["attemptsRemainingToday"] == 10
    # Once the bank answers again the user simply submits the same form, with the same code
    providers.bank_cards, providers.identity, providers.timeout_seconds = real, SandboxIdentityRegistry(), 10.0
    retried = await bank_card(client, token, code=code)
    assert retried["errors"] == []


async def test_rnp_5_a_stopped_bank_card_attempt_is_given_back_by_the_sweeper(
    client, clock: ManualClock, run, db: Database, app
) -> None:
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    # Given a bank-card attempt whose provider step never finished (the process stopped)
    providers = app.state.deps.providers
    providers.bank_cards, providers.timeout_seconds = Hangs(), 0.0

    async def lost(uow: Any) -> None:  # what a crash between the steps leaves behind
        row = (await uow.session.scalars(select(VerificationAttempt))).one()
        row.outcome, row.reason, row.completed_at, row.counted = "pending", None, None, True
        await uow.session.execute(VerificationMethodUse.__table__.update().values(attempts=1))

    await bank_card(client, token)
    await run(lost)
    assert (await viewer(client, token))["verificationMethods"][1]["attemptsUsed"] == 1
    # When five minutes pass, the sweeper records it as a provider error and gives the attempt back
    clock.advance(minutes=5)
    assert (await run(sweep))["bank_card_attempts_returned"] == 1
    state = await viewer(client, token)
    assert state["verificationMethods"][1]["attemptsUsed"] == 0
    assert state["verificationAttempts"]["edges"][0]["node"]["outcome"] == "ERROR"


# --- RN-3 / RN-5 / RN-1 ---------------------------------------------------------------------------


async def test_rn_3_one_document_verifies_at_most_5_accounts(client, db: Database, spies) -> None:
    for i in range(5):
        token = await registered_and_signed_in(client, f"user{i:02d}", f"1370000000{i}")
        await face_verified(client, token)
    sixth = await registered_and_signed_in(client, "user05", "13700000005")
    calls = spies["identity"].calls
    by_face = await face_start(client, sixth)
    by_card = await bank_card(client, sixth, id_number=ID_1949)
    for refused in (by_face, by_card):
        assert codes_of(refused) == [("DOCUMENT_LIMIT_REACHED", None)]
        assert "该证件已被多个账号认证" in refused["errors"][0]["message"]
    # Refused before any provider call ("the 6th attempt", kept in the history and counted against
    # nothing: no bank-card attempt, no SMS code); the document count stays 5
    assert spies["identity"].calls == calls
    state = await viewer(client, sixth)
    assert [
        (e["node"]["method"], e["node"]["outcome"], e["node"]["reason"]) for e in state["verificationAttempts"]["edges"]
    ] == [
        ("BANK_CARD", "FAILED", "DOCUMENT_LIMIT_REACHED"),
        ("FACE", "FAILED", "DOCUMENT_LIMIT_REACHED"),
    ]
    assert state["verificationMethods"] == [{**FACE_OPEN, "attemptsRemainingToday": 9}, BANK_CARD_OPEN]
    async with db.read_sessions() as s:
        assert (
            await s.scalar(
                select(func.count()).where(OneTimeCode.consumed_at.is_not(None), OneTimeCode.purpose == "BANK_CARD")
            )
            == 0
        )
        assert await s.scalar(select(IdentityDocumentUse.accounts)) == 5
        assert await s.scalar(select(func.count()).select_from(Verification)) == 5
    # Another document still works for the sixth account
    await face_verified(client, sixth, ID_2008)


async def test_rn_3_concurrent_passes_on_one_document_verify_exactly_5(client, db: Database) -> None:
    started = []
    for i in range(8):
        token = await registered_and_signed_in(client, f"user{i:02d}", f"1370000000{i}")
        started.append(await face_start(client, token))
    responses = await asyncio.gather(*(client.post(ticket_path(s), data={"outcome": "pass"}) for s in started))
    assert all(r.status_code == 200 for r in responses)
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Verification)) == 5
        assert await s.scalar(select(IdentityDocumentUse.accounts)) == 5
        reasons = sorted(
            (o, r or "") for o, r in (await s.execute(select(VerificationAttempt.outcome, VerificationAttempt.reason)))
        )
    assert reasons == [("failed", "DOCUMENT_LIMIT_REACHED")] * 3 + [("passed", "")] * 5


async def test_rn_5_a_verified_account_cannot_verify_again_or_be_unverified(client, db: Database, spies) -> None:
    token = await registered_and_signed_in(client)
    await face_verified(client, token)
    calls = [s.calls for s in spies.values()]
    assert codes_of(await face_start(client, token, ID_2008)) == [("ALREADY_VERIFIED", None)]
    assert [e["code"] for e in (await send_code(client, "BANK_CARD", phone="13600000001", token=token))["errors"]] == [
        "ALREADY_VERIFIED"
    ]
    assert codes_of(await bank_card(client, token, code="123456")) == [("ALREADY_VERIFIED", None)]
    assert [s.calls for s in spies.values()] == calls
    # No mutation removes a verification
    from schema.schema import export_sdl

    mutation_block = export_sdl().split("type Mutation {", 1)[1].split("\n}", 1)[0]
    names = re.findall(r"^  (\w+)\(", mutation_block, re.M)
    assert not [n for n in names if "erification" in n and re.search(r"(Cancel|Delete|Remove|Unbind)", n)]
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Verification)) == 1


async def test_rn_5_a_face_pass_after_a_bank_card_pass_does_not_verify_twice(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    started = await face_start(client, token)
    assert (await bank_card(client, token))["errors"] == []
    assert (await client.post(ticket_path(started), data={"outcome": "pass"})).status_code == 200
    edges = (await viewer(client, token))["verificationAttempts"]["edges"]
    assert [(e["node"]["method"], e["node"]["outcome"], e["node"]["reason"]) for e in edges] == [
        ("BANK_CARD", "PASSED", None),
        ("FACE", "FAILED", "ALREADY_VERIFIED"),
    ]
    async with db.read_sessions() as s:
        assert await s.scalar(select(IdentityDocumentUse.accounts).where(IdentityDocumentUse.accounts > 0)) == 1


async def test_rn_1_the_verified_subject_is_a_person_for_other_services(client, run) -> None:
    from services.verification.subject import verified_subject

    token = await registered_and_signed_in(client)
    await face_verified(client, token)
    state = await viewer(client, token)
    assert state["verification"]["subjectType"] == "PERSON"
    assert state["entitlements"]["subjectType"] == "PERSON"

    async def subject(uow: Any) -> list[str | None]:
        rows = await uow.session.scalars(select(Verification.account_id))
        return [await verified_subject(uow, a) for a in rows] + [await verified_subject(uow, 10**9)]

    assert await run(subject) == ["person", None]


# --- RN-7: the history, and its cost --------------------------------------------------------------


async def test_rn_7_history_pages_newest_first_with_method_outcome_reason_and_time(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    await bank_card(client, token, card=MISMATCH_CARD)
    clock.advance(minutes=1)
    await face_start(client, token, name="王不符")
    clock.advance(minutes=1)
    await face_verified(client, token)
    first = (
        await gql(
            client,
            "{ viewer { verificationAttempts(first: 2) { totalCount pageInfo { hasNextPage endCursor } "
            "edges { node { method outcome reason createdAt } } } } }",
            token=token,
        )
    )["viewer"]["verificationAttempts"]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert [(n["node"]["method"], n["node"]["outcome"], n["node"]["reason"]) for n in first["edges"]] == [
        ("FACE", "PASSED", None),
        ("FACE", "FAILED", "NAME_MISMATCH"),
    ]
    rest = (
        await gql(
            client,
            "query($after: String) { viewer { verificationAttempts(first: 2, after: $after) { "
            "pageInfo { hasNextPage } edges { node { method outcome reason createdAt } } } } }",
            {"after": first["pageInfo"]["endCursor"]},
            token=token,
        )
    )["viewer"]["verificationAttempts"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [(n["node"]["method"], n["node"]["reason"], n["node"]["createdAt"]) for n in rest["edges"]] == [
        ("BANK_CARD", "CARD_ELEMENTS_MISMATCH", (clock.now() - timedelta(minutes=2)).isoformat())
    ]


async def test_rn_7_statement_count_does_not_grow_with_the_attempts(client, sql, run) -> None:
    token = await registered_and_signed_in(client)
    query = (
        "{ viewer { verification { status } "
        "verificationAttempts(first: 50) { totalCount edges { node { id outcome reason } } } } }"
    )
    await face_start(client, token, name="王不符")
    await face_start(client, token, name="王不符")
    sql.reset()
    await gql(client, query, token=token)
    with_two = sql.count

    async def clone(uow: Any) -> None:
        first = (await uow.session.scalars(select(VerificationAttempt).limit(1))).one()
        for _ in range(28):
            uow.session.add(VerificationAttempt(**{c: getattr(first, c) for c in COPY}))

    await run(clone)
    sql.reset()
    data = await gql(client, query, token=token)
    assert data["viewer"]["verificationAttempts"]["totalCount"] == 30
    assert len(data["viewer"]["verificationAttempts"]["edges"]) == 30
    assert sql.count == with_two


COPY = [
    "account_id",
    "subject_type",
    "method",
    "outcome",
    "reason",
    "name",
    "document_type",
    "document_key",
    "document_sealed",
    "document_masked",
    "agreement_version",
    "created_at",
    "completed_at",
]


async def test_rnp_1_two_methods_are_offered_to_an_unverified_account(client) -> None:
    token = await registered_and_signed_in(client)
    assert (await viewer(client, token))["verificationMethods"] == [FACE_OPEN, BANK_CARD_OPEN]


async def test_verification_needs_a_session(client, db: Database) -> None:
    assert codes_of(await face_start(client, "acs_not-a-token")) == [("AUTHENTICATION_REQUIRED", None)]
    assert codes_of(await bank_card(client, "acs_not-a-token", code="123456")) == [("AUTHENTICATION_REQUIRED", None)]
    assert await count(db, VerificationAttempt) == 0


# --- races and limits found in review -------------------------------------------------------------


async def test_rn_5_a_concurrent_verification_lost_on_insert_is_recorded_not_a_crash(
    client, db: Database, monkeypatch
) -> None:
    from services.verification import repository as verification_repo

    token = await registered_and_signed_in(client)
    started = await face_start(client, token)
    assert (await bank_card(client, token))["errors"] == []

    # As on PostgreSQL under READ COMMITTED: the face pass does not see the bank card's verification
    async def unseen(uow: Any, account_id: int) -> None:
        return None

    monkeypatch.setattr(verification_repo, "verification_of", unseen)
    answered = await client.post(ticket_path(started), data={"outcome": "pass"})
    monkeypatch.undo()
    # The unique key refuses the second verification; the attempt is failed, the document slot given back
    assert answered.status_code == 200
    async with db.read_sessions() as s:
        rows = (
            await s.execute(
                select(VerificationAttempt.method, VerificationAttempt.outcome, VerificationAttempt.reason).order_by(
                    VerificationAttempt.id
                )
            )
        ).all()
        assert [tuple(r) for r in rows] == [("face", "failed", "ALREADY_VERIFIED"), ("bank_card", "passed", None)]
        assert await s.scalar(select(func.sum(IdentityDocumentUse.accounts))) == 1
        assert await s.scalar(select(func.count()).select_from(Verification)) == 1


class Gate:
    """A bank that answers only when the test says so (no wall-clock waiting)."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.called = asyncio.Event()
        self.release = asyncio.Event()

    async def check(self, **_: Any) -> Any:
        self.called.set()
        await self.release.wait()
        return self.answer


async def test_rnp_5_a_late_bank_answer_after_the_sweeper_decides_nothing(
    app, client, clock: ManualClock, run, db: Database
) -> None:
    from services.providers.bankcard import BankCardAnswer
    from services.sweeper import sweep

    token = await registered_and_signed_in(client)
    gate = Gate(BankCardAnswer.ELEMENTS_MISMATCH)
    app.state.deps.providers.bank_cards = gate
    submitted = asyncio.ensure_future(bank_card(client, token))
    await gate.called.wait()
    # While the bank is silent for more than 5 minutes, the sweeper gives the attempt back
    clock.advance(minutes=6)
    assert (await run(sweep))["bank_card_attempts_returned"] == 1
    # When the bank finally answers, nothing is decided and nothing is counted twice
    gate.release.set()
    result = await submitted
    assert codes_of(result) == [("PROVIDER_UNAVAILABLE", None)]
    async with db.read_sessions() as s:
        assert await s.scalar(select(VerificationMethodUse.attempts)) == 0
        assert await s.scalar(select(VerificationAttempt.outcome)) == "error"


async def test_rnp_3_concurrent_face_starts_leave_one_live_ticket(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    started = await asyncio.gather(*(face_start(client, token) for _ in range(5)))
    assert all(s["errors"] == [] for s in started)
    answers = await asyncio.gather(*(client.post(ticket_path(s), data={"outcome": "pass"}) for s in started))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    async with db.read_sessions() as s:
        outcomes = sorted(o for o in (await s.scalars(select(VerificationAttempt.outcome))))
        assert outcomes == ["expired"] * 4 + ["passed"]
        assert await s.scalar(select(func.count()).where(VerificationAttempt.document_sealed.is_not(None))) == 1


async def test_rnp_2_face_starts_are_capped_per_day(client, clock: ManualClock, spies) -> None:
    token = await registered_and_signed_in(client)
    for _ in range(10):
        assert (await face_start(client, token, name="王不符"))["errors"][0]["code"] == "NAME_MISMATCH"
    calls = spies["identity"].calls
    capped = await face_start(client, token)
    assert codes_of(capped) == [("FACE_DAILY_LIMIT_REACHED", None)]
    # 10:00 in Shanghai: the next day starts in 14 hours
    assert capped["errors"][0]["retryAfter"] == 14 * 3600 + 1
    assert spies["identity"].calls == calls
    assert (await viewer(client, token))["verificationMethods"][0] == {
        **FACE_OPEN,
        "available": False,
        "attemptsRemainingToday": 0,
    }
    clock.advance(hours=14)
    token = await sign_in(client, "alice01")
    assert (await face_start(client, token))["errors"] == []


async def test_rnp_4_bank_card_codes_are_capped_per_account_and_day(client, db: Database) -> None:
    token = await registered_and_signed_in(client)
    for i in range(20):
        assert (await send_code(client, "BANK_CARD", phone=f"135000000{i:02d}", token=token))["errors"] == []
    refused = await send_code(client, "BANK_CARD", phone="13500000099", token=token)
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [("ACCOUNT_DAILY_LIMIT_REACHED", None)]
    assert await outbox(client, "13500000099") == []


async def test_rnp_4_a_short_card_starting_with_62_is_not_unionpay(client, spies, db: Database) -> None:
    token = await registered_and_signed_in(client)
    short = luhn_card("62170000000")  # 12 digits, Luhn-valid
    assert codes_of(await bank_card(client, token, card=short)) == [("CARD_NOT_UNIONPAY", ["input", "cardNumber"])]
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0


async def test_rnp_2_the_name_magic_value_applies_to_mainland_id_numbers_only(client) -> None:
    token = await registered_and_signed_in(client)
    started = await face_start(client, token, "H12345678", name="王不符", document_type="HMT_TRAVEL_PERMIT")
    assert started["errors"] == []


async def test_rnp_2_an_unknown_document_type_is_refused_by_the_schema_and_changes_nothing(
    client, spies, db: Database
) -> None:
    token = await registered_and_signed_in(client)
    body = await gql(
        client,
        'mutation { personalVerificationFaceStart(input: {documentType: DRIVING_LICENCE, name: "张三", '
        'documentNumber: "D1234567"}) { errors { code } } }',
        token=token,
        expect_errors=True,
    )
    assert body.get("data") is None
    assert "DRIVING_LICENCE" in body["errors"][0]["message"]
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0


# --- issue 12: every stateless problem of a form at once, before anything that depends on state -------


async def test_rnp_6_rn_4_rn_6_a_face_start_reports_every_problem_of_its_form_at_once(
    client, spies: dict[str, Spy], db: Database
) -> None:
    # Given a signed-in account
    token = await registered_and_signed_in(client)
    # When a face check is started with a bad name, a bad ID number and an outdated agreement
    refused = await face_start(client, token, ID_1949[:-1] + "1", name="张\x00三", agreement={"version": "2020-01"})
    # Then the three problems come back together, each at its input path, and no payload object
    assert codes_of(refused) == [
        ("NAME_INVALID", ["input", "name"]),
        ("ID_NUMBER_INVALID", ["input", "documentNumber"]),
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreement", "version"]),
    ]
    assert (refused["faceCheckStart"], refused["account"]) == (None, None)
    # And nothing reached a provider, was recorded or counted
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0
    assert (await viewer(client, token))["verificationMethods"][0] == FACE_OPEN


async def test_rnp_4_rnp_6_a_bank_card_form_reports_every_problem_at_once_and_keeps_the_code(
    client, spies: dict[str, Spy], db: Database
) -> None:
    # Given a BANK_CARD code sent to the reserved phone
    token = await registered_and_signed_in(client)
    phone = "13600000001"
    await send_code(client, "BANK_CARD", phone=phone, token=token)
    code = await last_code(client, phone)
    # When every field of the form is wrong
    refused = await bank_card(
        client,
        token,
        name="   ",
        id_number="12345",
        card=VISA,
        phone="12345",
        code="12ab",
        agreement={"version": "2020-01"},
    )
    # Then every problem comes back, in the input's order
    assert codes_of(refused) == [
        ("NAME_INVALID", ["input", "name"]),
        ("ID_NUMBER_INVALID", ["input", "idNumber"]),
        ("CARD_NOT_UNIONPAY", ["input", "cardNumber"]),
        ("INVALID_PHONE", ["input", "reservedPhone"]),
        ("CODE_FORMAT_INVALID", ["input", "code"]),
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreement", "version"]),
    ]
    assert (refused["verification"], refused["account"]) == (None, None)
    # And nothing was asked, recorded or counted, and the code was not touched: it verifies the corrected form
    assert [s.calls for s in spies.values()] == [0, 0, 0]
    assert await count(db, VerificationAttempt) == 0
    async with db.read_sessions() as s:
        row = await s.scalar(select(OneTimeCode).where(OneTimeCode.purpose == "BANK_CARD"))
    assert (row.attempts, row.consumed_at) == (0, None)
    assert (await viewer(client, token))["verificationMethods"][1] == BANK_CARD_OPEN
    verified = await bank_card(client, token, phone=phone, code=code)
    assert verified["errors"] == []
    # The payload brings the viewer back verified, with the same verification
    assert verified["account"]["verification"] is not None
    assert verified["account"]["entitlements"] == {"subjectType": "PERSON"}


async def test_rn_5_a_state_dependent_refusal_comes_only_after_the_form_is_well_formed(client) -> None:
    # Given a verified account
    token = await registered_and_signed_in(client)
    await face_verified(client, token)
    # When it submits a malformed form, it is told about the form only (not ALREADY_VERIFIED with it)
    assert codes_of(await face_start(client, token, "12345")) == [("ID_NUMBER_INVALID", ["input", "documentNumber"])]
    assert codes_of(await bank_card(client, token, code="123456", card=VISA)) == [
        ("CARD_NOT_UNIONPAY", ["input", "cardNumber"])
    ]
    # And a well-formed one is told the state alone
    assert codes_of(await face_start(client, token, ID_2008)) == [("ALREADY_VERIFIED", None)]
