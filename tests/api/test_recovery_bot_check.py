"""REC-1 / REC-2 bot check in production mode (no sandbox), end to end over GraphQL, against a
siteverify endpoint on loopback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app import create_app
from models.auth import RecoveryTicket
from models.codes import OutboxMessage
from services.clock import ManualClock
from services.database import Database
from settings import Settings
from tests.helpers import AGREEMENTS, PASSWORD, mutate
from tests.siteverify import SECRET, Siteverify

PHONE = "13700000001"
CLIENT_IP = "203.0.113.7"


def _production(settings: Settings, **bot_check: Any) -> Settings:
    return replace(settings, environment="production", sandbox=False, **bot_check)


async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.deps.bot_check.aclose()


@pytest.fixture
async def prod(settings: Settings, clock: ManualClock, db: Database, siteverify: Siteverify) -> AsyncIterator[Any]:
    """A production-mode client whose bot check posts to the loopback verifier, with a deadline no answering
    verifier misses even on a machine running several suites at once (2 s failed there once)."""
    configured = _production(
        settings, bot_check_verify_url=siteverify.url, bot_check_secret=SECRET, bot_check_timeout_seconds=15.0
    )
    async for c in _client(create_app(configured, clock=clock, db=db)):
        yield c


@pytest.fixture
async def impatient(settings: Settings, clock: ManualClock, db: Database, siteverify: Siteverify) -> AsyncIterator[Any]:
    """As `prod` with a short deadline, for the verifier that never answers (`hang`): only its time-out is
    asserted, so a slow machine cannot turn it into another answer."""
    configured = _production(
        settings, bot_check_verify_url=siteverify.url, bot_check_secret=SECRET, bot_check_timeout_seconds=1.0
    )
    async for c in _client(create_app(configured, clock=clock, db=db)):
        yield c


@pytest.fixture
async def unconfigured(settings: Settings, clock: ManualClock, db: Database) -> AsyncIterator[Any]:
    """A production-mode client without any bot check configured."""
    async for c in _client(create_app(_production(settings), clock=clock, db=db)):
        yield c


async def _sent(db: Database) -> list[tuple[str, str, str]]:
    async with db.read_sessions() as s:
        rows = await s.execute(select(OutboxMessage.destination, OutboxMessage.purpose, OutboxMessage.text))
        return [tuple(r) for r in rows.all()]


async def _tickets(db: Database) -> int:
    async with db.read_sessions() as s:
        return len(list(await s.scalars(select(RecoveryTicket.id))))


async def _registered(client: httpx.AsyncClient, db: Database) -> None:
    """alice01 on PHONE, through the production API (the code read from the outbox table)."""
    sent = await mutate(
        client, "verificationCodeSend", {"purpose": "REGISTRATION", "phone": PHONE}, "sentCode { sentTo }"
    )
    assert sent["errors"] == []
    [(_, _, text)] = await _sent(db)
    code = re.search(r"\b\d{6}\b", text)
    assert code
    registered = await mutate(
        client,
        "accountRegister",
        {"username": "alice01", "password": PASSWORD, "phone": PHONE, "code": code.group(), "agreements": AGREEMENTS},
        "account { username }",
    )
    assert registered["errors"] == []


async def _reset_start(client: httpx.AsyncClient, bot_token: str) -> dict[str, Any]:
    return await mutate(
        client, "passwordResetStart", {"loginName": "alice01", "botToken": bot_token}, "passwordReset { phoneMasked }"
    )


def _errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


async def test_rec_1_production_reset_starts_when_the_verifier_passes_the_token(
    prod: httpx.AsyncClient, db: Database, siteverify: Siteverify
) -> None:
    # Given an account, in production mode with a siteverify endpoint configured
    await _registered(prod, db)
    # When a reset is started with the widget's token and the verifier passes it
    started = await _reset_start(prod, "widget-token-1")
    # Then a ticket is issued and the code goes to the bound phone
    assert started["errors"] == []
    assert started["passwordReset"] == {"phoneMasked": "137****0001"}
    assert [purpose for _, purpose, _ in await _sent(db)] == ["REGISTRATION", "PASSWORD_RESET"]
    # And the verifier got our secret, the token and the client's address
    assert siteverify.requests == [{"secret": SECRET, "response": "widget-token-1", "remoteip": CLIENT_IP}]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("failure", "BOT_CHECK_FAILED"),
        ("secret-refused", "BOT_CHECK_UNAVAILABLE"),
        ("not-json", "BOT_CHECK_UNAVAILABLE"),
        ("http-500", "BOT_CHECK_UNAVAILABLE"),
    ],
)
async def test_rec_1_production_reset_is_refused_when_the_verifier_does_not_pass(
    prod: httpx.AsyncClient, db: Database, siteverify: Siteverify, answer: str, expected: str
) -> None:
    await _refused_when_the_verifier_answers(prod, db, siteverify, answer, expected)


async def test_rec_1_production_reset_is_refused_when_the_verifier_does_not_answer_in_time(
    impatient: httpx.AsyncClient, db: Database, siteverify: Siteverify
) -> None:
    await _refused_when_the_verifier_answers(impatient, db, siteverify, "hang", "BOT_CHECK_UNAVAILABLE")


async def _refused_when_the_verifier_answers(
    prod: httpx.AsyncClient, db: Database, siteverify: Siteverify, answer: str, expected: str
) -> None:
    # Given an account, in production mode
    await _registered(prod, db)
    sent = await _sent(db)
    # When the verifier refuses, answers nonsense, fails or does not answer in time
    siteverify.answer = answer
    started = await _reset_start(prod, "widget-token-1")
    # Then the reset is refused on botToken, and nothing was sent or stored
    assert _errors(started) == [(expected, ["input", "botToken"])]
    assert started["passwordReset"] is None
    assert await _sent(db) == sent
    assert await _tickets(db) == 0


async def test_rec_1_sandbox_pass_token_fails_outside_the_sandbox(
    prod: httpx.AsyncClient, db: Database, siteverify: Siteverify
) -> None:
    # Given an account, in production mode, and a verifier that does not know the sandbox token
    await _registered(prod, db)
    siteverify.answer = "failure"
    # When the sandbox's public pass token is sent
    started = await _reset_start(prod, "sandbox-pass")
    # Then it is judged by the verifier like any token, and refused
    assert _errors(started) == [("BOT_CHECK_FAILED", ["input", "botToken"])]
    assert siteverify.requests == [{"secret": SECRET, "response": "sandbox-pass", "remoteip": CLIENT_IP}]
    assert await _tickets(db) == 0


async def test_rec_1_without_a_configured_verifier_every_bot_check_fails_closed(
    unconfigured: httpx.AsyncClient, db: Database
) -> None:
    # Given an account, in production mode without any bot check configured
    await _registered(unconfigured, db)
    sent = await _sent(db)
    # When a reset is started with the sandbox's pass token, or a lookup is made
    started = await _reset_start(unconfigured, "sandbox-pass")
    lookup = await mutate(
        unconfigured,
        "accountRecoveryLookup",
        {"botToken": "sandbox-pass", "by": {"phone": PHONE}},
        "lookup { accounts { kind } }",
    )
    # Then both are refused as unavailable, and nothing was sent or stored
    assert _errors(started) == _errors(lookup) == [("BOT_CHECK_UNAVAILABLE", ["input", "botToken"])]
    assert await _sent(db) == sent
    assert await _tickets(db) == 0


@pytest.mark.parametrize("token", ["", "   ", "x" * 2049])
async def test_rec_1_empty_or_oversized_token_is_refused_without_asking_the_verifier(
    prod: httpx.AsyncClient, db: Database, siteverify: Siteverify, token: str
) -> None:
    # Given an account, in production mode
    await _registered(prod, db)
    # When a reset is started with an empty or oversized token
    started = await _reset_start(prod, token)
    # Then it fails the bot check, and the verifier was never called
    assert _errors(started) == [("BOT_CHECK_FAILED", ["input", "botToken"])]
    assert siteverify.requests == []
    assert await _tickets(db) == 0


@pytest.mark.parametrize(
    ("mutation", "input", "expected"),
    [
        (
            "passwordResetStart",
            {"loginName": " ", "botToken": ""},
            [("LOGIN_NAME_REQUIRED", ["input", "loginName"]), ("BOT_CHECK_FAILED", ["input", "botToken"])],
        ),
        (
            "passwordResetStart",
            {"loginName": "alice\x0001", "botToken": "x" * 2049},
            [("LOGIN_NAME_INVALID", ["input", "loginName"]), ("BOT_CHECK_FAILED", ["input", "botToken"])],
        ),
        (
            "accountRecoveryLookup",
            {"botToken": "  ", "by": {"accountId": "12345"}},
            [("INVALID_ACCOUNT_ID", ["input", "by", "accountId"]), ("BOT_CHECK_FAILED", ["input", "botToken"])],
        ),
        (
            "accountRecoveryLookup",
            {"botToken": "", "by": {"identity": {"name": "", "idNumber": "1"}}},
            [
                ("NAME_REQUIRED", ["input", "by", "identity", "name"]),
                ("ID_NUMBER_INVALID", ["input", "by", "identity", "idNumber"]),
                ("BOT_CHECK_FAILED", ["input", "botToken"]),
            ],
        ),
    ],
)
async def test_rec_1_rec_2_every_input_problem_comes_back_at_once_without_asking_the_verifier(
    prod: httpx.AsyncClient, db: Database, siteverify: Siteverify, mutation: str, input: dict[str, Any], expected
) -> None:
    # Given an account, in production mode
    await _registered(prod, db)
    sent = await _sent(db)
    # When a reset or a lookup has several problems that need no state to find, the token's among them
    refused = await mutate(prod, mutation, input, "")
    # Then they all come back together, the verifier was not asked, and nothing was sent or stored
    assert _errors(refused) == expected
    assert siteverify.requests == []
    assert await _sent(db) == sent
    assert await _tickets(db) == 0


async def test_rec_2_production_lookup_asks_the_verifier(
    prod: httpx.AsyncClient, db: Database, siteverify: Siteverify
) -> None:
    # Given an account, in production mode
    await _registered(prod, db)
    lookup = "lookup { accounts { loginNamesMasked } }"
    # When the verifier refuses, the lookup is refused
    siteverify.answer = "failure"
    refused = await mutate(prod, "accountRecoveryLookup", {"botToken": "t-1", "by": {"phone": PHONE}}, lookup)
    assert _errors(refused) == [("BOT_CHECK_FAILED", ["input", "botToken"])]
    # When it passes, the accounts are listed masked
    siteverify.answer = "success"
    found = await mutate(prod, "accountRecoveryLookup", {"botToken": "t-2", "by": {"phone": PHONE}}, lookup)
    assert found["errors"] == []
    assert found["lookup"] == {"accounts": [{"loginNamesMasked": ["al***01"]}]}
    assert [r["response"] for r in siteverify.requests] == ["t-1", "t-2"]


async def test_rec_1_no_write_transaction_waits_on_the_verifier(
    settings: Settings, clock: ManualClock, db: Database, siteverify: Siteverify
) -> None:
    # Given an account, in production mode, and a verifier that holds its answer until released
    patient = _production(
        settings, bot_check_verify_url=siteverify.url, bot_check_secret=SECRET, bot_check_timeout_seconds=20
    )
    async for client in _client(create_app(patient, clock=clock, db=db)):
        await _registered(client, db)
        siteverify.answer = "hang"
        # When a reset waits on the verifier
        reset = asyncio.create_task(_reset_start(client, "widget-token-1"))
        assert await asyncio.to_thread(siteverify.received.wait, 10)
        # Then another request writes meanwhile (on SQLite, a write transaction open around the call
        # would hold the database's one write lock until the verifier answered)
        sent = await asyncio.wait_for(
            mutate(
                client,
                "verificationCodeSend",
                {"purpose": "REGISTRATION", "phone": "13900000002"},
                "sentCode { sentTo }",
            ),
            15,
        )
        assert sent["errors"] == []
        assert not reset.done()
        # And once the verifier passes the token, the reset goes on
        siteverify.release.set()
        assert (await reset)["errors"] == []
