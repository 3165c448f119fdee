"""CODE-1..4: one-time codes sent through the notifier outbox."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from models.codes import OneTimeCode
from services.clock import ManualClock
from services.database import Database
from tests.helpers import AGREEMENTS, PASSWORD, last_code, mutate, outbox, register, send_code

PHONE = "13700000001"


async def _register_with(client: httpx.AsyncClient, code: str, username: str = "alice01") -> dict:
    return await mutate(
        client,
        "accountRegister",
        {"username": username, "password": PASSWORD, "phone": PHONE, "code": code, "agreements": AGREEMENTS},
        "account { id }",
    )


async def _codes(db: Database) -> list[OneTimeCode]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(OneTimeCode).order_by(OneTimeCode.id)))


async def test_code_1_sms_code_is_six_digits_and_lives_five_minutes(client, clock: ManualClock) -> None:
    # Given a registration code sent to a phone
    sent = await send_code(client, "REGISTRATION", phone=PHONE)
    assert sent["errors"] == []
    assert sent["sentTo"] == "137****0001"
    code = await last_code(client, PHONE)
    assert re.fullmatch(r"\d{6}", code)
    assert sent["expiresAt"] == (clock.now() + timedelta(minutes=5)).isoformat()
    # When it is used one second after its 5 minutes
    clock.advance(minutes=5, seconds=1)
    result = await _register_with(client, code)
    # Then it is refused as expired and no account exists
    assert result["account"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("CODE_EXPIRED", "code")]
    assert (await _register_with(client, code, "bob0001"))["errors"][0]["code"] == "CODE_EXPIRED"


async def test_code_1_email_code_lives_thirty_minutes(client, clock: ManualClock) -> None:
    from tests.helpers import registered_and_signed_in

    token = await registered_and_signed_in(client)
    sent = await send_code(client, "EMAIL_BIND", email="alice@example.com", token=token)
    assert sent["errors"] == []
    assert sent["expiresAt"] == (clock.now() + timedelta(minutes=30)).isoformat()


async def test_code_2_code_is_bound_to_its_purpose(client) -> None:
    # Given a LOGIN code for the phone
    await send_code(client, "LOGIN", phone=PHONE)
    code = await last_code(client, PHONE)
    # When it is used to register
    result = await _register_with(client, code)
    # Then it is not a registration code
    assert result["errors"][0]["code"] == "CODE_INVALID"
    assert result["account"] is None


async def test_code_2_code_is_single_use(client) -> None:
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    assert (await _register_with(client, code, "alice01"))["errors"] == []
    again = await _register_with(client, code, "bob0001")
    assert again["errors"][0]["code"] == "CODE_INVALID"


async def test_code_2_code_is_void_after_five_wrong_entries(client, db: Database) -> None:
    # Given a code
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    # When it is entered wrongly five times, the tries count down
    remaining = []
    for _ in range(5):
        result = await _register_with(client, wrong)
        assert result["errors"][0]["code"] == "CODE_INVALID"
        remaining.append(result["errors"][0]["attemptsRemaining"])
    assert remaining == [4, 3, 2, 1, 0]
    # Then the right code no longer works and no account was created
    result = await _register_with(client, code)
    assert result["errors"][0]["code"] == "CODE_ATTEMPTS_EXHAUSTED"
    assert result["account"] is None
    assert [c.attempts for c in await _codes(db)] == [5]


async def test_code_2_twenty_concurrent_wrong_codes_cannot_exceed_five_tries(client, db: Database) -> None:
    # Given a code
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    # When 20 wrong entries arrive at once
    results = await asyncio.gather(*[_register_with(client, wrong, f"user{i:04d}") for i in range(20)])
    codes = sorted(r["errors"][0]["code"] for r in results)
    # Then exactly five counted, the rest found the code void, and the right code is refused
    assert codes.count("CODE_INVALID") == 5
    assert codes.count("CODE_ATTEMPTS_EXHAUSTED") == 15
    assert [c.attempts for c in await _codes(db)] == [5]
    assert (await _register_with(client, code))["errors"][0]["code"] == "CODE_ATTEMPTS_EXHAUSTED"


@pytest.mark.parametrize("full_width", [False, True])
async def test_code_2_malformed_code_is_refused_without_counting(client, db: Database, full_width: bool) -> None:
    await send_code(client, "REGISTRATION", phone=PHONE)
    # 12ab, or the right code in full-width digits (str.isdigit() accepts them; a code is ASCII)
    code = (await last_code(client, PHONE)).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    result = await _register_with(client, code if full_width else "12ab")
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("CODE_FORMAT_INVALID", "code")]
    assert [c.attempts for c in await _codes(db)] == [0]


async def test_code_2_a_new_code_voids_the_previous_one(client, clock: ManualClock) -> None:
    await send_code(client, "REGISTRATION", phone=PHONE)
    first = await last_code(client, PHONE)
    clock.advance(seconds=61)
    await send_code(client, "REGISTRATION", phone=PHONE)
    second = await last_code(client, PHONE)
    if first != second:
        assert (await _register_with(client, first))["errors"][0]["code"] == "CODE_INVALID"
    assert (await _register_with(client, second))["errors"] == []


async def test_code_3_resend_within_sixty_seconds_is_refused_and_sends_nothing(client, clock: ManualClock) -> None:
    # Given a code sent now
    first = await send_code(client, "REGISTRATION", phone=PHONE)
    assert first["resendAvailableAt"] == (clock.now() + timedelta(seconds=60)).isoformat()
    # When another is asked 59 seconds later
    clock.advance(seconds=59)
    again = await send_code(client, "REGISTRATION", phone=PHONE)
    # Then it is refused with the wait, and no SMS was sent
    assert [(e["code"], e["retryAfter"]) for e in again["errors"]] == [("RESEND_TOO_SOON", 1)]
    assert again["sentTo"] is None
    assert len(await outbox(client, PHONE)) == 1
    # And a different purpose is not held back by it
    assert (await send_code(client, "LOGIN", phone=PHONE))["errors"] == []
    # And at 60 seconds a new one goes out
    clock.advance(seconds=1)
    assert (await send_code(client, "REGISTRATION", phone=PHONE))["errors"] == []
    assert len(await outbox(client, PHONE)) == 3


async def test_code_3_daily_cap_per_destination(client, clock: ManualClock) -> None:
    # Given ten codes sent today (2026-11-26 10:00 Asia/Shanghai), a minute apart
    for i in range(10):
        sent = await send_code(client, "REGISTRATION", phone=PHONE)
        assert sent["errors"] == [], i
        assert sent["dailyRemaining"] == 9 - i
        clock.advance(seconds=61)
    # When an eleventh is asked
    refused = await send_code(client, "LOGIN", phone=PHONE)
    # Then the cap refuses it and nothing was sent
    assert [e["code"] for e in refused["errors"]] == ["DAILY_LIMIT_REACHED"]
    assert len(await outbox(client, PHONE)) == 10
    # And the next Shanghai day the phone can receive codes again
    clock.advance(hours=14)
    assert (await send_code(client, "LOGIN", phone=PHONE))["errors"] == []


async def test_code_3_refused_send_moves_no_counter(client, clock: ManualClock, db: Database) -> None:
    # An invalid phone is refused before any counter or message
    bad = await send_code(client, "REGISTRATION", phone="12345")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID_PHONE", "phone")]
    assert await _codes(db) == []
    # A refused resend does not use up the daily cap
    await send_code(client, "REGISTRATION", phone=PHONE)
    for _ in range(5):
        assert (await send_code(client, "REGISTRATION", phone=PHONE))["errors"][0]["code"] == "RESEND_TOO_SOON"
    clock.advance(seconds=60)
    assert (await send_code(client, "REGISTRATION", phone=PHONE))["dailyRemaining"] == 8


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({"purpose": "PASSWORD_RESET", "phone": PHONE}, ("PURPOSE_NOT_ALLOWED", "purpose")),
        ({"purpose": "ACCOUNT_REVEAL", "phone": PHONE}, ("PURPOSE_NOT_ALLOWED", "purpose")),
        ({"purpose": "STUDENT_EMAIL", "email": "a@mail.example.edu.cn"}, ("PURPOSE_NOT_ALLOWED", "purpose")),
        ({"purpose": "OPERATION"}, ("AUTHENTICATION_REQUIRED", None)),
        ({"purpose": "EMAIL_BIND", "email": "a@example.com"}, ("AUTHENTICATION_REQUIRED", None)),
        ({"purpose": "LOGIN"}, ("DESTINATION_REQUIRED", "phone")),
        ({"purpose": "LOGIN", "phone": PHONE, "email": "a@example.com"}, ("DESTINATION_NOT_ALLOWED", "email")),
        ({"purpose": "REGISTRATION", "phone": "+1 555 0100"}, ("INVALID_PHONE", "phone")),
        ({"purpose": "REGISTRATION", "phone": "13７００００００01"}, ("INVALID_PHONE", "phone")),  # full-width digits
    ],
)
async def test_code_2_send_refusals_name_field_and_code_and_send_nothing(client, db: Database, input, expected) -> None:
    payload = await mutate(client, "verificationCodeSend", input, "sentTo")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected]
    assert payload["sentTo"] is None
    assert await _codes(db) == []
    assert await outbox(client, PHONE) == []


async def test_code_4_message_goes_to_outbox_with_the_code_as_only_six_digit_number(client) -> None:
    # Given a code sent to a phone written with +86 and spaces
    await send_code(client, "REGISTRATION", phone="+86 137 0000 0001")
    # Then the outbox (JSON and HTML) has it under the normalised number
    [message] = await outbox(client, "13700000001")
    assert message["channel"] == "sms"
    assert message["destination"] == "+8613700000001"
    assert message["purpose"] == "REGISTRATION"
    assert len(re.findall(r"\b\d{6}\b", message["text"])) == 1
    page = await client.get("/sandbox/outbox", params={"to": "13700000001"})
    assert page.status_code == 200
    assert re.search(r"\b\d{6}\b", page.text)


async def test_code_4_codes_are_stored_hashed(client, db: Database) -> None:
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    [row] = await _codes(db)
    assert code not in row.code_hash
    assert len(row.code_hash) == 64


async def test_code_4_sandbox_pages_are_404_when_sandbox_is_off(settings, clock, db) -> None:
    from dataclasses import replace

    from app import create_app

    app = create_app(replace(settings, sandbox=False), clock=clock, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/sandbox/outbox.json", params={"to": PHONE})).status_code == 404
        assert (await c.get("/sandbox/outbox", params={"to": PHONE})).status_code == 404


async def test_reg_5_registration_with_the_right_code_succeeds(client) -> None:
    result = await register(client, "alice01", PHONE)
    assert result["errors"] == []
    assert result["account"]["username"] == "alice01"
