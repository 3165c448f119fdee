"""CODE-1..4: one-time codes sent through the notifier outbox."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import create_app
from models.accounts import PhoneQuota
from models.codes import (
    CodeAddressCount,
    CodeDailyCount,
    CodeNetworkCount,
    CodeSendWindow,
    OneTimeCode,
    OutboxMessage,
)
from services.clock import ManualClock, shanghai_day_start
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Database, run_write
from services.errors import ServiceError
from services.identifiers import normalize_phone
from services.sweeper import sweep
from settings import Settings
from tests.helpers import (
    AGREEMENTS,
    PASSWORD,
    gql,
    last_code,
    mutate,
    outbox,
    register,
    registered_and_signed_in,
    send_code,
    sms_sign_in,
    step_up,
)

PHONE = "13700000001"
OTHER_PHONE = "13900000009"


async def _register_with(client: httpx.AsyncClient, code: str, username: str = "alice01") -> dict:
    return await mutate(
        client,
        "accountRegister",
        {"username": username, "password": PASSWORD, "phone": PHONE, "code": code, "agreements": AGREEMENTS},
        "account { accountId }",
    )


async def _codes(db: Database) -> list[OneTimeCode]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(OneTimeCode).order_by(OneTimeCode.id)))


async def test_code_1_sms_code_is_six_digits_and_lives_five_minutes(client, clock: ManualClock) -> None:
    # Given a registration code sent to a phone
    sent = await send_code(client, "REGISTRATION", phone=PHONE)
    assert sent["errors"] == []
    assert (sent["sentCode"]["purpose"], sent["sentCode"]["sentTo"]) == ("REGISTRATION", "137****0001")
    code = await last_code(client, PHONE)
    assert re.fullmatch(r"\d{6}", code)
    assert sent["sentCode"]["expiresAt"] == (clock.now() + timedelta(minutes=5)).isoformat()
    # When it is used one second after its 5 minutes
    clock.advance(minutes=5, seconds=1)
    result = await _register_with(client, code)
    # Then it is refused as expired and no account exists
    assert result["account"] is None
    assert [(e["code"], e["path"]) for e in result["errors"]] == [("CODE_EXPIRED", ["input", "code"])]
    assert (await _register_with(client, code, "bob0001"))["errors"][0]["code"] == "CODE_EXPIRED"


async def test_code_1_email_code_lives_thirty_minutes(client, clock: ManualClock) -> None:
    from tests.helpers import registered_and_signed_in

    token = await registered_and_signed_in(client)
    sent = await send_code(client, "EMAIL_BIND", email="alice@example.com", token=token)
    assert sent["errors"] == []
    assert sent["sentCode"]["sentTo"] == "al***@example.com"
    assert sent["sentCode"]["expiresAt"] == (clock.now() + timedelta(minutes=30)).isoformat()


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
    assert [(e["code"], e["path"]) for e in result["errors"]] == [("CODE_FORMAT_INVALID", ["input", "code"])]
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
    assert first["sentCode"]["resendAvailableAt"] == (clock.now() + timedelta(seconds=60)).isoformat()
    # When another is asked 59 seconds later
    clock.advance(seconds=59)
    again = await send_code(client, "REGISTRATION", phone=PHONE)
    # Then it is refused with the wait, and no SMS was sent
    assert [(e["code"], e["retryAfter"]) for e in again["errors"]] == [("RESEND_TOO_SOON", 1)]
    assert again["sentCode"] is None
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
        assert sent["sentCode"]["dailyRemaining"] == 9 - i
        clock.advance(seconds=61)
    # When an eleventh is asked
    refused = await send_code(client, "REGISTRATION", phone=PHONE)
    # Then the cap refuses it and nothing was sent
    assert [e["code"] for e in refused["errors"]] == ["DAILY_LIMIT_REACHED"]
    assert len(await outbox(client, PHONE)) == 10
    # And the next Shanghai day the phone can receive codes again
    clock.advance(hours=14)
    assert (await send_code(client, "REGISTRATION", phone=PHONE))["errors"] == []


async def test_code_3_refused_send_moves_no_counter(client, clock: ManualClock, db: Database) -> None:
    # An invalid phone is refused before any counter or message
    bad = await send_code(client, "REGISTRATION", phone="12345")
    assert [(e["code"], e["path"]) for e in bad["errors"]] == [("INVALID_PHONE", ["input", "phone"])]
    assert await _codes(db) == []
    # A refused resend does not use up the daily cap
    await send_code(client, "REGISTRATION", phone=PHONE)
    for _ in range(5):
        assert (await send_code(client, "REGISTRATION", phone=PHONE))["errors"][0]["code"] == "RESEND_TOO_SOON"
    clock.advance(seconds=60)
    assert (await send_code(client, "REGISTRATION", phone=PHONE))["sentCode"]["dailyRemaining"] == 8


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({"purpose": "OPERATION"}, [("AUTHENTICATION_REQUIRED", None)]),
        ({"purpose": "EMAIL_BIND", "email": "a@example.com"}, [("AUTHENTICATION_REQUIRED", None)]),
        ({"purpose": "LOGIN"}, [("DESTINATION_REQUIRED", ["input", "phone"])]),
        (
            {"purpose": "LOGIN", "phone": PHONE, "email": "a@example.com"},
            [("DESTINATION_NOT_ALLOWED", ["input", "email"])],
        ),
        ({"purpose": "REGISTRATION", "phone": "+1 555 0100"}, [("INVALID_PHONE", ["input", "phone"])]),
        (
            {"purpose": "REGISTRATION", "phone": "13７００００００01"},
            [("INVALID_PHONE", ["input", "phone"])],
        ),  # full-width digits
        # Every problem of the destination fields at once
        (
            {"purpose": "LOGIN", "phone": "12345", "email": "a@example.com"},
            [("INVALID_PHONE", ["input", "phone"]), ("DESTINATION_NOT_ALLOWED", ["input", "email"])],
        ),
        (
            {"purpose": "REGISTRATION", "email": "a@example.com"},
            [("DESTINATION_REQUIRED", ["input", "phone"]), ("DESTINATION_NOT_ALLOWED", ["input", "email"])],
        ),
    ],
)
async def test_code_2_send_refusals_name_field_and_code_and_send_nothing(client, db: Database, input, expected) -> None:
    payload = await mutate(client, "verificationCodeSend", input, "sentCode { sentTo }")
    assert [(e["code"], e["path"]) for e in payload["errors"]] == expected
    assert payload["sentCode"] is None
    assert await _codes(db) == []
    assert await outbox(client, PHONE) == []
    assert (await _state(db))["windows"] == []


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({"purpose": "OPERATION", "phone": PHONE}, [("DESTINATION_NOT_ALLOWED", ["input", "phone"])]),
        (
            {"purpose": "REMITTANCE_ACCOUNT", "phone": PHONE, "email": "a@example.com"},
            [("DESTINATION_NOT_ALLOWED", ["input", "phone"]), ("DESTINATION_NOT_ALLOWED", ["input", "email"])],
        ),
        (
            {"purpose": "EMAIL_BIND", "phone": PHONE, "email": "not-an-address"},
            [("DESTINATION_NOT_ALLOWED", ["input", "phone"]), ("INVALID_EMAIL", ["input", "email"])],
        ),
        (
            {"purpose": "EMAIL_BIND", "phone": PHONE},
            [("DESTINATION_NOT_ALLOWED", ["input", "phone"]), ("DESTINATION_REQUIRED", ["input", "email"])],
        ),
        (
            {"purpose": "PHONE_CHANGE_NEW", "email": "a@example.com"},
            [("DESTINATION_REQUIRED", ["input", "phone"]), ("DESTINATION_NOT_ALLOWED", ["input", "email"])],
        ),
    ],
)
async def test_code_2_signed_in_send_refusals_report_every_destination_problem_and_send_nothing(
    client, db: Database, input, expected
) -> None:
    # Given a signed-in account, whose registration code is the only code so far
    token = await registered_and_signed_in(client)
    before = await _state(db)
    # When it asks for a code with destination fields that do not fit the purpose
    payload = await mutate(client, "verificationCodeSend", input, "sentCode { sentTo }", token)
    # Then every problem comes back at once, and nothing was sent or counted
    assert [(e["code"], e["path"]) for e in payload["errors"]] == expected
    assert payload["sentCode"] is None
    assert await _state(db) == before


@pytest.mark.parametrize("purpose", ["PASSWORD_RESET", "ACCOUNT_REVEAL", "STUDENT_EMAIL", "LOGIN_CHALLENGE"])
async def test_code_2_purposes_sent_by_their_own_mutations_are_no_input_of_verification_code_send(
    client, db: Database, purpose: str
) -> None:
    # When a code of a purpose that its own mutation sends is asked from verificationCodeSend
    body = await gql(
        client,
        "mutation($input: VerificationCodeSendInput!) { verificationCodeSend(input: $input) { errors { code } } }",
        {"input": {"purpose": purpose, "phone": PHONE}},
        expect_errors=True,
    )
    # Then the schema refuses the value itself: the input enum does not hold it, and nothing was sent
    assert "data" not in body  # refused before execution: GraphQL over HTTP leaves out `data`
    [error] = body["errors"]
    assert "CodeSendPurpose" in error["message"]
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


# --- CODE-3: budgets per class of purposes, caps per client address -------------------------------


def _codes_of(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


@asynccontextmanager
async def _client_at(app: Any, ip: str, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as c:
        yield c


def _app_with(settings: Settings, clock: ManualClock, db: Database, **changes: Any) -> Any:
    return create_app(replace(settings, **changes), clock=clock, db=db)


async def _state(db: Database) -> dict[str, Any]:
    """Every row a code send may write."""
    async with db.read_sessions() as s:
        return {
            "codes": sorted(c.destination for c in await s.scalars(select(OneTimeCode))),
            "outbox": sorted(m.destination for m in await s.scalars(select(OutboxMessage))),
            "windows": sorted(w.destination for w in await s.scalars(select(CodeSendWindow))),
            "budgets": sorted((d.destination, d.budget, d.count) for d in await s.scalars(select(CodeDailyCount))),
            "addresses": sorted((a.span, a.count) for a in await s.scalars(select(CodeAddressCount))),
            "networks": sorted((n.destination, n.budget, n.count) for n in await s.scalars(select(CodeNetworkCount))),
        }


async def _login_challenge_code(client: httpx.AsyncClient) -> dict[str, Any]:
    """Sign in as alice with her password and ask for the SMS code of the login challenge (AUTH-6)."""
    agent = {"user-agent": "test-agent"}
    signed = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: SessionCreateByPasswordInput!) { sessionCreateByPassword(input: $i) { "
            "result { ... on LoginChallenge { token factors } } errors { code } } }",
            "variables": {"i": {"loginName": "alice01", "password": PASSWORD}},
        },
        headers=agent,
    )
    challenge = signed.json()["data"]["sessionCreateByPassword"]["result"]
    assert challenge["factors"] == ["SMS"], challenge
    sent = await client.post(
        "/graphql",
        json={
            "query": "mutation($t: String!) { loginChallengeCodeSend(input: {token: $t}) { sentCode { sentTo } "
            "errors { code } } }",
            "variables": {"t": challenge["token"]},
        },
        headers=agent,
    )
    return dict(sent.json()["data"]["loginChallengeCodeSend"])


async def _reset_start(client: httpx.AsyncClient, login_name: str) -> dict[str, Any]:
    return await mutate(
        client,
        "passwordResetStart",
        {"loginName": login_name, "botToken": "sandbox-pass"},
        "passwordReset { ticket phoneMasked }",
    )


async def test_code_3_anonymous_sends_do_not_use_up_the_owners_codes(
    app, client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given alice on PHONE, signed in, with SMS login protection
    token = await registered_and_signed_in(client)
    grant = await step_up(client, token, PHONE)
    protections = {
        "loginProtection": {"sms": True, "totp": False},
        "operationProtection": {"sms": False, "totp": False},
        "stepUpToken": grant,
    }
    assert (await mutate(client, "securityProtectionsSet", protections, "account { id }", token))["errors"] == []
    # And bob, signed in on another phone
    bob = await registered_and_signed_in(client, "bob0001", OTHER_PHONE)
    # When anyone asks for REGISTRATION and LOGIN codes to her phone until the phone gets no more of
    # either (LOGIN from four networks: one network may have only 3 sent to a phone a day)
    for purpose, networks in (("REGISTRATION", ["203.0.113.7"]), ("LOGIN", [f"198.51.100.{i}" for i in range(4)])):
        refused: dict[str, Any] = {}
        for ip in networks:
            async with _client_at(app, ip) as anyone:
                for _ in range(10):
                    clock.advance(seconds=61)
                    refused = await send_code(anyone, purpose, phone=PHONE)
                    if refused["errors"]:
                        break
        assert _codes_of(refused) == ["DAILY_LIMIT_REACHED"], purpose
    # And each had its own budget: registration codes did not spend the sign-in codes
    purposes = [purpose for _, to, purpose, _ in await _outbox_rows(db) if to == "+86" + PHONE]
    assert (purposes.count("REGISTRATION"), purposes.count("LOGIN")) == (
        settings.code_daily_cap,
        settings.code_daily_cap_login,
    )
    # Then alice still receives her OPERATION code
    operation = await send_code(client, "OPERATION", token=token)
    assert operation["errors"] == []
    assert (await outbox(client, PHONE))[0]["purpose"] == "OPERATION"
    # And the code of her login challenge
    assert await _login_challenge_code(client) == {"sentCode": {"sentTo": "137****0001"}, "errors": []}
    assert (await outbox(client, PHONE))[0]["purpose"] == "LOGIN_CHALLENGE"
    # And a password-reset SMS
    assert (await _reset_start(client, "alice01"))["errors"] == []
    assert (await outbox(client, PHONE))[0]["purpose"] == "PASSWORD_RESET"
    # And a code for moving another account onto her phone
    assert (await send_code(client, "PHONE_CHANGE_NEW", phone=PHONE, token=bob))["errors"] == []
    assert (await outbox(client, PHONE))[0]["purpose"] == "PHONE_CHANGE_NEW"
    # While the anonymous purposes stay refused for the day
    assert _codes_of(await send_code(client, "REGISTRATION", phone=PHONE)) == ["DAILY_LIMIT_REACHED"]
    async with _client_at(app, "192.0.2.1") as newcomer:
        assert _codes_of(await send_code(newcomer, "LOGIN", phone=PHONE)) == ["DAILY_LIMIT_REACHED"]


async def test_code_3_password_resets_do_not_use_up_the_owners_step_up_codes(
    app, client, clock: ManualClock, settings: Settings
) -> None:
    # Given alice, signed in
    token = await registered_and_signed_in(client)
    # When password resets for her name are started, a minute apart, from one network until her phone
    # gets no more reset SMS, then from a second network
    delivered = []
    for ip in ("198.51.100.1", "198.51.100.2"):
        delivered.append(0)
        async with _client_at(app, ip) as anyone:
            for _ in range(30):
                clock.advance(seconds=61)
                before = len(await outbox(anyone, PHONE))
                started = await _reset_start(anyone, "alice01")
                assert started["errors"] == []  # the answer never changes (REC-1)
                if len(await outbox(anyone, PHONE)) == before:
                    break
                delivered[-1] += 1
    # Then her OPERATION code still goes out
    operation = await send_code(client, "OPERATION", token=token)
    assert operation["errors"] == []
    assert (await outbox(client, PHONE))[0]["purpose"] == "OPERATION"
    assert operation["sentCode"]["dailyRemaining"] == settings.code_daily_cap_owner - 1
    # And the resets stopped at one network's share of the reset budget (3), then at the budget (5)
    assert delivered == [
        settings.code_daily_cap_reset_per_network,
        settings.code_daily_cap_reset - settings.code_daily_cap_reset_per_network,
    ]


async def _lookup_by_phone(client: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    return await mutate(
        client,
        "accountRecoveryLookup",
        {"botToken": "sandbox-pass", "by": {"phone": phone}},
        "lookup { reveal { ticket codeExpiresAt } }",
    )


async def test_code_3_account_lookups_by_the_owners_phone_do_not_use_up_his_reset_codes(
    client, clock: ManualClock, settings: Settings
) -> None:
    # Given alice on PHONE
    assert (await register(client, "alice01", PHONE))["errors"] == []
    # And anyone looking up the accounts on her phone, a minute apart, until it gets no more reveal codes
    for _ in range(settings.code_daily_cap_recovery):
        clock.advance(seconds=61)
        assert (await _lookup_by_phone(client, PHONE))["errors"] == []
    clock.advance(seconds=61)
    assert _codes_of(await _lookup_by_phone(client, PHONE)) == ["DAILY_LIMIT_REACHED"]
    # When alice starts a password reset
    started = await _reset_start(client, "alice01")
    # Then her reset SMS goes out, and its code is the one the reset takes
    assert started["errors"] == []
    [reset, *reveals] = await outbox(client, PHONE)
    assert reset["purpose"] == "PASSWORD_RESET"
    assert [m["purpose"] for m in reveals] == ["ACCOUNT_REVEAL"] * settings.code_daily_cap_recovery + ["REGISTRATION"]
    code = await last_code(client, PHONE)
    completed = await mutate(
        client,
        "passwordResetComplete",
        {"ticket": started["passwordReset"]["ticket"], "code": code, "newPassword": "Tangerine-Harbour-1987"},
        "",
    )
    assert completed["errors"] == []


async def test_code_3_one_network_cannot_use_up_a_phones_reset_codes(
    app, client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given alice on PHONE
    assert (await register(client, "alice01", PHONE))["errors"] == []
    # When one network starts password resets for her, a minute apart, one more than its share
    answers = []
    async with _client_at(app, "198.51.100.1") as anyone:
        for _ in range(settings.code_daily_cap_reset_per_network + 1):
            clock.advance(seconds=61)
            answers.append(await _reset_start(anyone, "alice01"))
    # Then every start answers alike (REC-1), but only its share (3) of reset SMS went out
    assert [(a["errors"], a["passwordReset"]["phoneMasked"], bool(a["passwordReset"]["ticket"])) for a in answers] == [
        ([], "137****0001", True)
    ] * 4
    assert [m["purpose"] for m in await outbox(client, PHONE)] == ["PASSWORD_RESET"] * 3 + ["REGISTRATION"]
    # And the refused send moved no counter of the phone beyond the three
    state = await _state(db)
    assert ("+86" + PHONE, "reset", 3) in state["budgets"]
    assert state["networks"] == [("+86" + PHONE, "reset", 3)]
    # And another network may still have the rest of the budget (5) sent, and no more
    delivered = []
    for ip in ("192.0.2.10", "192.0.2.10", "2001:db8:9:9::1"):
        clock.advance(seconds=61)
        async with _client_at(app, ip) as other:
            before = len(await outbox(other, PHONE))
            assert (await _reset_start(other, "alice01"))["errors"] == []
            delivered.append(len(await outbox(other, PHONE)) - before)
    assert delivered == [1, 1, 0]
    assert ("+86" + PHONE, "reset", 5) in (await _state(db))["budgets"]


async def test_code_3_one_network_cannot_use_up_a_phones_sign_in_codes(
    app, client, clock: ManualClock, db: Database
) -> None:
    # Given the portal account of PHONE (created by its first SMS sign-in, AUTH-2)
    first = await sms_sign_in(client, PHONE)
    assert (first["errors"], first["accountCreated"]) == ([], True)
    # When hosts of one IPv6 /64 ask for SMS sign-in codes to her phone, a minute apart
    sent = []
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:2:ffff::9"):
        clock.advance(seconds=61)
        async with _client_at(app, host) as anyone:
            sent.append(await send_code(anyone, "LOGIN", phone=PHONE))
    # Then the network's share (3) went out, and the fourth was refused until the next Asia/Shanghai day
    _, until_tomorrow = shanghai_day_start(clock.now())
    assert [s["sentCode"]["dailyRemaining"] for s in sent[:3]] == [2, 1, 0]  # the share's, below the budget's 8, 7, 6
    assert [(e["code"], e["path"], e["retryAfter"]) for e in sent[3]["errors"]] == [
        ("NETWORK_DAILY_LIMIT_REACHED", None, until_tomorrow)  # about the whole input, like DAILY_LIMIT_REACHED
    ]
    assert sent[3]["sentCode"] is None
    # And the refusal sent nothing and moved no counter
    assert [m["purpose"] for m in await outbox(client, PHONE)] == ["LOGIN"] * 4
    state = await _state(db)
    assert (state["networks"], state["budgets"]) == (
        [("+86" + PHONE, "login", 1), ("+86" + PHONE, "login", 3)],
        [("+86" + PHONE, "login", 4)],
    )
    # And from her own network the owner still gets a sign-in code, and signs in with it
    clock.advance(seconds=61)
    signed = await sms_sign_in(client, PHONE)
    assert (signed["errors"], signed["account"]["id"], signed["accountCreated"]) == ([], first["account"]["id"], False)


async def test_code_3_registration_sends_do_not_keep_the_owner_from_signing_in_by_sms(
    client, clock: ManualClock, settings: Settings
) -> None:
    # Given the portal account of PHONE (created by its first SMS sign-in, AUTH-2)
    first = await sms_sign_in(client, PHONE)
    assert (first["errors"], first["accountCreated"]) == ([], True)
    # And anyone asking for registration codes to the phone until it gets no more
    for _ in range(settings.code_daily_cap):
        clock.advance(seconds=61)
        assert (await send_code(client, "REGISTRATION", phone=PHONE))["errors"] == []
    clock.advance(seconds=61)
    assert _codes_of(await send_code(client, "REGISTRATION", phone=PHONE)) == ["DAILY_LIMIT_REACHED"]
    # When the owner asks for an SMS sign-in code
    signed = await sms_sign_in(client, PHONE)
    # Then it goes out and signs the owner in
    assert (signed["errors"], signed["account"]["id"], signed["accountCreated"]) == ([], first["account"]["id"], False)
    assert [m["purpose"] for m in await outbox(client, PHONE)][:2] == ["LOGIN", "REGISTRATION"]


@pytest.mark.parametrize(
    ("purpose", "budget", "networks", "sent", "refusal"),
    [
        ("LOGIN", "login", 1, 3, "NETWORK_DAILY_LIMIT_REACHED"),
        ("LOGIN", "login", 60, 10, "DAILY_LIMIT_REACHED"),
        ("PASSWORD_RESET", "reset", 1, 3, "NETWORK_DAILY_LIMIT_REACHED"),
        ("PASSWORD_RESET", "reset", 60, 5, "DAILY_LIMIT_REACHED"),
    ],
)
async def test_code_3_sixty_simultaneous_sends_hold_the_budget_and_one_networks_share(
    app, db: Database, purpose: str, budget: str, networks: int, sent: int, refusal: str
) -> None:
    # Given 60 sends of one purpose to one phone at once, from one network or from 60; each in its own
    # scope, so the 60-second window (which alone would let one through) leaves the daily counters to judge
    phone = "+86" + PHONE
    ips = [f"198.51.100.{i % networks + 1}" for i in range(60)]

    async def one(i: int) -> codes.SentCode | ServiceError:
        return await run_write(
            db,
            app.state.deps,
            codes.send,
            channel="sms",
            destination=phone,
            purpose=CodePurpose(purpose),
            client_ip=ips[i],
            scope=f"attempt-{i}",
        )

    # When they run
    results = await asyncio.gather(*[one(i) for i in range(60)])
    # Then exactly the share or the budget went out, and every other send was refused with its reason
    refused = [r.code.value for r in results if isinstance(r, ServiceError)]
    assert (len(results) - len(refused), refused) == (sent, [refusal] * (60 - sent))
    # And a refused send left nothing: no code, message or count beyond those sent
    state = await _state(db)
    assert (len(state["codes"]), len(state["outbox"]), state["budgets"]) == (sent, sent, [(phone, budget, sent)])
    assert sorted(n[2] for n in state["networks"]) == ([sent] if networks == 1 else [1] * sent)


async def test_code_3_sixty_simultaneous_sends_from_one_address_stop_at_the_hourly_cap(
    settings: Settings, clock: ManualClock, db: Database
) -> None:
    # Given an address allowed 7 codes an hour
    app = _app_with(settings, clock, db, code_address_hourly_cap=7)
    phones = [f"137000{i:05d}" for i in range(100, 160)]
    clock.advance(minutes=20)
    # When it asks for 60 codes to 60 phones at once
    async with _client_at(app, "203.0.113.7") as c:
        results = await asyncio.gather(*[send_code(c, "REGISTRATION", phone=p) for p in phones])
    # Then exactly 7 went out; the rest were refused with the wait until the next hour
    sent = sorted(str(normalize_phone(p)) for p, r in zip(phones, results, strict=True) if not r["errors"])
    assert len(sent) == 7
    refusals = [[(e["code"], e["retryAfter"]) for e in r["errors"]] for r in results if r["errors"]]
    assert refusals == [[("ADDRESS_LIMIT_REACHED", 40 * 60)]] * 53
    # And a refused send left nothing: no code, message, window or counter beyond the 7
    assert await _state(db) == {
        "codes": sent,
        "outbox": sent,
        "windows": sent,
        "budgets": [(p, "public", 1) for p in sent],
        "addresses": [("day", 7), ("hour", 7)],
        "networks": [],
    }
    # And another address is not held back
    async with _client_at(app, "198.51.100.20") as other:
        assert (await send_code(other, "REGISTRATION", phone=OTHER_PHONE))["errors"] == []


async def test_code_3_sixty_simultaneous_sends_from_one_address_stop_at_the_daily_cap(
    settings: Settings, clock: ManualClock, db: Database
) -> None:
    # Given an address allowed 5 codes an hour and 8 a day, which had 5 sent this hour
    app = _app_with(settings, clock, db, code_address_hourly_cap=5, code_address_daily_cap=8)
    phones = [f"137000{i:05d}" for i in range(100, 170)]
    async with _client_at(app, "203.0.113.7") as c:
        for p in phones[:5]:
            assert (await send_code(c, "LOGIN", phone=p))["errors"] == []
        assert [(e["code"], e["retryAfter"]) for e in (await send_code(c, "LOGIN", phone=phones[5]))["errors"]] == [
            ("ADDRESS_LIMIT_REACHED", 3600)
        ]
        # When, an hour later, it asks for 60 codes at once
        clock.advance(hours=1)
        results = await asyncio.gather(*[send_code(c, "LOGIN", phone=p) for p in phones[5:65]])
        # Then 3 went out (8 a day) and the rest wait for the next Asia/Shanghai day
        _, until_tomorrow = shanghai_day_start(clock.now())
        assert sorted(len(r["errors"]) for r in results) == [0] * 3 + [1] * 57
        assert {(e["code"], e["retryAfter"]) for r in results for e in r["errors"]} == {
            ("ADDRESS_LIMIT_REACHED", until_tomorrow)
        }
        state = await _state(db)
        assert (len(state["codes"]), len(state["outbox"]), state["addresses"]) == (
            8,
            8,
            [("day", 8), ("hour", 3), ("hour", 5)],
        )
        # And the next day the address may ask again
        clock.advance(seconds=until_tomorrow)
        assert (await send_code(c, "LOGIN", phone=phones[65]))["errors"] == []


async def test_code_3_the_address_cap_spares_codes_to_the_callers_own_phone(
    settings: Settings, clock: ManualClock, db: Database
) -> None:
    # Given alice signed in from an address allowed 2 codes an hour, which has sent both
    app = _app_with(settings, clock, db, code_address_hourly_cap=2)
    async with _client_at(app, "203.0.113.7") as c:
        token = await registered_and_signed_in(c)
        assert (await send_code(c, "LOGIN", phone=OTHER_PHONE))["errors"] == []
        assert _codes_of(await send_code(c, "LOGIN", phone="13900000010")) == ["ADDRESS_LIMIT_REACHED"]
        # When she asks for an OPERATION code to her own bound phone
        operation = await send_code(c, "OPERATION", token=token)
        # Then it goes out, and the address's count did not move
        assert operation["errors"] == []
        assert (await outbox(c, PHONE))[0]["purpose"] == "OPERATION"
        assert (await _state(db))["addresses"] == [("day", 2), ("hour", 2)]
        # But a code to a destination she does not own yet is held back
        assert _codes_of(await send_code(c, "EMAIL_BIND", email="alice@example.com", token=token)) == [
            "ADDRESS_LIMIT_REACHED"
        ]


async def test_code_3_an_ipv6_client_is_one_slash_64_and_proxies_are_seen_through(
    settings: Settings, clock: ManualClock, db: Database
) -> None:
    # Given an address allowed 2 codes an hour
    app = _app_with(settings, clock, db, code_address_hourly_cap=2)
    # When hosts of one IPv6 /64 ask for three codes
    results = []
    for i, ip in enumerate(["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"]):
        async with _client_at(app, ip) as c:
            results.append(_codes_of(await send_code(c, "LOGIN", phone=f"1370000010{i}")))
    # Then they share the cap, while the next /64 has its own
    assert results == [[], [], ["ADDRESS_LIMIT_REACHED"]]
    async with _client_at(app, "2001:db8:1:3::1") as c:
        assert (await send_code(c, "LOGIN", phone="13700000109"))["errors"] == []
    # And behind one trusted proxy, the forwarded client address is counted
    proxied = _app_with(settings, clock, db, code_address_hourly_cap=2, trusted_proxy_count=1)
    seen = []
    for i, forwarded in enumerate(["198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.1"]):
        async with _client_at(proxied, "10.0.0.2", {"x-forwarded-for": forwarded}) as c:
            seen.append(_codes_of(await send_code(c, "LOGIN", phone=f"1380000020{i}")))
    assert seen == [[], [], [], ["ADDRESS_LIMIT_REACHED"]]


async def test_code_3_every_password_reset_counts_against_the_address_whether_or_not_the_name_exists(
    settings: Settings, clock: ManualClock, db: Database
) -> None:
    # Given alice, and an address allowed 3 codes an hour that has sent her registration code
    app = _app_with(settings, clock, db, code_address_hourly_cap=3)
    async with _client_at(app, "203.0.113.7") as c:
        assert (await register(c, "alice01", PHONE))["errors"] == []
        # When it starts a reset for an unknown name and one for alice
        unknown = await _reset_start(c, "nobody01")
        known = await _reset_start(c, "alice01")
        # Then both answer alike and both count, so the count tells nothing about the names
        assert (unknown["errors"], known["errors"]) == ([], [])
        assert (await _state(db))["addresses"] == [("day", 3), ("hour", 3)]
        # And the next reset is refused for the address, whatever the name
        for name in ("nobody02", "alice01"):
            clock.advance(seconds=61)
            refused = await _reset_start(c, name)
            assert [(e["code"], e["path"]) for e in refused["errors"]] == [
                ("ADDRESS_LIMIT_REACHED", None)  # about the request as a whole, not the name
            ]
            assert refused["passwordReset"] is None
        assert [m["purpose"] for m in await outbox(c, PHONE)] == ["PASSWORD_RESET", "REGISTRATION"]


# --- CODE-4: codes leave the outbox once expired ---------------------------------------------------


async def _outbox_rows(db: Database) -> list[tuple[int, str, str, str]]:
    async with db.read_sessions() as s:
        rows = await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.id, m.destination, m.purpose, m.text) for m in rows]


async def test_code_4_the_sweeper_masks_a_code_in_the_outbox_once_it_has_expired(
    app, client, clock: ManualClock, db: Database
) -> None:
    # Given a registration code in the outbox, and a notice that happens to hold a 6-digit number
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    notice = "【账号中心】工单 123456 已处理。 Account center: ticket 123456 was handled."
    await run_write(
        db,
        app.state.deps,
        app.state.deps.notifier.send,
        channel="sms",
        destination="+86" + PHONE,
        purpose="NOTICE",
        text=notice,
    )
    # When the sweeper runs a second before the code expires
    clock.advance(minutes=4, seconds=59)
    assert (await run_write(db, app.state.deps, sweep))["outbox_codes_masked"] == 0
    # Then the code is still readable (the notice is the newest message)
    assert code in (await outbox(client, PHONE))[1]["text"]
    # When it runs once the code has expired
    clock.advance(seconds=1)
    assert (await run_write(db, app.state.deps, sweep))["outbox_codes_masked"] == 1
    # Then the code is gone from the table, the row stays as the record of the delivery, and the notice is untouched
    [(_, destination, purpose, text), (_, _, _, notice_text)] = await _outbox_rows(db)
    assert (destination, purpose) == ("+86" + PHONE, "REGISTRATION")
    assert code not in text
    assert "验证码 / code: ******" in text
    assert re.search(r"\d{6}", text) is None
    assert notice_text == notice
    # And a later sweep has nothing left to mask
    assert (await run_write(db, app.state.deps, sweep))["outbox_codes_masked"] == 0


async def test_code_4_outbox_messages_are_deleted_after_the_retention_period(
    app, client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given a message sent now
    await send_code(client, "LOGIN", phone=PHONE)
    # When the sweeper runs just before the retention period ends, the message stays
    clock.advance(days=settings.outbox_retention_days, seconds=-1)
    assert (await run_write(db, app.state.deps, sweep))["outbox_messages_deleted"] == 0
    assert len(await _outbox_rows(db)) == 1
    # And once it has ended, the message is deleted
    clock.advance(seconds=2)
    assert (await run_write(db, app.state.deps, sweep))["outbox_messages_deleted"] == 1
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- REG-3 refused early: no registration code to a full phone, at the price of a send ------------

QUOTA_MESSAGE = "This phone number already has 10 cloud accounts (REG-3)."


async def _cloud_accounts(db: Database, phones: list[str], count: int = 10) -> None:
    """REG-3's counter for each phone (E.164) set to `count` cloud accounts."""
    async with db.write_sessions() as s:
        s.add_all(PhoneQuota(phone=p, cloud_accounts=count) for p in phones)
        await s.commit()


async def test_reg_3_a_full_phone_gets_no_registration_code_and_the_refusal_costs_a_send(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a phone that already holds 10 cloud accounts
    phone = "+86" + PHONE
    await _cloud_accounts(db, [phone])
    # When a registration code is asked for it
    refused = await send_code(client, "REGISTRATION", phone=PHONE)
    # Then it is refused with registration's REG-3 answer, and no code or message exists
    assert [(e["code"], e["path"], e["message"]) for e in refused["errors"]] == [
        ("PHONE_QUOTA_REACHED", ["input", "phone"], QUOTA_MESSAGE)
    ]
    assert refused["sentCode"] is None
    assert await outbox(client, PHONE) == []
    # And the refusal cost what a send costs: the 60 s window, the phone's budget, the address's caps
    assert await _state(db) == {
        "codes": [],
        "outbox": [],
        "windows": [phone],
        "budgets": [(phone, "public", 1)],
        "addresses": [("day", 1), ("hour", 1)],
        "networks": [],
    }
    # And asking again within 60 s is throttled like a resend
    again = await send_code(client, "REGISTRATION", phone=PHONE)
    assert [(e["code"], e["retryAfter"]) for e in again["errors"]] == [("RESEND_TOO_SOON", 60)]
    # And the daily budget runs out as for codes sent: nine more answers, then the cap
    for i in range(9):
        clock.advance(seconds=60)
        assert _codes_of(await send_code(client, "REGISTRATION", phone=PHONE)) == ["PHONE_QUOTA_REACHED"], i
    clock.advance(seconds=60)
    assert _codes_of(await send_code(client, "REGISTRATION", phone=PHONE)) == ["DAILY_LIMIT_REACHED"]
    assert await outbox(client, PHONE) == []
    # And the owner's sign-in codes, another budget, still go to the phone
    assert (await send_code(client, "LOGIN", phone=PHONE))["errors"] == []


async def test_reg_3_a_phone_under_the_limit_still_gets_its_registration_code(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a phone that holds 9 cloud accounts
    await _cloud_accounts(db, ["+86" + PHONE], 9)
    # When a registration code is asked for it
    sent = await send_code(client, "REGISTRATION", phone=PHONE)
    # Then it goes out, and the tenth account registers with it
    assert sent["errors"] == []
    assert sent["sentCode"]["dailyRemaining"] == 9
    assert len(await outbox(client, PHONE)) == 1
    assert (await _register_with(client, await last_code(client, PHONE)))["errors"] == []
    # And the next registration code for the phone, now full, is refused
    clock.advance(seconds=60)
    assert _codes_of(await send_code(client, "REGISTRATION", phone=PHONE)) == ["PHONE_QUOTA_REACHED"]
    assert len(await outbox(client, PHONE)) == 1


async def test_reg_3_sixty_simultaneous_probes_of_one_full_phone_answer_once(app: Any, db: Database) -> None:
    # Given a full phone
    phone = "+86" + PHONE
    await _cloud_accounts(db, [phone])

    # When 60 clients, each from its own address, ask for its registration code at once
    async def probe(i: int) -> dict[str, Any]:
        async with _client_at(app, f"198.51.100.{i + 1}") as c:
            return await send_code(c, "REGISTRATION", phone=PHONE)

    results = await asyncio.gather(*[probe(i) for i in range(60)])
    # Then the 60 s window lets exactly one through to the quota, as it lets one code out
    assert sorted(c for r in results for c in _codes_of(r)) == ["PHONE_QUOTA_REACHED"] + ["RESEND_TOO_SOON"] * 59
    state = await _state(db)
    assert (state["codes"], state["outbox"], state["windows"], state["budgets"]) == (
        [],
        [],
        [phone],
        [(phone, "public", 1)],
    )


async def test_reg_3_sixty_simultaneous_probes_from_one_address_stop_at_the_hourly_cap(
    settings: Settings, clock: ManualClock, db: Database
) -> None:
    # Given an address allowed 7 codes an hour, and 60 full phones
    app = _app_with(settings, clock, db, code_address_hourly_cap=7)
    phones = [f"137000{i:05d}" for i in range(100, 160)]
    await _cloud_accounts(db, [str(normalize_phone(p)) for p in phones])
    clock.advance(minutes=20)
    # When it asks for registration codes to all 60 at once
    async with _client_at(app, "203.0.113.7") as c:
        results = await asyncio.gather(*[send_code(c, "REGISTRATION", phone=p) for p in phones])
    # Then exactly 7 learn the quota, as exactly 7 codes would have gone out; the rest wait for the hour
    answered = sorted(
        str(normalize_phone(p)) for p, r in zip(phones, results, strict=True) if _codes_of(r) == ["PHONE_QUOTA_REACHED"]
    )
    assert len(answered) == 7
    refusals = [[(e["code"], e["retryAfter"]) for e in r["errors"]] for r in results if r["errors"]]
    assert sorted(refusals) == [[("ADDRESS_LIMIT_REACHED", 40 * 60)]] * 53 + [[("PHONE_QUOTA_REACHED", None)]] * 7
    # And the 7 answers spent what 7 sends spend, and nothing was sent
    assert await _state(db) == {
        "codes": [],
        "outbox": [],
        "windows": answered,
        "budgets": [(p, "public", 1) for p in answered],
        "addresses": [("day", 7), ("hour", 7)],
        "networks": [],
    }
