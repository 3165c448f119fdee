"""Two-factor authentication over the GraphQL API: the virtual MFA device, no replay, protections,
login protection and recovery codes. Codes are real RFC 6238 codes made with pyotp at the moved clock.

RULES: MFA-1 MFA-2 MFA-4 MFA-5 MFA-6 AUTH-6
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp
from sqlalchemy import select

from models.mfa import MfaDevice
from services.clock import ManualClock
from services.database import Database
from tests.helpers import (
    PASSWORD,
    gql,
    last_code,
    mutate,
    registered_and_signed_in,
    send_code,
    sign_in_answer,
    sign_in_result,
    step_up,
)

PHONE = "13700000001"
SECURITY = (
    "security { operationProtection { enabled factors } loginProtection { enabled factors } mfaDeviceBoundAt "
    "recoveryCodesLeft }"
)


def codes_of(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


def code_at(secret: str, clock: ManualClock, seconds: int = 0) -> str:
    return str(pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=seconds)))


async def security(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return (await gql(client, f"{{ viewer {{ {SECURITY} }} }}", token=token))["viewer"]["security"]


async def start_binding(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return await mutate(client, "mfaDeviceBindingStart", None, "binding { secret otpauthUri qrCodeSvg }", token)


async def bind(client: httpx.AsyncClient, token: str, clock: ManualClock) -> tuple[str, list[str]]:
    started = await start_binding(client, token)
    secret = started["binding"]["secret"]
    bound = await mutate(
        client,
        "mfaDeviceBind",
        {"firstCode": code_at(secret, clock, -30), "secondCode": code_at(secret, clock)},
        "recoveryCodes",
        token,
    )
    assert bound["errors"] == [], bound
    return secret, bound["recoveryCodes"]


async def totp_for_operations(client: httpx.AsyncClient, token: str) -> None:
    """Operation protection with SMS and TOTP, so TOTP step-ups are issued (MFA-1)."""
    done = await set_protections(client, token, await step_up(client, token, PHONE), (False, False), (True, True))
    assert done["errors"] == [], done


async def totp_step_up(client: httpx.AsyncClient, token: str, code: str, factor: str = "TOTP") -> dict[str, Any]:
    payload = await mutate(
        client, "operationChallengeVerify", {"factor": factor, "code": code}, "stepUpGrant { token factor }", token
    )
    assert (payload["stepUpGrant"] is None) == bool(payload["errors"]), payload
    return payload


async def set_protections(
    client: httpx.AsyncClient, token: str, grant: str | None, login: tuple[bool, bool], operation: tuple[bool, bool]
) -> dict[str, Any]:
    return await mutate(
        client,
        "securityProtectionsSet",
        {
            "loginProtection": {"sms": login[0], "totp": login[1]},
            "operationProtection": {"sms": operation[0], "totp": operation[1]},
            "stepUpToken": grant,
        },
        f"account {{ {SECURITY} }}",
        token,
    )


async def password_sign_in(client: httpx.AsyncClient, agent: str = "test-agent") -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($input: SessionCreateByPasswordInput!) { sessionCreateByPassword(input: $input) { "
            f"{sign_in_result()} errors {{ path message code retryAfter attemptsRemaining }} }} }}",
            "variables": {"input": {"loginName": "alice01", "password": PASSWORD}},
        },
        headers={"user-agent": agent},
    )
    return sign_in_answer(response.json()["data"]["sessionCreateByPassword"])


async def by_challenge(
    client: httpx.AsyncClient, challenge: str, factor: str, code: str, agent: str = "test-agent"
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($input: SessionCreateByChallengeInput!) { sessionCreateByChallenge(input: $input) { "
            f"{sign_in_result()} errors {{ path message code attemptsRemaining }} }} }}",
            "variables": {"input": {"token": challenge, "factor": factor, "code": code}},
        },
        headers={"user-agent": agent},
    )
    return sign_in_answer(response.json()["data"]["sessionCreateByChallenge"])


# --- MFA-4: binding ---------------------------------------------------------------------------------


async def test_mfa_4_a_device_is_bound_with_two_consecutive_codes(client, clock: ManualClock, db: Database) -> None:
    token = await registered_and_signed_in(client)
    started = (await start_binding(client, token))["binding"]
    uri = urlparse(started["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == "/Account%20Center:alice01"
    assert parse_qs(uri.query) == {"secret": [started["secret"]], "issuer": ["Account Center"]}
    assert started["qrCodeSvg"].startswith("data:image/svg+xml")
    secret = started["secret"]
    # Not consecutive, or the same code twice: nothing is bound
    for first, second in [
        (code_at(secret, clock, -60), code_at(secret, clock)),
        (code_at(secret, clock), code_at(secret, clock)),
    ]:
        refused = await mutate(
            client, "mfaDeviceBind", {"firstCode": first, "secondCode": second}, "recoveryCodes", token
        )
        assert codes_of(refused) == [("MFA_BIND_CODES_INVALID", ["input", "secondCode"])]
    assert (await security(client, token))["mfaDeviceBoundAt"] is None
    # Two consecutive codes bind it and answer ten recovery codes, once
    bound = await mutate(
        client,
        "mfaDeviceBind",
        {"firstCode": code_at(secret, clock, -30), "secondCode": code_at(secret, clock)},
        "recoveryCodes",
        token,
    )
    assert bound["errors"] == []
    assert len(set(bound["recoveryCodes"])) == 10
    state = await security(client, token)
    assert (state["mfaDeviceBoundAt"], state["recoveryCodesLeft"]) == (clock.now().isoformat(), 10)
    # At most one device; the secret is stored sealed
    assert codes_of(await start_binding(client, token)) == [("MFA_DEVICE_ALREADY_BOUND", None)]
    async with db.read_sessions() as s:
        device = (await s.scalars(select(MfaDevice))).one()
    assert secret not in device.secret_sealed


# --- MFA-5: no replay -----------------------------------------------------------------------------------


async def test_mfa_5_a_totp_code_is_accepted_once(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    await totp_for_operations(client, token)
    clock.advance(seconds=30)
    code = code_at(secret, clock)
    assert (await totp_step_up(client, token, code))["errors"] == []
    assert codes_of(await totp_step_up(client, token, code)) == [("TOTP_CODE_USED", ["input", "code"])]
    # The code of the step before the last accepted one is refused too; the next step's code works
    assert codes_of(await totp_step_up(client, token, code_at(secret, clock, -30))) == [
        ("TOTP_CODE_USED", ["input", "code"])
    ]
    clock.advance(seconds=30)
    assert (await totp_step_up(client, token, code_at(secret, clock)))["errors"] == []
    assert codes_of(await totp_step_up(client, token, "000000" if code != "000000" else "111111")) in (
        [("TOTP_CODE_INVALID", ["input", "code"])],
        [("TOTP_CODE_USED", ["input", "code"])],
    )


async def test_mfa_5_a_code_in_full_width_digits_is_malformed_and_uses_nothing(client, clock: ManualClock) -> None:
    # Given a bound device that protects operations
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    await totp_for_operations(client, token)
    clock.advance(seconds=30)
    code = code_at(secret, clock)
    # When the current code is sent in full-width digits (str.isdigit() accepts them; a code is ASCII)
    full_width = code.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    refused = await totp_step_up(client, token, full_width)
    # Then it is malformed, and the code is neither used nor counted: it still works
    assert codes_of(refused) == [("CODE_FORMAT_INVALID", ["input", "code"])]
    assert (await totp_step_up(client, token, code))["errors"] == []


async def test_mfa_5_ten_simultaneous_uses_of_one_code_accept_exactly_one(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    await totp_for_operations(client, token)
    clock.advance(seconds=30)
    code = code_at(secret, clock)
    results = await asyncio.gather(*(totp_step_up(client, token, code) for _ in range(10)))
    outcomes = sorted("ok" if r["errors"] == [] else r["errors"][0]["code"] for r in results)
    assert outcomes == ["TOTP_CODE_USED"] * 9 + ["ok"]


async def test_mfa_5_codes_one_step_either_side_are_accepted(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    await totp_for_operations(client, token)
    clock.advance(seconds=90)
    assert codes_of(await totp_step_up(client, token, code_at(secret, clock, -60))) == [
        ("TOTP_CODE_INVALID", ["input", "code"])
    ]
    assert (await totp_step_up(client, token, code_at(secret, clock, -30)))["errors"] == []
    assert (await totp_step_up(client, token, code_at(secret, clock, 30)))["errors"] == []


# --- MFA-1 / MFA-2: protections -----------------------------------------------------------------------


async def test_mfa_2_changing_protections_is_protected_and_totp_needs_a_device(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    assert codes_of(await set_protections(client, token, None, (False, False), (True, False))) == [
        ("STEP_UP_REQUIRED", ["input", "stepUpToken"])
    ]
    grant = await step_up(client, token, PHONE)
    assert codes_of(await set_protections(client, token, grant, (False, True), (True, False))) == [
        ("MFA_DEVICE_NOT_BOUND", ["input", "loginProtection", "totp"])
    ]
    # The refused change did not use the grant up
    changed = await set_protections(client, token, grant, (True, False), (True, False))
    assert changed["errors"] == []
    assert changed["account"]["security"]["loginProtection"] == {"enabled": True, "factors": ["SMS"]}


async def test_mfa_1_only_an_enabled_factor_passes_operation_protection(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    # Operation protection with TOTP only
    done = await set_protections(client, token, await step_up(client, token, PHONE), (False, False), (False, True))
    assert done["account"]["security"]["operationProtection"] == {"enabled": True, "factors": ["TOTP"]}
    # An SMS grant no longer passes it (MFA-1); a TOTP grant does
    clock.advance(seconds=61)
    sms_grant = await step_up(client, token, PHONE)
    refused = await set_protections(client, token, sms_grant, (False, False), (True, True))
    assert codes_of(refused) == [("STEP_UP_FACTOR_NOT_ALLOWED", ["input", "stepUpToken"])]
    clock.advance(seconds=30)
    totp_grant = (await totp_step_up(client, token, code_at(secret, clock)))["stepUpGrant"]["token"]
    both = await set_protections(client, token, totp_grant, (False, False), (True, True))
    assert both["account"]["security"]["operationProtection"] == {"enabled": True, "factors": ["SMS", "TOTP"]}


# --- AUTH-6: login protection ------------------------------------------------------------------------


async def _protected_login(client: httpx.AsyncClient, clock: ManualClock) -> tuple[str, str, list[str]]:
    token = await registered_and_signed_in(client)
    secret, recovery = await bind(client, token, clock)
    done = await set_protections(client, token, await step_up(client, token, PHONE), (True, True), (True, True))
    assert done["errors"] == []
    return token, secret, recovery


async def test_auth_6_a_right_password_gives_a_challenge_and_totp_gives_the_session(client, clock: ManualClock) -> None:
    _, secret, _ = await _protected_login(client, clock)
    signed = await password_sign_in(client)
    assert signed["token"] is None
    challenge = signed["challenge"]
    assert challenge["factors"] == ["SMS", "TOTP", "RECOVERY_CODE"]
    assert challenge["phoneMasked"] == "137****0001"
    assert challenge["expiresAt"] == (clock.now() + timedelta(minutes=5)).isoformat()
    clock.advance(seconds=30)
    session = await by_challenge(client, challenge["token"], "TOTP", code_at(secret, clock))
    assert session["errors"] == []
    assert (await gql(client, "{ viewer { username } }", token=session["token"]))["viewer"] == {"username": "alice01"}
    # The challenge is used up
    again = await by_challenge(client, challenge["token"], "TOTP", code_at(secret, clock, 30))
    assert codes_of(again) == [("LOGIN_CHALLENGE_INVALID", ["input", "token"])]


async def test_auth_6_sms_and_recovery_codes_pass_the_challenge(client, clock: ManualClock) -> None:
    _, _, recovery = await _protected_login(client, clock)
    challenge = (await password_sign_in(client))["challenge"]["token"]
    other = await mutate(client, "loginChallengeCodeSend", {"token": challenge}, "sentCode { sentTo }", None)
    assert codes_of(other) == [("LOGIN_CHALLENGE_INVALID", ["input", "token"])]  # another client (user agent)
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($t: String!) { loginChallengeCodeSend(input: {token: $t}) { sentCode { sentTo } "
            "errors { code } } }",
            "variables": {"t": challenge},
        },
        headers={"user-agent": "test-agent"},
    )
    assert response.json()["data"]["loginChallengeCodeSend"] == {"sentCode": {"sentTo": "137****0001"}, "errors": []}
    session = await by_challenge(client, challenge, "SMS", await last_code(client, PHONE))
    assert session["errors"] == []
    # A recovery code works once
    challenge = (await password_sign_in(client))["challenge"]["token"]
    assert (await by_challenge(client, challenge, "RECOVERY_CODE", recovery[0]))["errors"] == []
    challenge = (await password_sign_in(client))["challenge"]["token"]
    assert codes_of(await by_challenge(client, challenge, "RECOVERY_CODE", recovery[0])) == [
        ("RECOVERY_CODE_INVALID", ["input", "code"])
    ]


async def test_auth_6_the_challenge_is_bound_to_the_client_expires_and_allows_five_wrong_codes(
    client, clock: ManualClock
) -> None:
    _, secret, _ = await _protected_login(client, clock)
    challenge = (await password_sign_in(client))["challenge"]["token"]
    other_client = await by_challenge(client, challenge, "TOTP", code_at(secret, clock, 30), agent="another-browser")
    assert codes_of(other_client) == [("LOGIN_CHALLENGE_INVALID", ["input", "token"])]
    for i in range(5):
        wrong = await by_challenge(client, challenge, "TOTP", "000000" if i % 2 else "999999")
        assert wrong["errors"][0]["attemptsRemaining"] == 4 - i
    assert codes_of(await by_challenge(client, challenge, "TOTP", code_at(secret, clock, 30))) == [
        ("LOGIN_CHALLENGE_ATTEMPTS_EXHAUSTED", ["input", "token"])
    ]
    late = (await password_sign_in(client))["challenge"]["token"]
    clock.advance(minutes=5)
    assert codes_of(await by_challenge(client, late, "TOTP", code_at(secret, clock))) == [
        ("LOGIN_CHALLENGE_EXPIRED", ["input", "token"])
    ]


# --- MFA-6: unbinding ---------------------------------------------------------------------------------


async def test_mfa_6_unbinding_needs_a_current_code_and_a_step_up(client, clock: ManualClock, db: Database) -> None:
    token, secret, _ = await _protected_login(client, clock)
    clock.advance(seconds=30)
    no_grant = await mutate(
        client, "mfaDeviceUnbind", {"code": code_at(secret, clock)}, f"account {{ {SECURITY} }}", token
    )
    assert codes_of(no_grant) == [("STEP_UP_REQUIRED", ["input", "stepUpToken"])]
    clock.advance(seconds=31)
    grant = await step_up(client, token, PHONE)
    wrong = await mutate(
        client, "mfaDeviceUnbind", {"code": "000000", "stepUpToken": grant}, f"account {{ {SECURITY} }}", token
    )
    assert wrong["errors"][0]["code"] in {"TOTP_CODE_INVALID", "TOTP_CODE_USED"}
    assert (await security(client, token))["mfaDeviceBoundAt"] is not None
    done = await mutate(
        client,
        "mfaDeviceUnbind",
        {"code": code_at(secret, clock), "stepUpToken": grant},
        f"account {{ {SECURITY} }}",
        token,
    )
    assert done["errors"] == []
    # Login protection continues with SMS; the device and its recovery codes are gone
    assert done["account"]["security"] == {
        "operationProtection": {"enabled": True, "factors": ["SMS"]},
        "loginProtection": {"enabled": True, "factors": ["SMS"]},
        "mfaDeviceBoundAt": None,
        "recoveryCodesLeft": 0,
    }
    async with db.read_sessions() as s:
        assert (await s.scalars(select(MfaDevice))).first() is None


async def test_mfa_2_regenerating_recovery_codes_is_protected_and_voids_the_old_ones(
    client, clock: ManualClock
) -> None:
    token, _, old = await _protected_login(client, clock)
    challenge = (await password_sign_in(client))["challenge"]["token"]
    assert (await by_challenge(client, challenge, "RECOVERY_CODE", old[1]))["errors"] == []
    assert (await security(client, token))["recoveryCodesLeft"] == 9
    clock.advance(seconds=61)
    grant = await step_up(client, token, PHONE)
    fresh = await mutate(
        client,
        "mfaRecoveryCodesRegenerate",
        {"stepUpToken": grant},
        "recoveryCodes account { security { recoveryCodesLeft } }",
        token,
    )
    assert len(fresh["recoveryCodes"]) == 10
    # The account comes back as it is now, so a client's cached viewer updates
    assert fresh["account"]["security"] == {"recoveryCodesLeft": 10}
    assert not set(fresh["recoveryCodes"]) & set(old)
    challenge = (await password_sign_in(client))["challenge"]["token"]
    assert codes_of(await by_challenge(client, challenge, "RECOVERY_CODE", old[0])) == [
        ("RECOVERY_CODE_INVALID", ["input", "code"])
    ]
    assert (await by_challenge(client, challenge, "RECOVERY_CODE", fresh["recoveryCodes"][0]))["errors"] == []


async def test_mfa_6_a_recovery_code_unbinds_a_lost_device_without_an_appeal(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    _, recovery = await bind(client, token, clock)
    done = await set_protections(client, token, await step_up(client, token, PHONE), (False, True), (True, False))
    assert done["account"]["security"]["loginProtection"] == {"enabled": True, "factors": ["TOTP"]}
    clock.advance(seconds=61)
    grant = await step_up(client, token, PHONE)
    unbound = await mutate(
        client, "mfaDeviceUnbind", {"code": recovery[3], "stepUpToken": grant}, f"account {{ {SECURITY} }}", token
    )
    assert unbound["errors"] == []
    # Login protection had only TOTP: it is off now, so the password alone signs in
    assert unbound["account"]["security"]["loginProtection"] == {"enabled": False, "factors": []}
    signed = await password_sign_in(client)
    assert signed["token"] is not None
    assert signed["challenge"] is None


async def test_mfa_6_unbinding_without_a_device_is_refused(client) -> None:
    token = await registered_and_signed_in(client)
    grant = await step_up(client, token, PHONE)
    refused = await mutate(client, "mfaDeviceUnbind", {"code": "123456", "stepUpToken": grant}, "account { id }", token)
    assert codes_of(refused) == [("MFA_DEVICE_NOT_BOUND", ["input", "code"])]


async def test_mfa_5_five_wrong_codes_lock_the_totp_factor_for_15_minutes(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    await totp_for_operations(client, token)
    clock.advance(seconds=30)
    good = code_at(secret, clock)
    wrong = "000000" if good != "000000" else "111111"
    for left in (4, 3, 2, 1):
        refused = await totp_step_up(client, token, wrong)
        assert (refused["errors"][0]["code"], refused["errors"][0]["attemptsRemaining"]) == ("TOTP_CODE_INVALID", left)
    locked = await totp_step_up(client, token, wrong)
    assert codes_of(locked) == [("TOO_MANY_ATTEMPTS", ["input", "code"])]
    assert locked["errors"][0]["retryAfter"] == 15 * 60
    # Even the right code waits for the lock to end
    assert codes_of(await totp_step_up(client, token, good)) == [("TOO_MANY_ATTEMPTS", ["input", "code"])]
    clock.advance(minutes=15)
    token = await _sign_in_again(client)
    assert (await totp_step_up(client, token, code_at(secret, clock)))["errors"] == []


async def _sign_in_again(client: httpx.AsyncClient) -> str:
    from tests.helpers import sign_in

    return await sign_in(client, "alice01")


async def test_auth_6_sms_sign_in_does_not_bypass_a_totp_only_login_protection(client, clock: ManualClock) -> None:
    from tests.helpers import sms_sign_in

    portal = "13900000088"
    token = (await sms_sign_in(client, portal))["token"]
    secret, _ = await bind(client, token, clock)
    clock.advance(seconds=61)
    done = await set_protections(client, token, await step_up(client, token, portal), (False, True), (True, False))
    assert done["errors"] == []
    clock.advance(seconds=61)
    await send_code(client, "LOGIN", phone=portal)
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($p: String!, $c: String!) { sessionCreateBySmsCode(input: {phone: $p, code: $c}) { "
            f"{sign_in_result()} errors {{ code }} }} }}",
            "variables": {"p": portal, "c": await last_code(client, portal)},
        },
        headers={"user-agent": "test-agent"},
    )
    signed = sign_in_answer(response.json()["data"]["sessionCreateBySmsCode"])
    # The SMS code is not the enabled factor: a TOTP challenge, no session
    assert signed["token"] is None
    assert signed["challenge"]["factors"] == ["TOTP", "RECOVERY_CODE"]
    clock.advance(seconds=30)
    session = await by_challenge(client, signed["challenge"]["token"], "TOTP", code_at(secret, clock))
    assert session["errors"] == []
    assert session["token"] is not None


async def test_mfa_6_unbinding_works_when_operation_protection_asks_for_totp_only(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    done = await set_protections(client, token, await step_up(client, token, PHONE), (False, False), (False, True))
    assert done["errors"] == []
    clock.advance(seconds=30)
    grant = (await totp_step_up(client, token, code_at(secret, clock)))["stepUpGrant"]["token"]
    clock.advance(seconds=30)
    unbound = await mutate(
        client,
        "mfaDeviceUnbind",
        {"code": code_at(secret, clock), "stepUpToken": grant},
        f"account {{ {SECURITY} }}",
        token,
    )
    assert unbound["errors"] == []
    assert unbound["account"]["security"]["operationProtection"] == {"enabled": True, "factors": ["SMS"]}


async def test_mfa_5_twenty_concurrent_wrong_codes_are_counted_five_times(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    secret, _ = await bind(client, token, clock)
    await totp_for_operations(client, token)
    clock.advance(seconds=30)
    good = code_at(secret, clock)
    wrong = "000000" if good != "000000" else "111111"
    results = await asyncio.gather(
        *(totp_step_up(client, token, wrong) for _ in range(20)), totp_step_up(client, token, good)
    )
    codes = [r["errors"][0]["code"] if r["errors"] else "ok" for r in results]
    assert codes.count("TOTP_CODE_INVALID") <= 4
    assert codes.count("TOTP_CODE_INVALID") + codes.count("TOO_MANY_ATTEMPTS") + codes.count("ok") == 21
    # Once five wrong codes were counted, even the right code waits for the lock
    assert codes.count("ok") <= 1
    assert codes_of(await totp_step_up(client, token, code_at(secret, clock, 30))) == [
        ("TOO_MANY_ATTEMPTS", ["input", "code"])
    ]


async def test_auth_6_guesses_at_sign_in_do_not_lock_the_owners_step_ups(client, clock: ManualClock) -> None:
    token, secret, _ = await _protected_login(client, clock)
    for _ in range(5):
        challenge = (await password_sign_in(client))["challenge"]["token"]
        await by_challenge(client, challenge, "TOTP", "000000" if code_at(secret, clock) != "000000" else "111111")
    clock.advance(seconds=30)
    assert (await totp_step_up(client, token, code_at(secret, clock)))["errors"] == []


async def test_mfa_1_a_totp_grant_needs_totp_enabled_for_operations_and_spends_nothing(
    client, clock: ManualClock
) -> None:
    token = await registered_and_signed_in(client)
    secret, recovery = await bind(client, token, clock)
    clock.advance(seconds=30)
    refused = await totp_step_up(client, token, code_at(secret, clock))
    assert codes_of(refused) == [("FACTOR_NOT_ENABLED", ["input", "factor"])]
    by_recovery = await totp_step_up(client, token, recovery[0], "RECOVERY_CODE")
    assert codes_of(by_recovery) == [("FACTOR_NOT_ENABLED", ["input", "factor"])]
    assert (await security(client, token))["recoveryCodesLeft"] == 10
    # The same code still works once TOTP is enabled
    await totp_for_operations(client, token)
    assert (await totp_step_up(client, token, code_at(secret, clock)))["errors"] == []


# --- issue 12: input problems together, stateless before stateful, payload shapes -------------------------


async def test_mfa_4_two_malformed_binding_codes_come_back_together_and_bind_nothing(
    client, clock: ManualClock
) -> None:
    # Given a started binding
    token = await registered_and_signed_in(client)
    secret = (await start_binding(client, token))["binding"]["secret"]
    # When both codes are malformed
    refused = await mutate(
        client, "mfaDeviceBind", {"firstCode": "12345", "secondCode": "12ab56"}, "recoveryCodes account { id }", token
    )
    # Then both are reported at once, each on its field, and nothing is bound
    assert codes_of(refused) == [
        ("CODE_FORMAT_INVALID", ["input", "firstCode"]),
        ("CODE_FORMAT_INVALID", ["input", "secondCode"]),
    ]
    assert (refused["recoveryCodes"], refused["account"]) == (None, None)
    assert (await security(client, token))["mfaDeviceBoundAt"] is None
    # And the pending binding is untouched: two consecutive codes bind it, and the account comes back bound
    bound = await mutate(
        client,
        "mfaDeviceBind",
        {"firstCode": code_at(secret, clock, -30), "secondCode": code_at(secret, clock)},
        f"recoveryCodes account {{ {SECURITY} }}",
        token,
    )
    assert bound["errors"] == []
    assert bound["account"]["security"]["mfaDeviceBoundAt"] == clock.now().isoformat()
    assert bound["account"]["security"]["recoveryCodesLeft"] == len(bound["recoveryCodes"]) == 10


async def test_mfa_2_mfa_4_totp_for_both_protections_without_a_device_marks_both_switches(client) -> None:
    # Given an account without a device, and a step-up grant
    token = await registered_and_signed_in(client)
    grant = await step_up(client, token, PHONE)
    # When both protections are asked to use TOTP
    refused = await set_protections(client, token, grant, (True, True), (True, True))
    # Then each switch that needs the device is marked, and nothing changed
    assert codes_of(refused) == [
        ("MFA_DEVICE_NOT_BOUND", ["input", "loginProtection", "totp"]),
        ("MFA_DEVICE_NOT_BOUND", ["input", "operationProtection", "totp"]),
    ]
    assert refused["account"] is None
    assert (await security(client, token))["loginProtection"] == {"enabled": False, "factors": []}
    # And the grant was not used up
    assert (await set_protections(client, token, grant, (True, False), (True, False)))["errors"] == []


async def test_mfa_2_regenerating_recovery_codes_without_a_device_is_refused_for_the_request_as_a_whole(
    client,
) -> None:
    token = await registered_and_signed_in(client)
    grant = await step_up(client, token, PHONE)
    refused = await mutate(
        client, "mfaRecoveryCodesRegenerate", {"stepUpToken": grant}, "recoveryCodes account { id }", token
    )
    # Its input names no factor: the refusal has no path
    assert codes_of(refused) == [("MFA_DEVICE_NOT_BOUND", None)]
    assert (refused["recoveryCodes"], refused["account"]) == (None, None)


async def test_mfa_1_mfa_6_a_malformed_code_is_refused_before_anything_about_the_account(client) -> None:
    # Given an account without a device (TOTP is not enabled, no step-up grant is held)
    token = await registered_and_signed_in(client)
    # When a step-up or an unbinding gets a code malformed for its factor
    answers = [
        await totp_step_up(client, token, "12ab56"),
        await totp_step_up(client, token, "123456", "RECOVERY_CODE"),
        await mutate(
            client, "operationChallengeVerify", {"factor": "SMS", "code": "1234567"}, "stepUpGrant { token }", token
        ),
        await mutate(client, "mfaDeviceUnbind", {"code": "12ab56"}, "account { id }", token),
    ]
    # Then the format is what comes back, alone, on the code
    assert [codes_of(a) for a in answers] == [[("CODE_FORMAT_INVALID", ["input", "code"])]] * 4
    # And well-formed codes meet the state-dependent refusals
    assert codes_of(await totp_step_up(client, token, "123456")) == [("MFA_DEVICE_NOT_BOUND", ["input", "factor"])]
    unbind = await mutate(client, "mfaDeviceUnbind", {"code": "123456"}, "account { id }", token)
    assert codes_of(unbind) == [("STEP_UP_REQUIRED", ["input", "stepUpToken"])]


async def test_auth_6_a_code_malformed_for_its_factor_is_no_guess_at_the_challenge(client, clock: ManualClock) -> None:
    # Given a pending protected sign-in
    _, secret, recovery = await _protected_login(client, clock)
    challenge = (await password_sign_in(client))["challenge"]["token"]
    # When codes malformed for their factor are given, to it and to a token that is no challenge
    malformed = [
        await by_challenge(client, challenge, "RECOVERY_CODE", "123456"),
        await by_challenge(client, challenge, "TOTP", recovery[0]),
        await by_challenge(client, challenge, "SMS", "12ab56"),
        await by_challenge(client, "lch_unknown", "TOTP", "12ab56"),
    ]
    # Then each is refused on its format alone, before the challenge is looked up
    assert [codes_of(a) for a in malformed] == [[("CODE_FORMAT_INVALID", ["input", "code"])]] * 4
    # And none was counted: the first wrong code still leaves four tries
    good = code_at(secret, clock)
    wrong = await by_challenge(client, challenge, "TOTP", "000000" if good != "000000" else "111111")
    assert wrong["errors"][0]["attemptsRemaining"] == 4


async def test_auth_6_a_protected_sign_in_answers_the_login_challenge_member_of_the_result(
    client, clock: ManualClock
) -> None:
    # Given login protection with SMS and TOTP
    await _protected_login(client, clock)
    # When the right password is given
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($input: SessionCreateByPasswordInput!) { sessionCreateByPassword(input: $input) { "
            "result { __typename ... on SignedIn { token } ... on LoginChallenge { factors phoneMasked "
            "attemptsRemaining } } errors { code } } }",
            "variables": {"input": {"loginName": "alice01", "password": PASSWORD}},
        },
        headers={"user-agent": "test-agent"},
    )
    # Then the result is a LoginChallenge (no session token anywhere), with no errors
    assert response.json()["data"]["sessionCreateByPassword"] == {
        "result": {
            "__typename": "LoginChallenge",
            "factors": ["SMS", "TOTP", "RECOVERY_CODE"],
            "phoneMasked": "137****0001",
            "attemptsRemaining": 5,
        },
        "errors": [],
    }


async def test_mfa_4_binding_start_may_leave_out_its_input_and_echoes_a_client_mutation_id(client) -> None:
    token = await registered_and_signed_in(client)
    tagged = await mutate(
        client, "mfaDeviceBindingStart", {"clientMutationId": "bind-1"}, "clientMutationId binding { secret }", token
    )
    assert (tagged["clientMutationId"], tagged["errors"]) == ("bind-1", [])
    assert len(tagged["binding"]["secret"]) >= 16
    signed_out = await mutate(
        client, "mfaDeviceBindingStart", {"clientMutationId": "bind-2"}, "clientMutationId binding { secret }", None
    )
    assert (signed_out["clientMutationId"], signed_out["binding"]) == ("bind-2", None)
    assert codes_of(signed_out) == [("AUTHENTICATION_REQUIRED", None)]
