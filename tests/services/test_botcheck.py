"""REC-1 / REC-2 bot check: the siteverify adapter against an endpoint on loopback, and which check a
process gets from its settings."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest

from services.providers.botcheck import (
    SANDBOX_PASS_TOKEN,
    SandboxBotCheck,
    SiteverifyBotCheck,
    UnconfiguredBotCheck,
    build_bot_check,
)
from services.providers.errors import ProviderUnavailable
from settings import Settings
from tests.siteverify import SECRET, Siteverify

TIMEOUT = 0.5


def _adapter(server: Siteverify) -> SiteverifyBotCheck:
    return SiteverifyBotCheck(server.url, SECRET, TIMEOUT)


async def test_rec_1_siteverify_posts_secret_token_and_client_address_as_a_form(siteverify: Siteverify) -> None:
    # Given a verifier that passes every token
    check = _adapter(siteverify)
    # When two tokens are checked, one with the client's address and one without
    assert await check.verify("token-from-the-widget", "203.0.113.7") is True
    assert await check.verify("another-token", None) is True
    await check.aclose()
    # Then each POST carried the secret and the token as form fields, and remoteip only when known
    assert siteverify.requests == [
        {"secret": SECRET, "response": "token-from-the-widget", "remoteip": "203.0.113.7"},
        {"secret": SECRET, "response": "another-token"},
    ]
    assert all(ct == "application/x-www-form-urlencoded" for ct in siteverify.content_types)


async def test_rec_1_siteverify_refusal_fails_the_token(siteverify: Siteverify) -> None:
    # Given a verifier that refuses the token (invalid-input-response)
    siteverify.answer = "failure"
    check = _adapter(siteverify)
    # When the sandbox's pass token is checked outside the sandbox, it fails like any other
    assert await check.verify(SANDBOX_PASS_TOKEN, None) is False
    await check.aclose()
    assert siteverify.requests == [{"secret": SECRET, "response": SANDBOX_PASS_TOKEN}]


@pytest.mark.parametrize("answer", ["secret-refused", "not-json", "no-success", "http-500", "huge"])
async def test_rec_1_siteverify_answers_that_decide_nothing_are_unavailable(siteverify: Siteverify, answer) -> None:
    # Given a verifier that refuses our secret, answers non-JSON, no boolean `success`, HTTP 500 or 200 KB
    siteverify.answer = answer
    check = _adapter(siteverify)
    # When a token is checked, then no decision is made: the check is unavailable (never a pass)
    with pytest.raises(ProviderUnavailable):
        await check.verify("token", None)
    await check.aclose()
    assert len(siteverify.requests) == 1


async def test_rec_1_siteverify_that_does_not_answer_in_time_is_unavailable(siteverify: Siteverify) -> None:
    # Given a verifier that never answers
    siteverify.answer = "hang"
    check = _adapter(siteverify)
    # When a token is checked, then the check gives up after its timeout, undecided
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await check.verify("token", None)
    assert time.monotonic() - started < TIMEOUT + 1.0
    await check.aclose()
    assert siteverify.received.is_set()


async def test_rec_1_siteverify_that_cannot_be_reached_is_unavailable() -> None:
    # Given an address nobody listens on
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    check = SiteverifyBotCheck(f"http://127.0.0.1:{port}/siteverify", SECRET, TIMEOUT)
    # When a token is checked, then the check is unavailable
    with pytest.raises(ProviderUnavailable):
        await check.verify("token", None)
    await check.aclose()


async def test_rec_1_bot_check_is_chosen_from_the_settings(siteverify: Siteverify) -> None:
    base = Settings(environment="test", secret_key="k" * 32)
    # Sandbox mode: the sandbox token passes
    sandbox = build_bot_check(base)
    assert isinstance(sandbox, SandboxBotCheck)
    assert await sandbox.verify(SANDBOX_PASS_TOKEN, None) is True
    # Outside it, with a verifier configured: the siteverify adapter
    configured = build_bot_check(
        replace(base, sandbox=False, bot_check_verify_url=siteverify.url, bot_check_secret=SECRET)
    )
    assert isinstance(configured, SiteverifyBotCheck)
    # Outside it, without one: nothing passes, not even the sandbox token
    unconfigured = build_bot_check(replace(base, sandbox=False))
    assert isinstance(unconfigured, UnconfiguredBotCheck)
    with pytest.raises(ProviderUnavailable):
        await unconfigured.verify(SANDBOX_PASS_TOKEN, None)
