"""HIST-2: a sign-in from a client the account has not signed in from within 90 days tells the owner, by SMS
to the bound phone and by e-mail when one is bound; a known client, or the account's first sign-in, does not.

RULES: HIST-2
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from services.clock import ManualClock
from tests.api.test_profile import _bind_email, _email_code
from tests.helpers import PASSWORD, mutate, outbox, register, sign_in_result, sms_sign_in, step_up

PHONE = "13700000001"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


async def signed_in(client: httpx.AsyncClient, agent: str = CHROME, login_name: str = "alice01") -> str:
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($input: SessionCreateByPasswordInput!) { sessionCreateByPassword(input: $input) { "
            f"{sign_in_result()} errors {{ code }} }} }}",
            "variables": {"input": {"loginName": login_name, "password": PASSWORD}},
        },
        headers={"user-agent": agent},
    )
    payload = response.json()["data"]["sessionCreateByPassword"]
    assert payload["errors"] == [], payload
    return str(payload["result"]["token"])


async def notices(client: httpx.AsyncClient, destination: str) -> list[dict[str, Any]]:
    return [m for m in await outbox(client, destination) if m["purpose"] == "NEW_DEVICE"]


async def test_hist_2_first_sign_in_sends_none_a_new_client_does_and_a_known_one_does_not(
    client, clock: ManualClock
) -> None:
    # Given a registered account: its first sign-in (registration's) tells nobody
    assert (await register(client, "alice01", PHONE))["errors"] == []
    await signed_in(client, CHROME)
    assert await notices(client, PHONE) == []
    # When it signs in again from the same client within 90 days: no notice
    clock.advance(timedelta(days=30))
    await signed_in(client, CHROME)
    assert await notices(client, PHONE) == []
    # When it signs in from another browser: one notice, when (Beijing time), from where, what to do
    clock.advance(minutes=5)
    await signed_in(client, FIREFOX)
    [notice] = await notices(client, PHONE)
    assert notice["channel"] == "sms"
    beijing = (clock.now() + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert beijing in notice["text"]
    assert "203.0.113.7" in notice["text"]
    assert "Firefox on Linux" in notice["text"]
    assert "change your password" in notice["text"]
    assert "sign out your other sessions" in notice["text"]
    assert "修改密码" in notice["text"]  # bilingual
    assert not re.search(r"(?<!\d)\d{6}(?!\d)", notice["text"])  # no code-like number to be masked
    assert PASSWORD not in notice["text"]
    # And the other browser is known from now on
    await signed_in(client, FIREFOX)
    assert len(await notices(client, PHONE)) == 1


async def test_hist_2_another_address_is_a_new_client(client, app: Any) -> None:
    assert (await register(client, "alice01", PHONE))["errors"] == []
    await signed_in(client, CHROME)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        await signed_in(elsewhere, CHROME)
    [notice] = await notices(client, PHONE)
    assert "198.51.100.9" in notice["text"]
    assert "Chrome on Windows" in notice["text"]


async def test_hist_2_a_known_client_is_new_again_after_90_days(client, clock: ManualClock) -> None:
    assert (await register(client, "alice01", PHONE))["errors"] == []
    await signed_in(client, CHROME)
    await signed_in(client, FIREFOX)
    assert len(await notices(client, PHONE)) == 1
    # 89 days later Chrome is still known (sessions idled out long ago: a fresh sign-in)
    clock.advance(timedelta(days=89))
    await signed_in(client, CHROME)
    assert len(await notices(client, PHONE)) == 1
    # 91 days after its last sign-in Firefox is new again
    clock.advance(timedelta(days=2))
    await signed_in(client, FIREFOX)
    assert len(await notices(client, PHONE)) == 2


async def test_hist_2_the_bound_email_is_told_as_well(client, clock: ManualClock) -> None:
    assert (await register(client, "alice01", PHONE))["errors"] == []
    token = await signed_in(client, CHROME)
    grant = await step_up(client, token, PHONE)
    code = await _email_code(client, token, "alice@example.com")
    assert (await _bind_email(client, token, "alice@example.com", code, grant))["errors"] == []
    await signed_in(client, FIREFOX)
    [sms] = await notices(client, PHONE)
    [mail] = await notices(client, "alice@example.com")
    assert mail["channel"] == "email"
    assert mail["text"] == sms["text"]


async def test_hist_2_a_portal_account_made_by_sms_sign_in_is_not_told_of_its_first_sign_in(
    client, clock: ManualClock
) -> None:
    made = await sms_sign_in(client, PHONE)
    assert made["accountCreated"] is True
    assert await notices(client, PHONE) == []
    # Its next SMS sign-in from the same client is known
    clock.advance(seconds=61)
    again = await sms_sign_in(client, PHONE)
    assert again["accountCreated"] is False
    assert await notices(client, PHONE) == []


async def test_hist_2_a_refused_sign_in_sends_no_notice(client) -> None:
    assert (await register(client, "alice01", PHONE))["errors"] == []
    await signed_in(client, CHROME)
    wrong = await mutate(
        client, "sessionCreateByPassword", {"loginName": "alice01", "password": "Wrong-Pass-9!"}, sign_in_result()
    )
    assert wrong["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await notices(client, PHONE) == []
