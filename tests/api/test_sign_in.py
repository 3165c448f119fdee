"""AUTH-1..5: sign-in by password, SMS and QR; idle timeout; sign-out; throttling, through GraphQL."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import create_app
from models.accounts import Account
from models.auth import AuthSession, LoginThrottle
from services.clock import ManualClock
from services.database import Database
from settings import Settings
from tests.helpers import (
    PASSWORD,
    gql,
    last_code,
    mutate,
    register,
    send_code,
    sign_in,
    sign_in_answer,
    sign_in_result,
    sms_sign_in,
    step_up,
)

PHONE = "13700000001"
PHONE_E164 = "+8613700000001"
OTHER_PHONE = "13900000002"
NEW_PASSWORD = "Green-Teapot-77?"
ERROR_FIELDS = "errors { path message code retryAfter attemptsRemaining }"

VIEWER = "query { viewer { id kind username phone idleTimeoutMinutes } }"
SESSIONS = "query { viewer { sessions { totalCount edges { node { id current method lastSeenAt expiresAt } } } } }"
SESSION_PAYLOAD = sign_in_result(
    "token accountCreated session { id method current expiresAt } account { id kind username }"
)
QR_TICKET = "query($token: String!) { qrLoginTicket(token: $token) { status expiresAt } }"


@pytest.fixture
async def other_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second client on another address (the `client` fixture is 203.0.113.7)."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


# --- local helpers -----------------------------------------------------------------------------


async def _password_sign_in(client: httpx.AsyncClient, login_name: str, password: str = PASSWORD) -> dict[str, Any]:
    return sign_in_answer(
        await mutate(
            client, "sessionCreateByPassword", {"loginName": login_name, "password": password}, SESSION_PAYLOAD
        )
    )


def _errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


async def _viewer(client: httpx.AsyncClient, token: str) -> dict[str, Any] | None:
    return (await gql(client, VIEWER, token=token))["viewer"]


async def _sessions(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    viewer = (await gql(client, SESSIONS, token=token))["viewer"]
    assert viewer is not None
    return viewer["sessions"]


async def _session_rows(db: Database) -> list[AuthSession]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(AuthSession).order_by(AuthSession.id)))


async def _account_count(db: Database) -> int:
    async with db.read_sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Account)) or 0)


async def _throttles(db: Database) -> dict[str, tuple[int, Any]]:
    async with db.read_sessions() as s:
        return {t.key: (t.failures, t.locked_until) for t in await s.scalars(select(LoginThrottle))}


async def _cloud_account(client: httpx.AsyncClient, username: str = "alice01", phone: str = PHONE) -> dict[str, Any]:
    result = await register(client, username, phone)
    assert result["errors"] == [], result
    return result["account"]


async def _portal_with_password(
    client: httpx.AsyncClient, phone: str = PHONE, password: str = PASSWORD
) -> tuple[str, dict[str, Any]]:
    """A portal account created by SMS sign-in that then set a password (with the SMS step-up)."""
    signed_in = await sms_sign_in(client, phone)
    assert signed_in["errors"] == [], signed_in
    token = signed_in["token"]
    grant = await step_up(client, token, phone)
    changed = await mutate(
        client,
        "accountPasswordChange",
        {"newPassword": password, "stepUpToken": grant},
        "endedSessionCount account { hasPassword }",
        token,
    )
    assert changed["errors"] == [], changed
    assert changed["account"]["hasPassword"] is True
    return token, signed_in["account"]


async def _bind_email(client: httpx.AsyncClient, clock: ManualClock, token: str, phone: str, email: str) -> None:
    clock.advance(seconds=61)  # CODE-3: the previous OPERATION code went out less than 60 s ago
    grant = await step_up(client, token, phone)
    assert (await send_code(client, "EMAIL_BIND", email=email, token=token))["errors"] == []
    code = await last_code(client, email)
    bound = await mutate(
        client, "accountEmailBind", {"email": email, "code": code, "stepUpToken": grant}, "account { email }", token
    )
    assert bound["errors"] == [], bound
    assert bound["account"]["email"] == email


async def _set_idle_timeout(client: httpx.AsyncClient, token: str, minutes: int) -> dict[str, Any]:
    return await mutate(client, "accountIdleTimeoutSet", {"minutes": minutes}, "account { idleTimeoutMinutes }", token)


async def _qr_create(client: httpx.AsyncClient) -> dict[str, Any]:
    created = await mutate(client, "qrLoginTicketCreate", None, "ticket { code token expiresAt }")
    assert created["errors"] == [], created
    return created["ticket"]


async def _qr_status(client: httpx.AsyncClient, token: str) -> str | None:
    state = (await gql(client, QR_TICKET, {"token": token}))["qrLoginTicket"]
    return None if state is None else state["status"]


async def _qr_confirm(client: httpx.AsyncClient, code: str, token: str | None) -> dict[str, Any]:
    return await mutate(client, "qrLoginTicketConfirm", {"code": code}, "ticket { status expiresAt }", token)


async def _qr_redeem(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return sign_in_answer(await mutate(client, "sessionCreateByQrTicket", {"token": token}, SESSION_PAYLOAD))


async def _sign_out(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return await mutate(client, "sessionDelete", None, "clientMutationId", token)


async def _revoke(client: httpx.AsyncClient, token: str, session_id: str) -> dict[str, Any]:
    return await mutate(client, "sessionRevoke", {"id": session_id}, "account { id sessions { totalCount } }", token)


# --- AUTH-1: cloud accounts sign in with username + password only ------------------------------------


async def test_auth_1_cloud_account_signs_in_with_its_username_in_any_case(client, clock: ManualClock) -> None:
    # Given a cloud account alice01
    account = await _cloud_account(client)
    # When it signs in with the username, as typed or in another case
    for login_name in ("alice01", "ALICE01", " Alice01 "):
        result = await _password_sign_in(client, login_name)
        # Then a password session of that account starts
        assert result["errors"] == []
        assert result["account"]["username"] == account["username"]  # unique: that account
        assert (result["session"]["method"], result["session"]["current"]) == ("PASSWORD", True)
        assert result["accountCreated"] is False
        assert (await _viewer(client, result["token"]))["kind"] == "CLOUD"


async def test_auth_1_cloud_account_cannot_sign_in_with_its_phone_or_email(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a cloud account with a bound phone and a bound e-mail address
    await _cloud_account(client)
    token = await sign_in(client, "alice01")
    await _bind_email(client, clock, token, PHONE, "alice@example.com")
    sessions_before = len(await _session_rows(db))
    # When the right password is given with the phone or the e-mail as login name
    answers = [await _password_sign_in(client, name) for name in (PHONE, "alice@example.com")]
    # Then each is refused exactly like a wrong password, and no session starts
    for refused in answers:
        assert _errors(refused) == [("INVALID_CREDENTIALS", ["input", "password"])]
        assert refused["token"] is None
        assert refused["errors"][0]["attemptsRemaining"] == 4
    wrong_password = await _password_sign_in(client, "alice01", "Not-The-Password-1")
    assert [a["errors"] for a in answers] == [wrong_password["errors"]] * 2
    assert len(await _session_rows(db)) == sessions_before


async def test_auth_1_sms_sign_in_on_a_cloud_accounts_phone_never_enters_the_cloud_account(
    client, db: Database
) -> None:
    # Given a cloud account on a phone
    cloud = await _cloud_account(client)
    # When the phone signs in by SMS
    result = await sms_sign_in(client, PHONE)
    # Then the session is the phone's portal account, not the cloud account
    assert result["errors"] == []
    assert result["account"]["kind"] == "PORTAL"
    viewer = await _viewer(client, result["token"])
    assert (viewer["kind"], viewer["username"]) == ("PORTAL", None)
    assert cloud["username"] == "alice01"


# --- AUTH-2: portal accounts: SMS, login name + password, QR --------------------------------------


async def test_auth_2_portal_account_signs_in_by_sms_code(client, db: Database) -> None:
    # Given / When a phone signs in with a LOGIN code
    result = await sms_sign_in(client, PHONE)
    # Then an SMS session of its portal account starts
    assert result["errors"] == []
    assert result["account"]["kind"] == "PORTAL"
    [row] = await _session_rows(db)
    assert (row.method, row.client_ip) == ("sms", "203.0.113.7")
    viewer = await _viewer(client, result["token"])
    assert viewer is not None
    assert (viewer["kind"], viewer["phone"]) == ("PORTAL", PHONE_E164)


@pytest.mark.parametrize(
    ("phone", "code", "expected"),
    [
        (PHONE, "WRONG", ("CODE_INVALID", ["input", "code"])),
        (PHONE, "12ab56", ("CODE_FORMAT_INVALID", ["input", "code"])),
        ("12345", "123456", ("INVALID_PHONE", ["input", "phone"])),
        (OTHER_PHONE, "RIGHT", ("CODE_INVALID", ["input", "code"])),
    ],
)
async def test_auth_2_sms_sign_in_with_a_bad_code_or_phone_creates_nothing(
    client, db: Database, phone: str, code: str, expected: tuple[str, str]
) -> None:
    # Given a LOGIN code sent to the phone
    await send_code(client, "LOGIN", phone=PHONE)
    right = await last_code(client, PHONE)
    wrong = "000000" if right != "000000" else "111111"
    code = {"WRONG": wrong, "RIGHT": right}.get(code, code)
    # When it signs in with a wrong code, a malformed code, a bad phone, or the code of another phone
    result = await mutate(client, "sessionCreateBySmsCode", {"phone": phone, "code": code}, SESSION_PAYLOAD)
    # Then it is refused; no account or session exists
    assert _errors(result) == [expected]
    assert result["result"] is None
    assert await _account_count(db) == 0
    assert await _session_rows(db) == []


async def test_auth_2_a_bad_phone_and_a_malformed_code_come_back_together_and_count_nothing(
    client, db: Database
) -> None:
    # Given a LOGIN code sent to the phone
    await send_code(client, "LOGIN", phone=PHONE)
    right = await last_code(client, PHONE)
    # When SMS sign-in gets a phone that is no mainland mobile number and a code that is not 6 digits
    refused = await mutate(client, "sessionCreateBySmsCode", {"phone": "12345", "code": "12ab56"}, SESSION_PAYLOAD)
    # Then both problems come back at once, each on its input path, and there is no result
    assert _errors(refused) == [("INVALID_PHONE", ["input", "phone"]), ("CODE_FORMAT_INVALID", ["input", "code"])]
    assert refused["result"] is None
    assert await _account_count(db) == 0
    # And nothing was counted against the code (CODE-2): a wrong code still has all its tries but one left
    wrong = await mutate(
        client,
        "sessionCreateBySmsCode",
        {"phone": PHONE, "code": "000000" if right != "000000" else "111111"},
        SESSION_PAYLOAD,
    )
    assert [(e["code"], e["attemptsRemaining"]) for e in wrong["errors"]] == [("CODE_INVALID", 4)]
    # And the right code signs in, answering a `SignedIn` result
    signed_in = await mutate(client, "sessionCreateBySmsCode", {"phone": PHONE, "code": right}, SESSION_PAYLOAD)
    assert signed_in["errors"] == []
    assert signed_in["result"]["__typename"] == "SignedIn"
    assert (signed_in["result"]["accountCreated"], signed_in["result"]["session"]["method"]) == (True, "SMS")


async def test_auth_1_a_password_sign_in_answers_one_result_or_errors_never_both(client) -> None:
    # Given a cloud account
    account = await _cloud_account(client)
    # When it signs in with the right password, then with a wrong one
    right = await mutate(
        client, "sessionCreateByPassword", {"loginName": "alice01", "password": PASSWORD}, SESSION_PAYLOAD
    )
    wrong = await mutate(
        client, "sessionCreateByPassword", {"loginName": "alice01", "password": "Wrong-Password-1"}, SESSION_PAYLOAD
    )
    # Then the right one answers a `SignedIn` with every field set, and no errors
    assert right["errors"] == []
    signed_in = right["result"]
    assert signed_in["__typename"] == "SignedIn"
    assert signed_in["token"].startswith("acs_")
    assert (signed_in["accountCreated"], signed_in["account"]["username"]) == (False, account["username"])
    assert (signed_in["session"]["method"], signed_in["session"]["current"]) == ("PASSWORD", True)
    # And the wrong one answers errors and no result
    assert (wrong["result"], _errors(wrong)) == (None, [("INVALID_CREDENTIALS", ["input", "password"])])


async def test_auth_2_portal_account_signs_in_with_phone_username_or_email_and_password(
    client, clock: ManualClock
) -> None:
    # Given a portal account that set a password, chose a username and bound an e-mail address
    token, account = await _portal_with_password(client)
    chosen = await mutate(client, "accountUsernameSet", {"username": "pat0001"}, "account { username }", token)
    assert chosen["errors"] == []
    await _bind_email(client, clock, token, PHONE, "pat@example.com")
    # When it signs in with each login name and the password
    for login_name in (PHONE, PHONE_E164, "+86 137 0000 0001", "pat0001", "PAT0001", "pat@example.com"):
        result = await _password_sign_in(client, login_name)
        # Then each gives a password session of the same portal account
        assert result["errors"] == [], login_name
        assert result["account"]["id"] == account["id"]
        assert result["session"]["method"] == "PASSWORD"
        assert (await _viewer(client, result["token"]))["username"] == "pat0001"


async def test_auth_2_portal_account_without_a_password_cannot_sign_in_by_password(client, db: Database) -> None:
    # Given a portal account created by SMS (no password)
    await sms_sign_in(client, PHONE)
    # When a password is tried with its phone
    result = await _password_sign_in(client, PHONE)
    # Then it is refused like any wrong password
    assert _errors(result) == [("INVALID_CREDENTIALS", ["input", "password"])]
    assert len(await _session_rows(db)) == 1


async def test_auth_2_qr_login_created_signed_out_confirmed_signed_in_then_redeemed_once(
    client, other_client, clock: ManualClock, db: Database
) -> None:
    # Given a portal account signed in on a phone, and a signed-out browser showing a QR ticket
    portal = await sms_sign_in(client, PHONE)
    phone_token = portal["token"]
    ticket = await _qr_create(other_client)
    assert ticket["expiresAt"] == (clock.now() + timedelta(minutes=2)).isoformat()
    assert await _qr_status(other_client, ticket["token"]) == "PENDING"
    # When the browser tries to redeem before confirmation
    early = await _qr_redeem(other_client, ticket["token"])
    # Then it is told to keep polling, and no session starts
    assert _errors(early) == [("QR_TICKET_PENDING", ["input", "token"])]
    assert len(await _session_rows(db)) == 1
    # When the signed-in phone confirms the scanned code
    clock.advance(seconds=30)
    confirmed = await _qr_confirm(client, ticket["code"], phone_token)
    assert confirmed == {"ticket": {"status": "CONFIRMED", "expiresAt": ticket["expiresAt"]}, "errors": []}
    assert await _qr_status(other_client, ticket["token"]) == "CONFIRMED"
    # Then the browser redeems it for a QR session of the same account
    redeemed = await _qr_redeem(other_client, ticket["token"])
    assert redeemed["errors"] == []
    assert redeemed["account"]["id"] == portal["account"]["id"]
    assert redeemed["session"]["method"] == "QR"
    assert (await _viewer(other_client, redeemed["token"]))["phone"] == PHONE_E164
    assert await _qr_status(other_client, ticket["token"]) == "REDEEMED"
    sessions = await _sessions(client, phone_token)
    assert sessions["totalCount"] == 2
    assert sorted(e["node"]["method"] for e in sessions["edges"]) == ["QR", "SMS"]
    [_, qr_row] = await _session_rows(db)
    assert qr_row.client_ip == "198.51.100.9"
    # And the ticket cannot be redeemed or confirmed again
    again = await _qr_redeem(other_client, ticket["token"])
    assert _errors(again) == [("QR_TICKET_USED", ["input", "token"])]
    assert _errors(await _qr_confirm(client, ticket["code"], phone_token)) == [("QR_TICKET_USED", ["input", "code"])]
    assert len(await _session_rows(db)) == 2


async def test_auth_2_qr_ticket_expires_after_two_minutes(
    client, other_client, clock: ManualClock, db: Database
) -> None:
    # Given a signed-in portal phone and two QR tickets, one of them confirmed
    phone_token = (await sms_sign_in(client, PHONE))["token"]
    pending = await _qr_create(other_client)
    confirmed = await _qr_create(other_client)
    assert (await _qr_confirm(client, confirmed["code"], phone_token))["ticket"]["status"] == "CONFIRMED"
    # When two minutes pass
    clock.advance(minutes=2)
    # Then both are expired: neither can be confirmed nor redeemed, and no session starts
    assert await _qr_status(other_client, pending["token"]) == "EXPIRED"
    assert await _qr_status(other_client, confirmed["token"]) == "EXPIRED"
    late_confirm = await _qr_confirm(client, pending["code"], phone_token)
    assert late_confirm["ticket"] is None
    assert _errors(late_confirm) == [("QR_TICKET_EXPIRED", ["input", "code"])]
    assert _errors(await _qr_redeem(other_client, pending["token"])) == [("QR_TICKET_EXPIRED", ["input", "token"])]
    assert _errors(await _qr_redeem(other_client, confirmed["token"])) == [("QR_TICKET_EXPIRED", ["input", "token"])]
    assert len(await _session_rows(db)) == 1


async def test_auth_2_qr_login_is_for_portal_accounts_only(client, other_client, db: Database) -> None:
    # Given a signed-in cloud account and a QR ticket
    await _cloud_account(client)
    cloud_token = await sign_in(client, "alice01")
    ticket = await _qr_create(other_client)
    # When the cloud account confirms it
    refused = await _qr_confirm(client, ticket["code"], cloud_token)
    # Then it is refused and the ticket stays pending, good for no session
    assert refused["ticket"] is None
    assert _errors(refused) == [("QR_LOGIN_NOT_AVAILABLE", ["input", "code"])]
    assert await _qr_status(other_client, ticket["token"]) == "PENDING"
    assert _errors(await _qr_redeem(other_client, ticket["token"])) == [("QR_TICKET_PENDING", ["input", "token"])]
    assert len(await _session_rows(db)) == 1


async def test_auth_2_qr_confirm_needs_a_session_and_code_and_token_are_not_interchangeable(
    client, other_client, db: Database
) -> None:
    # Given a QR ticket and a signed-in portal phone
    ticket = await _qr_create(other_client)
    phone_token = (await sms_sign_in(client, PHONE))["token"]
    # When it is confirmed without a session
    anonymous = await _qr_confirm(other_client, ticket["code"], None)
    # Then sign-in is required
    assert _errors(anonymous) == [("AUTHENTICATION_REQUIRED", None)]
    # And the redeem token is not a QR code, the QR code is not a redeem token, unknown values are unknown
    assert _errors(await _qr_confirm(client, ticket["token"], phone_token)) == [
        ("QR_TICKET_NOT_FOUND", ["input", "code"])
    ]
    assert _errors(await _qr_confirm(client, "qrc_unknown", phone_token)) == [
        ("QR_TICKET_NOT_FOUND", ["input", "code"])
    ]
    assert _errors(await _qr_redeem(other_client, ticket["code"])) == [("QR_TICKET_NOT_FOUND", ["input", "token"])]
    assert await _qr_status(other_client, ticket["code"]) is None
    assert await _qr_status(other_client, ticket["token"]) == "PENDING"
    assert len(await _session_rows(db)) == 1


# --- AUTH-3: idle timeout --------------------------------------------------------------------------


async def test_auth_3_session_ends_after_sixty_idle_minutes_by_default(client, clock: ManualClock) -> None:
    # Given a session started now, with the default timeout
    await _cloud_account(client)
    token = await sign_in(client, "alice01")
    assert (await _viewer(client, token))["idleTimeoutMinutes"] == 60
    [edge] = (await _sessions(client, token))["edges"]
    assert edge["node"]["expiresAt"] == (clock.now() + timedelta(minutes=60)).isoformat()
    # When 60 minutes pass without activity
    clock.advance(minutes=60)
    # Then the session is gone: no viewer, and a mutation needs sign-in
    assert await _viewer(client, token) is None
    refused = await _set_idle_timeout(client, token, 30)
    assert _errors(refused) == [("AUTHENTICATION_REQUIRED", None)]


async def test_auth_3_session_is_alive_just_before_the_timeout(client, clock: ManualClock) -> None:
    # Given a session started now
    await _cloud_account(client)
    token = await sign_in(client, "alice01")
    # When 59 minutes 59 seconds pass
    clock.advance(minutes=59, seconds=59)
    # Then it is still live
    assert (await _viewer(client, token))["username"] == "alice01"


async def test_auth_3_activity_keeps_a_session_alive(client, clock: ManualClock) -> None:
    # Given a session with the default 60-minute timeout
    await _cloud_account(client)
    token = await sign_in(client, "alice01")
    # When it is used every 50 minutes for more than three hours
    for _ in range(4):
        clock.advance(minutes=50)
        # Then it stays live, and its deadline moves with each use
        assert await _viewer(client, token) is not None
        [edge] = (await _sessions(client, token))["edges"]
        assert edge["node"]["expiresAt"] == (clock.now() + timedelta(minutes=60)).isoformat()
    # And 60 minutes after the last use it ends
    clock.advance(minutes=60)
    assert await _viewer(client, token) is None


async def test_auth_3_a_session_ends_at_its_maximum_age_however_active(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a session started now, with the default 24-hour maximum age
    await _cloud_account(client)
    signed_in = await _password_sign_in(client, "alice01")
    token, started = signed_in["token"], clock.now()
    # When it is used every 50 minutes for 23 h 20 min
    for _ in range(28):
        clock.advance(minutes=50)
        assert await _viewer(client, token) is not None
    # Then it is live, but its deadline is now the absolute one, which activity no longer moves
    [edge] = (await _sessions(client, token))["edges"]
    assert edge["node"]["expiresAt"] == (started + timedelta(hours=24)).isoformat()
    clock.advance(minutes=39, seconds=59)
    assert await _viewer(client, token) is not None
    # And at 24 hours it has ended, active or not: no viewer, no mutation, not listed
    clock.advance(seconds=1)
    assert await _viewer(client, token) is None
    refused = await _set_idle_timeout(client, token, 30)
    assert _errors(refused) == [("AUTHENTICATION_REQUIRED", None)]
    fresh = await sign_in(client, "alice01")
    listed = await _sessions(client, fresh)
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["current"] is True


async def test_auth_3_a_session_shows_the_earlier_of_its_two_deadlines(
    settings: Settings, clock: ManualClock, db: Database
) -> None:
    # Given a server whose sessions live at most 2 hours, and an account with the longest idle timeout
    app = create_app(replace(settings, session_max_age_hours=2), clock=clock, db=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await _cloud_account(client)
        token = await sign_in(client, "alice01")
        assert (await _set_idle_timeout(client, token, 1439))["errors"] == []
        # When a session is created
        created = await _password_sign_in(client, "alice01")
        # Then its expiresAt is sign-in + 2 hours, not last activity + 1439 minutes, in the list too
        deadline = (clock.now() + timedelta(hours=2)).isoformat()
        assert created["session"]["expiresAt"] == deadline
        clock.advance(minutes=30)
        edges = (await _sessions(client, created["token"]))["edges"]
        assert [e["node"]["expiresAt"] for e in edges if e["node"]["current"]] == [deadline]
        # And it ends then
        clock.advance(minutes=90)
        assert await _viewer(client, created["token"]) is None


@pytest.mark.parametrize("minutes", [15, 1439])
async def test_auth_3_owner_sets_the_idle_timeout_within_the_range(
    client, clock: ManualClock, db: Database, minutes: int
) -> None:
    # Given a signed-in account
    await _cloud_account(client)
    token = await sign_in(client, "alice01")
    # When it sets the idle timeout to a bound of the range
    result = await _set_idle_timeout(client, token, minutes)
    # Then it is saved and governs the session
    assert result["errors"] == []
    assert result["account"]["idleTimeoutMinutes"] == minutes
    async with db.read_sessions() as s:
        assert await s.scalar(select(Account.idle_timeout_minutes)) == minutes
    clock.advance(minutes=minutes - 1)
    assert await _viewer(client, token) is not None
    clock.advance(minutes=minutes)
    assert await _viewer(client, token) is None


@pytest.mark.parametrize("minutes", [14, 1440, 0, -15])
async def test_auth_3_idle_timeout_outside_the_range_is_refused_and_nothing_changes(
    client, clock: ManualClock, db: Database, minutes: int
) -> None:
    # Given a signed-in account with the default timeout
    await _cloud_account(client)
    token = await sign_in(client, "alice01")
    # When it asks for a timeout outside 15..1439
    refused = await _set_idle_timeout(client, token, minutes)
    # Then it is refused on the minutes field and the timeout stays 60
    assert _errors(refused) == [("TIMEOUT_OUT_OF_RANGE", ["input", "minutes"])]
    assert refused["account"] is None
    async with db.read_sessions() as s:
        assert await s.scalar(select(Account.idle_timeout_minutes)) == 60
    assert (await _viewer(client, token))["idleTimeoutMinutes"] == 60
    clock.advance(minutes=60)
    assert await _viewer(client, token) is None


async def test_auth_3_a_shorter_timeout_applies_to_the_accounts_other_sessions(client, clock: ManualClock) -> None:
    # Given two sessions of one account
    await _cloud_account(client)
    first = await sign_in(client, "alice01")
    second = await sign_in(client, "alice01")
    # When one of them sets the timeout to 15 minutes
    assert (await _set_idle_timeout(client, first, 15))["errors"] == []
    # Then the other ends after 15 idle minutes too
    clock.advance(minutes=15)
    assert await _viewer(client, second) is None
    assert await _viewer(client, first) is None


async def test_auth_3_raising_the_timeout_does_not_revive_an_expired_session(client, clock: ManualClock) -> None:
    # Given a session that expired after 60 idle minutes while another session of the account is live
    await _cloud_account(client)
    idle = await sign_in(client, "alice01")
    clock.advance(minutes=50)
    live = await sign_in(client, "alice01")
    clock.advance(minutes=11)
    assert await _viewer(client, idle) is None
    # When the live session raises the timeout to 23 h 59 min
    assert (await _set_idle_timeout(client, live, 1439))["errors"] == []
    # Then the expired session stays expired
    assert await _viewer(client, idle) is None
    assert (await _sessions(client, live))["totalCount"] == 1


# --- AUTH-4: sign-out, revocation, password change ----------------------------------------------


async def test_auth_4_sign_out_ends_the_session_at_once(client, db: Database) -> None:
    # Given two sessions of one account
    await _cloud_account(client)
    leaving = await sign_in(client, "alice01")
    staying = await sign_in(client, "alice01")
    # When one signs out
    result = await _sign_out(client, leaving)
    # Then it ends at once, without the clock moving; the other stays
    assert result == {"clientMutationId": None, "errors": []}
    assert await _viewer(client, leaving) is None
    assert await _viewer(client, staying) is not None
    again = await _sign_out(client, leaving)
    assert _errors(again) == [("AUTHENTICATION_REQUIRED", None)]
    rows = await _session_rows(db)
    assert [(r.ended_at is not None, r.end_reason) for r in rows] == [(True, "signed_out"), (False, None)]


async def test_auth_2_auth_4_mutations_with_nothing_to_send_may_leave_out_their_input_and_echo_it(client) -> None:
    # Given a cloud account signed in twice
    await _cloud_account(client)
    leaving, staying = await sign_in(client, "alice01"), await sign_in(client, "alice01")
    # When a QR ticket is created and a session signs out, with a clientMutationId and without an input
    tagged = await mutate(
        client, "qrLoginTicketCreate", {"clientMutationId": "qr-1"}, "clientMutationId ticket { code }"
    )
    bare = await mutate(client, "qrLoginTicketCreate", None, "clientMutationId ticket { code }")
    signed_out = await mutate(client, "sessionDelete", {"clientMutationId": "bye-1"}, "clientMutationId", leaving)
    again = await mutate(client, "sessionDelete", {"clientMutationId": "bye-2"}, "clientMutationId", leaving)
    # Then each answers its result and echoes what was sent (null when nothing was), refusals included
    assert (tagged["clientMutationId"], tagged["errors"]) == ("qr-1", [])
    assert tagged["ticket"]["code"].startswith("qrc_")
    assert (bare["clientMutationId"], bare["errors"]) == (None, [])
    assert signed_out == {"clientMutationId": "bye-1", "errors": []}
    assert (again["clientMutationId"], _errors(again)) == ("bye-2", [("AUTHENTICATION_REQUIRED", None)])
    assert await _viewer(client, leaving) is None
    assert await _viewer(client, staying) is not None
    assert (await mutate(client, "sessionDelete", None, "clientMutationId", staying))["errors"] == []


async def test_auth_4_revoking_another_session_of_the_account_ends_it(client) -> None:
    # Given two sessions of one account
    await _cloud_account(client)
    mine = await sign_in(client, "alice01")
    other = await sign_in(client, "alice01")
    [other_id] = [e["node"]["id"] for e in (await _sessions(client, mine))["edges"] if not e["node"]["current"]]
    # When the first revokes the second
    result = await _revoke(client, mine, other_id)
    # Then the second ends at once and the first stays
    assert result["errors"] == []
    assert result["account"]["sessions"] == {"totalCount": 1}  # the viewer, as it is now
    assert await _viewer(client, other) is None
    assert (await _sessions(client, mine))["totalCount"] == 1
    # And revoking it again finds no such session
    again = await _revoke(client, mine, other_id)
    assert again["account"] is None
    assert _errors(again) == [("SESSION_NOT_FOUND", ["input", "id"])]


async def test_auth_4_another_accounts_session_id_behaves_as_unknown(client, clock: ManualClock, db: Database) -> None:
    # Given alice's session and bob's session
    await _cloud_account(client, "alice01", PHONE)
    await _cloud_account(client, "bob0001", OTHER_PHONE)
    alice = await sign_in(client, "alice01")
    bob = await sign_in(client, "bob0001")
    [alice_edge] = (await _sessions(client, alice))["edges"]
    alice_session_id = alice_edge["node"]["id"]
    # When bob revokes alice's session, or looks it up
    refused = await _revoke(client, bob, alice_session_id)
    found = (await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": alice_session_id}, bob))["node"]
    # Then it is unknown to bob, exactly like a made-up ID, and alice's session is untouched
    assert _errors(refused) == [("SESSION_NOT_FOUND", ["input", "id"])]
    assert found is None
    made_up = base64.b64encode(b"Session:987654321").decode()
    assert (await _revoke(client, bob, made_up))["errors"] == refused["errors"]
    assert await _viewer(client, alice) is not None
    assert all(r.ended_at is None for r in await _session_rows(db))


async def test_auth_4_password_change_ends_the_other_sessions_and_keeps_this_one(
    client, clock: ManualClock, db: Database
) -> None:
    # Given three sessions of one account
    await _cloud_account(client)
    current = await sign_in(client, "alice01")
    others = [await sign_in(client, "alice01"), await sign_in(client, "alice01")]
    # When the first changes the password (with the SMS step-up of MFA-3)
    grant = await step_up(client, current, PHONE)
    changed = await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "stepUpToken": grant},
        "endedSessionCount account { hasPassword }",
        current,
    )
    # Then the two others end at once, the current one stays
    assert changed["errors"] == []
    assert changed["endedSessionCount"] == 2
    assert await _viewer(client, current) is not None
    for token in others:
        assert await _viewer(client, token) is None
    assert [r.end_reason for r in await _session_rows(db)] == [None, "password_changed", "password_changed"]
    # And only the new password signs in
    assert _errors(await _password_sign_in(client, "alice01")) == [("INVALID_CREDENTIALS", ["input", "password"])]
    assert (await _password_sign_in(client, "alice01", NEW_PASSWORD))["errors"] == []


async def test_auth_4_refused_password_change_ends_no_session(client, db: Database) -> None:
    # Given two sessions of one account
    await _cloud_account(client)
    current = await sign_in(client, "alice01")
    other = await sign_in(client, "alice01")
    grant = await step_up(client, current, PHONE)
    # When the password change gives a wrong current password
    refused = await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": "Not-The-Password-1", "newPassword": NEW_PASSWORD, "stepUpToken": grant},
        "endedSessionCount",
        current,
    )
    # Then it is refused and every session stays
    assert _errors(refused) == [("WRONG_PASSWORD", ["input", "currentPassword"])]
    assert refused["endedSessionCount"] is None
    assert await _viewer(client, other) is not None
    assert all(r.ended_at is None for r in await _session_rows(db))
    await sign_in(client, "alice01")


async def test_auth_4_password_reset_ends_every_session(client, db: Database) -> None:
    # Given two sessions of one account
    await _cloud_account(client)
    tokens = [await sign_in(client, "alice01"), await sign_in(client, "alice01")]
    # When the password is reset with the code sent to the bound phone
    started = await mutate(
        client, "passwordResetStart", {"loginName": "alice01", "botToken": "sandbox-pass"}, "passwordReset { ticket }"
    )
    assert started["errors"] == []
    code = await last_code(client, PHONE)
    done = await mutate(
        client,
        "passwordResetComplete",
        {"ticket": started["passwordReset"]["ticket"], "code": code, "newPassword": NEW_PASSWORD},
        "",
    )
    # Then every session has ended and the new password signs in
    assert done == {"errors": []}
    for token in tokens:
        assert await _viewer(client, token) is None
    assert [r.end_reason for r in await _session_rows(db)] == ["password_reset", "password_reset"]
    assert (await _password_sign_in(client, "alice01", NEW_PASSWORD))["errors"] == []


# --- AUTH-5: throttling wrong passwords ------------------------------------------------------------


async def _attempts(client: httpx.AsyncClient, login_name: str, passwords: list[str]) -> list[list[dict[str, Any]]]:
    return [(await _password_sign_in(client, login_name, p))["errors"] for p in passwords]


async def test_auth_5_five_wrong_passwords_lock_the_login_name(client, clock: ManualClock, db: Database) -> None:
    # Given a cloud account
    await _cloud_account(client)
    # When five wrong passwords are given for it
    answers = await _attempts(client, "alice01", ["Wrong-Password-1"] * 5)
    # Then four count down and the fifth locks the name for 15 minutes
    assert [(e[0]["code"], e[0]["path"], e[0]["attemptsRemaining"]) for e in answers[:4]] == [
        ("INVALID_CREDENTIALS", ["input", "password"], n) for n in (4, 3, 2, 1)
    ]
    assert [(e["code"], e["path"], e["retryAfter"]) for e in answers[4]] == [
        ("TOO_MANY_ATTEMPTS", ["input", "password"], 900)
    ]
    # And even the right password, in any case, is refused while locked, with the time left
    clock.advance(minutes=10)
    for name in ("alice01", "ALICE01"):
        locked = await _password_sign_in(client, name)
        assert [(e["code"], e["retryAfter"]) for e in locked["errors"]] == [("TOO_MANY_ATTEMPTS", 300)]
        assert locked["token"] is None
    assert await _session_rows(db) == []
    # And when the lock time has passed, the right password signs in
    clock.advance(minutes=5)
    assert (await _password_sign_in(client, "alice01"))["errors"] == []


async def test_auth_5_unknown_login_name_gets_the_same_answers_as_a_real_one(client, clock: ManualClock) -> None:
    # Given a real account and a login name that names no account
    await _cloud_account(client)
    # When each gets five wrong passwords and then a sixth try
    tries = ["Wrong-Password-1"] * 5 + [PASSWORD]
    real = await _attempts(client, "alice01", tries)
    unknown = await _attempts(client, "nobody99", tries)
    # Then the answers are identical, word for word
    assert real == unknown
    assert [e[0]["code"] for e in real] == ["INVALID_CREDENTIALS"] * 4 + ["TOO_MANY_ATTEMPTS"] * 2
    # And the same holds for a phone and an e-mail address that name no account
    clock.advance(minutes=15)
    assert await _attempts(client, OTHER_PHONE, tries) == real
    assert await _attempts(client, "ghost@example.com", tries) == real


@pytest.mark.parametrize("login_name", ["alice01\x00", "ali\nce01", "\x1balice01"])
async def test_auth_5_a_login_name_with_a_control_character_is_answered_like_an_unknown_one(
    client, db: Database, login_name: str
) -> None:
    # Given a cloud account alice01
    await _cloud_account(client)
    # When the right password is sent for alice01 with a NUL, a line break or ESC in the name (PostgreSQL refuses
    # NUL outright), and for a name that names no account
    odd = await _password_sign_in(client, login_name)
    unknown = await _password_sign_in(client, "nobody99")
    # Then both get the same answer, and no session is issued
    assert odd == unknown
    assert [e["code"] for e in odd["errors"]] == ["INVALID_CREDENTIALS"]
    assert await _session_rows(db) == []


async def test_auth_5_twenty_failures_from_one_address_lock_that_address(
    client, other_client, clock: ManualClock, db: Database
) -> None:
    # Given a real account, and 19 wrong passwords from one address, each for a different name
    await _cloud_account(client)
    answers = [await _password_sign_in(client, f"name{i:04d}", "Wrong-Password-1") for i in range(20)]
    assert all(_errors(a) == [("INVALID_CREDENTIALS", ["input", "password"])] for a in answers[:19])
    # When the twentieth fails
    # Then the address is locked for 15 minutes
    assert [(e["code"], e["retryAfter"]) for e in answers[19]["errors"]] == [("TOO_MANY_ATTEMPTS", 900)]
    # And the right password of a name never tried is refused from that address
    clock.advance(minutes=5)
    locked = await _password_sign_in(client, "alice01")
    assert [(e["code"], e["path"], e["retryAfter"]) for e in locked["errors"]] == [
        ("TOO_MANY_ATTEMPTS", ["input", "password"], 600)
    ]
    # And a forged X-Forwarded-For header does not move the request to another address
    forged = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: SessionCreateByPasswordInput!) { sessionCreateByPassword(input: $i) "
            "{ result { __typename } errors { code } } }",
            "variables": {"i": {"loginName": "alice01", "password": PASSWORD}},
        },
        headers={"x-forwarded-for": "192.0.2.55"},
    )
    assert forged.json()["data"]["sessionCreateByPassword"] == {
        "result": None,
        "errors": [{"code": "TOO_MANY_ATTEMPTS"}],
    }
    assert await _session_rows(db) == []
    # But another address signs in normally
    assert (await _password_sign_in(other_client, "alice01"))["errors"] == []
    # And after the lock time the address can sign in again
    clock.advance(minutes=10)
    assert (await _password_sign_in(client, "alice01"))["errors"] == []


async def test_auth_5_a_refused_wrong_password_is_still_counted(client, db: Database) -> None:
    # Given a cloud account
    await _cloud_account(client)
    # When a wrong password is refused
    refused = await _password_sign_in(client, "alice01", "Wrong-Password-1")
    assert _errors(refused) == [("INVALID_CREDENTIALS", ["input", "password"])]
    # Then the failure was recorded for the login name and for the address, although the request was refused
    throttles = await _throttles(db)
    assert throttles["ip:203.0.113.7"] == (1, None)
    [(name_failures, name_lock)] = [v for k, v in throttles.items() if k.startswith("name:")]
    assert (name_failures, name_lock) == (1, None)
    # And the next wrong password sees one try fewer
    again = await _password_sign_in(client, "alice01", "Wrong-Password-2")
    assert again["errors"][0]["attemptsRemaining"] == 3


async def test_auth_5_tries_while_locked_do_not_extend_the_lock(client, clock: ManualClock, db: Database) -> None:
    # Given a login name locked by five wrong passwords
    await _cloud_account(client)
    await _attempts(client, "alice01", ["Wrong-Password-1"] * 5)
    # When more wrong passwords arrive during the lock
    clock.advance(minutes=14)
    locked = await _attempts(client, "alice01", ["Wrong-Password-1"] * 3)
    # Then they are refused with the time left and do not count
    assert [[(e["code"], e["retryAfter"]) for e in errs] for errs in locked] == [[("TOO_MANY_ATTEMPTS", 60)]] * 3
    assert (await _throttles(db))["ip:203.0.113.7"][0] == 5
    # And at the original end of the lock the name has its five tries back
    clock.advance(minutes=1)
    fresh = await _password_sign_in(client, "alice01", "Wrong-Password-1")
    assert _errors(fresh) == [("INVALID_CREDENTIALS", ["input", "password"])]
    assert fresh["errors"][0]["attemptsRemaining"] == 4


async def test_auth_5_success_clears_the_name_count_and_old_failures_expire(client, clock: ManualClock) -> None:
    # Given three wrong passwords for a name
    await _cloud_account(client)
    await _attempts(client, "alice01", ["Wrong-Password-1"] * 3)
    # When the right password is given
    assert (await _password_sign_in(client, "alice01"))["errors"] == []
    # Then the name's count starts again
    after_success = await _password_sign_in(client, "alice01", "Wrong-Password-1")
    assert after_success["errors"][0]["attemptsRemaining"] == 4
    # And failures older than the 15-minute window no longer count
    await _attempts(client, "alice01", ["Wrong-Password-1"] * 3)
    clock.advance(minutes=15)
    later = await _password_sign_in(client, "alice01", "Wrong-Password-1")
    assert later["errors"][0]["attemptsRemaining"] == 4


# --- AUTH-5 under concurrency, and per account -----------------------------------------------------


@dataclass
class HashLog:
    """The hasher's verify calls: passwords judged against a real hash, and dummy verifies (no account)."""

    judged: list[str] = field(default_factory=list)
    dummies: int = 0
    # Awaited inside a verify of this password, before the hash is computed (to order concurrent requests).
    gates: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)


@pytest.fixture
def hashes(app: Any, monkeypatch: pytest.MonkeyPatch) -> HashLog:
    hasher = app.state.deps.hasher
    real_verify = hasher.verify
    log = HashLog()

    async def verify(hashed: str | None, password: str) -> bool:
        if hashed is None:
            log.dummies += 1
        else:
            log.judged.append(password)
        gate = log.gates.get(password)
        if gate is not None:
            await gate()
        return bool(await real_verify(hashed, password))

    monkeypatch.setattr(hasher, "verify", verify)
    return log


def _answers(results: list[dict[str, Any]]) -> list[tuple[str, int | None, int | None]]:
    return [(e["code"], e["attemptsRemaining"], e["retryAfter"]) for r in results for e in r["errors"]]


async def _name_throttle(db: Database) -> tuple[int, Any]:
    [found] = [v for k, v in (await _throttles(db)).items() if k.startswith("name:")]
    return found


async def test_auth_5_sixty_simultaneous_wrong_passwords_judge_at_most_five(
    client, clock: ManualClock, db: Database, hashes: HashLog
) -> None:
    # Given a cloud account
    await _cloud_account(client)
    # When 60 wrong passwords for its name arrive at once
    results = await asyncio.gather(*(_password_sign_in(client, "alice01", f"Wrong-Guess-{i}!") for i in range(60)))
    # Then only five are judged: four count down, the fifth locks, and the rest are refused unjudged
    assert len(hashes.judged) == 5
    answers = _answers(results)
    assert sorted(a for a in answers if a[0] == "INVALID_CREDENTIALS") == [
        ("INVALID_CREDENTIALS", n, None) for n in (1, 2, 3, 4)
    ]
    assert [a for a in answers if a[0] != "INVALID_CREDENTIALS"] == [("TOO_MANY_ATTEMPTS", None, 900)] * 56
    assert all(r["token"] is None for r in results)
    # And the name and the address each counted exactly the five judged tries
    throttles = await _throttles(db)
    assert throttles["ip:203.0.113.7"] == (5, None)
    assert await _name_throttle(db) == (5, clock.now() + timedelta(minutes=15))
    # And the right password is refused, unjudged, until the lock ends
    clock.advance(minutes=14, seconds=59)
    locked = await _password_sign_in(client, "alice01")
    assert _answers([locked]) == [("TOO_MANY_ATTEMPTS", None, 1)]
    assert len(hashes.judged) == 5
    assert await _session_rows(db) == []
    # And accepted once it has ended
    clock.advance(seconds=1)
    assert (await _password_sign_in(client, "alice01"))["errors"] == []


async def test_auth_5_a_right_password_judged_while_the_lock_is_set_gets_no_session(
    client, clock: ManualClock, db: Database, hashes: HashLog
) -> None:
    # Given a cloud account, and its right password whose hash is still running when 59 wrong
    # passwords arrive at once and all finish (so the fifth wrong one sets the lock meanwhile)
    await _cloud_account(client)
    judging, launched = asyncio.Event(), asyncio.Event()
    wrong: list[asyncio.Task[dict[str, Any]]] = []
    lock_seen: list[Any] = []

    async def hold_the_right_password() -> None:
        judging.set()
        await launched.wait()
        await asyncio.gather(*wrong)
        lock_seen.append((await _name_throttle(db))[1])

    hashes.gates[PASSWORD] = hold_the_right_password
    right = asyncio.create_task(_password_sign_in(client, "alice01"))
    await judging.wait()
    wrong.extend(asyncio.create_task(_password_sign_in(client, "alice01", f"Wrong-Guess-{i}!")) for i in range(59))
    launched.set()
    # When the right password's hash finishes after the lock was set
    result = await right
    # Then no session is issued: the lock is checked again before issuing one
    assert lock_seen == [clock.now() + timedelta(minutes=15)]
    assert _answers([result]) == [("TOO_MANY_ATTEMPTS", None, 900)]
    assert result["token"] is None
    assert await _session_rows(db) == []
    # And only five passwords were judged in all: the right one and four wrong ones
    assert len(hashes.judged) == 5
    assert sorted(_answers([await t for t in wrong])) == sorted(
        [("INVALID_CREDENTIALS", n, None) for n in (1, 2, 3)] + [("TOO_MANY_ATTEMPTS", None, 900)] * 56
    )


async def _portal_with_three_names(client: httpx.AsyncClient, clock: ManualClock) -> dict[str, Any]:
    """A portal account with a password, a username (pat0001) and an e-mail (pat@example.com)."""
    token, account = await _portal_with_password(client)
    chosen = await mutate(client, "accountUsernameSet", {"username": "pat0001"}, "account { username }", token)
    assert chosen["errors"] == []
    await _bind_email(client, clock, token, PHONE, "pat@example.com")
    return account


async def test_auth_5_phone_username_and_email_of_a_portal_account_share_one_budget(
    client, clock: ManualClock, db: Database, hashes: HashLog
) -> None:
    # Given a portal account that signs in with its phone, its username or its e-mail address
    await _portal_with_three_names(client, clock)
    sessions_before = len(await _session_rows(db))
    # When five wrong passwords are spread over its three names
    spread = [(PHONE, 2), ("pat0001", 2), ("pat@example.com", 1)]
    answers = [await _attempts(client, name, ["Wrong-Guess-1!"] * n) for name, n in spread]
    # Then each name counts its own tries in its answers, while the account's budget is spent
    assert [[e[0]["attemptsRemaining"] for e in a] for a in answers] == [[4, 3], [4, 3], [4]]
    assert len(hashes.judged) == 5
    # And now the right password is refused through every name, and never judged
    for name in (PHONE, "pat0001", "pat@example.com"):
        refused = await _password_sign_in(client, name)
        assert refused["errors"][0]["code"] == "INVALID_CREDENTIALS"
        assert refused["token"] is None
    assert len(hashes.judged) == 5
    assert len(await _session_rows(db)) == sessions_before
    # And the lock does not outlast its 15 minutes
    clock.advance(minutes=15)
    signed_in = await _password_sign_in(client, "pat@example.com")
    assert signed_in["errors"] == []


async def test_auth_5_a_locked_account_is_not_revealed_through_its_other_login_names(
    client, clock: ManualClock, hashes: HashLog
) -> None:
    # Given a portal account locked through its username by five wrong passwords
    await _portal_with_three_names(client, clock)
    locking = await _attempts(client, "pat0001", ["Wrong-Guess-1!"] * 5)
    assert locking[-1][0]["code"] == "TOO_MANY_ATTEMPTS"
    # When its phone, and a phone that names no account, each get the same six tries, the right
    # password of the account included
    tries = ["Wrong-Guess-2!", PASSWORD, "Wrong-Guess-3!", PASSWORD, "Wrong-Guess-4!", PASSWORD]
    before = len(hashes.judged) + hashes.dummies
    bound = await _attempts(client, PHONE, tries)
    hashes_bound = len(hashes.judged) + hashes.dummies - before
    unknown = await _attempts(client, OTHER_PHONE, tries)
    hashes_unknown = len(hashes.judged) + hashes.dummies - before - hashes_bound
    # Then the answers are identical word for word, with the same number of hashes: the phone's own
    # budget counts down and locks, and nothing tells that the phone's account is locked
    assert bound == unknown
    assert [e[0]["code"] for e in bound] == ["INVALID_CREDENTIALS"] * 4 + ["TOO_MANY_ATTEMPTS"] * 2
    assert [e[0]["attemptsRemaining"] for e in bound[:4]] == [4, 3, 2, 1]
    assert hashes_bound == hashes_unknown == 5
    # And no password was judged against the locked account
    assert len(hashes.judged) == 5


async def test_auth_5_unknown_and_known_names_answer_alike_when_the_account_budget_is_partly_spent(
    client, clock: ManualClock, hashes: HashLog
) -> None:
    # Given a portal account whose username already spent three of the account's five tries
    await _portal_with_three_names(client, clock)
    await _attempts(client, "pat0001", ["Wrong-Guess-1!"] * 3)
    # When its e-mail address, and an address that names no account, each get six wrong passwords
    tries = [f"Wrong-Guess-{i}!" for i in range(6)]
    known = await _attempts(client, "pat@example.com", tries)
    unknown = await _attempts(client, "ghost@example.com", tries)
    # Then the sequences are identical (the account locks after two of them, unseen)
    assert known == unknown
    assert [e[0]["attemptsRemaining"] for e in known[:4]] == [4, 3, 2, 1]
    assert [e[0]["code"] for e in known[4:]] == ["TOO_MANY_ATTEMPTS"] * 2
    # And only the tries within the account's budget were judged against its hash
    assert len(hashes.judged) == 5


async def test_auth_5_a_password_reset_ends_the_account_lock(client, clock: ManualClock) -> None:
    # Given a portal account locked through its username by five wrong passwords
    await _portal_with_three_names(client, clock)
    await _attempts(client, "pat0001", ["Wrong-Guess-1!"] * 5)
    assert (await _password_sign_in(client, PHONE))["token"] is None
    # When the owner resets the password with the code sent to the bound phone (REC-1)
    clock.advance(seconds=61)  # CODE-3: one code a minute
    started = await mutate(
        client, "passwordResetStart", {"loginName": PHONE, "botToken": "sandbox-pass"}, "passwordReset { ticket }"
    )
    assert started["errors"] == []
    code = await last_code(client, PHONE)
    done = await mutate(
        client,
        "passwordResetComplete",
        {"ticket": started["passwordReset"]["ticket"], "code": code, "newPassword": NEW_PASSWORD},
        "",
    )
    assert done == {"errors": []}
    # Then the new password signs in at once, through every login name
    for name in (PHONE, "pat0001", "pat@example.com"):
        assert (await _password_sign_in(client, name, NEW_PASSWORD))["errors"] == []


async def test_auth_5_an_ipv6_client_is_one_address_for_its_whole_slash_64(
    app, clock: ManualClock, db: Database
) -> None:
    # Given a real account, and 20 wrong passwords from 20 addresses of one IPv6 /64, each for another name
    async with _client_at(app, "2001:db8:7:1::1") as c:
        await _cloud_account(c)
    answers = []
    for i in range(20):
        async with _client_at(app, f"2001:db8:7:1:{i:x}::{i + 2:x}") as c:
            answers.append(await _password_sign_in(c, f"name{i:04d}", "Wrong-Password-1"))
    # Then the twentieth locks the whole /64: rotating addresses inside it does not reopen the budget
    assert _errors(answers[19]) == [("TOO_MANY_ATTEMPTS", ["input", "password"])]
    async with _client_at(app, "2001:db8:7:1:abcd::1") as c:
        assert _errors(await _password_sign_in(c, "alice01")) == [("TOO_MANY_ATTEMPTS", ["input", "password"])]
    assert await _session_rows(db) == []
    # But the next /64 signs in
    async with _client_at(app, "2001:db8:7:2::1") as c:
        assert (await _password_sign_in(c, "alice01"))["errors"] == []


def _client_at(app: Any, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://testserver")
