"""REG-1..7: account kinds, registration, portal accounts and activation, through GraphQL."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from models.accounts import Account, AgreementAcceptance, PhoneQuota, RetiredUsername
from models.codes import OneTimeCode
from services.clock import ManualClock
from services.database import Database
from services.security import keyed_hash
from settings import Settings
from tests.helpers import (
    AGREEMENTS,
    PASSWORD,
    gql,
    last_code,
    mutate,
    outbox,
    register,
    send_code,
    sign_in,
    sign_in_answer,
    sign_in_result,
    sms_sign_in,
    step_up,
    watched_strength,
)

PHONE = "13700000001"
PHONE_E164 = "+8613700000001"
OTHER_PHONE = "13900000002"

VIEWER = """
query {
  viewer {
    id kind accountId activationRequired username phone hasPassword activatedAt
    agreementAcceptances { kind version context acceptedAt }
  }
}
"""
ACCOUNT = "account { id accountId username kind activationRequired hasPassword activatedAt }"
# What a registration answers its signed-out caller (REG-6): the new account's ID and username, no more.
REGISTERED = "account { accountId username }"


# --- local helpers -----------------------------------------------------------------------------


async def _insert_codes(
    db: Database, settings: Settings, clock: ManualClock, phone_e164: str, purpose: str, n: int
) -> list[str]:
    """n valid, distinct codes for one phone and purpose, written straight into `one_time_codes`.

    Sending is rate-limited (60 s gap, daily cap, a new code voids the last), so tests that need many
    live codes at once create them here, hashed the way services/codes/service.py hashes them.
    """
    codes = [f"{100000 + i * 7919 % 900000:06d}" for i in range(n)]
    assert len(set(codes)) == n
    now = clock.now()
    async with db.write_sessions() as s:
        s.add_all(
            OneTimeCode(
                channel="sms",
                destination=phone_e164,
                purpose=purpose,
                code_hash=keyed_hash(settings.secret_key, f"code:{code}"),
                attempts=0,
                created_at=now,
                expires_at=now + timedelta(minutes=5),
            )
            for code in codes
        )
        await s.commit()
    return codes


async def _register_with(
    client: httpx.AsyncClient,
    username: str,
    code: str,
    *,
    phone: str = PHONE,
    password: str = PASSWORD,
    agreements: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return await mutate(
        client,
        "accountRegister",
        {
            "username": username,
            "password": password,
            "phone": phone,
            "code": code,
            "agreements": AGREEMENTS if agreements is None else agreements,
        },
        REGISTERED,
    )


def _errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


async def _accounts(db: Database) -> list[Account]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(Account).order_by(Account.id)))


async def _cloud_quota(db: Database, phone_e164: str = PHONE_E164) -> int | None:
    async with db.read_sessions() as s:
        return await s.scalar(select(PhoneQuota.cloud_accounts).where(PhoneQuota.phone == phone_e164))


async def _consumed_codes(db: Database) -> int:
    async with db.read_sessions() as s:
        return int(
            await s.scalar(select(func.count()).select_from(OneTimeCode).where(OneTimeCode.consumed_at.is_not(None)))
            or 0
        )


async def _viewer(client: httpx.AsyncClient, token: str) -> dict[str, Any] | None:
    return (await gql(client, VIEWER, token=token))["viewer"]


async def _activate(client: httpx.AsyncClient, token: str, agreements: list[dict[str, str]]) -> dict[str, Any]:
    return await mutate(client, "accountActivate", {"agreements": agreements}, ACCOUNT, token)


# --- REG-1: two kinds of login account ----------------------------------------------------------


async def test_reg_1_registration_creates_a_cloud_account_that_signs_in_with_username_and_password(client) -> None:
    # Given a cloud account registered with a username, a password and a phone
    result = await register(client, "alice01", PHONE)
    assert result["errors"] == []
    assert result["account"]["username"] == "alice01"
    assert re.fullmatch(r"\d{16}", result["account"]["accountId"])  # REG-6: at registration
    # When it signs in with the username and the password
    token = await sign_in(client, "alice01")
    # Then the session belongs to the cloud account, which has a password
    viewer = await _viewer(client, token)
    assert viewer is not None
    assert (viewer["kind"], viewer["username"], viewer["hasPassword"], viewer["phone"]) == (
        "CLOUD",
        "alice01",
        True,
        PHONE_E164,
    )
    assert viewer["accountId"] == result["account"]["accountId"]


async def test_reg_1_sms_sign_in_gives_a_portal_account_keyed_by_the_phone(client, db: Database) -> None:
    # Given a phone with no account
    # When it signs in with an SMS code
    result = await sms_sign_in(client, PHONE)
    # Then a portal account keyed by that phone exists, without username or password
    assert result["errors"] == []
    assert result["accountCreated"] is True
    assert result["account"]["kind"] == "PORTAL"
    viewer = await _viewer(client, result["token"])
    assert viewer is not None
    assert (viewer["kind"], viewer["username"], viewer["hasPassword"], viewer["phone"]) == (
        "PORTAL",
        None,
        False,
        PHONE_E164,
    )
    [account] = await _accounts(db)
    assert (account.kind, account.phone, account.username, account.password_hash) == (
        "portal",
        PHONE_E164,
        None,
        None,
    )


async def test_reg_1_one_phone_can_hold_a_cloud_and_a_portal_account_which_stay_separate(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a cloud account on a phone
    cloud = await register(client, "alice01", PHONE)
    assert cloud["errors"] == []
    # When the same phone signs in by SMS
    portal = await sms_sign_in(client, PHONE)
    # Then a separate portal account is created; the cloud account is untouched
    assert portal["errors"] == []
    assert portal["accountCreated"] is True
    assert portal["account"]["accountId"] != cloud["account"]["accountId"]
    assert sorted(a.kind for a in await _accounts(db)) == ["cloud", "portal"]
    assert (await _viewer(client, await sign_in(client, "alice01")))["kind"] == "CLOUD"


# --- REG-2: unique usernames, forever -------------------------------------------------------------


async def test_reg_2_username_is_unique_case_insensitively(client, clock: ManualClock, db: Database) -> None:
    # Given alice01 registered on one phone, and a registration code for another phone
    assert (await register(client, "alice01", PHONE))["errors"] == []
    await send_code(client, "REGISTRATION", phone=OTHER_PHONE)
    code = await last_code(client, OTHER_PHONE)
    # When ALICE01 and Alice01 are asked for
    for tries_left, name in zip((4, 3, 2), ("alice01", "ALICE01", "Alice01"), strict=True):
        refused = await _register_with(client, name, code, phone=OTHER_PHONE)
        # Then each is refused as taken, costing one of the code's tries, and nothing was created
        assert _errors(refused) == [("USERNAME_TAKEN", ["input", "username"])]
        assert refused["errors"][0]["attemptsRemaining"] == tries_left
        assert refused["account"] is None
    assert len(await _accounts(db)) == 1
    assert await _cloud_quota(db, "+8613900000002") is None
    # And the refusals consumed no code: the same code registers another name
    assert (await _register_with(client, "bob0001", code, phone=OTHER_PHONE))["errors"] == []


async def test_reg_2_username_of_a_cancelled_account_can_never_be_registered_again(
    client, clock: ManualClock, db: Database
) -> None:
    # Given the username OldName1 was retired when its account was cancelled (CAN-5)
    async with db.write_sessions() as s:
        s.add(RetiredUsername(username_key="oldname1", retired_at=clock.now() - timedelta(days=400)))
        await s.commit()
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    # When it is registered again, in any case
    for name in ("oldname1", "OldName1", "OLDNAME1"):
        refused = await _register_with(client, name, code)
        # Then it is refused as taken and no account exists
        assert _errors(refused) == [("USERNAME_TAKEN", ["input", "username"])]
        assert refused["account"] is None
    assert await _accounts(db) == []
    assert await _consumed_codes(db) == 0


async def test_reg_2_username_chosen_by_a_portal_account_is_taken_for_registration(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a portal account that chose the username carol01
    portal = await sms_sign_in(client, OTHER_PHONE)
    chosen = await mutate(client, "accountUsernameSet", {"username": "carol01"}, ACCOUNT, portal["token"])
    assert chosen["errors"] == []
    # When a cloud account asks for Carol01
    await send_code(client, "REGISTRATION", phone=PHONE)
    refused = await _register_with(client, "Carol01", await last_code(client, PHONE))
    # Then it is taken across account kinds
    assert _errors(refused) == [("USERNAME_TAKEN", ["input", "username"])]
    assert [a.kind for a in await _accounts(db)] == ["portal"]


async def test_reg_2_concurrent_registrations_of_one_username_create_one_account(
    client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given valid registration codes for two phones
    [first_code] = await _insert_codes(db, settings, clock, PHONE_E164, "REGISTRATION", 1)
    [second_code] = await _insert_codes(db, settings, clock, "+8613900000002", "REGISTRATION", 1)
    # When both register the same username (in different cases) at once
    results = await asyncio.gather(
        _register_with(client, "alice01", first_code),
        _register_with(client, "ALICE01", second_code, phone=OTHER_PHONE),
    )
    # Then exactly one account is created; the other is refused as taken
    assert sorted(len(r["errors"]) for r in results) == [0, 1]
    [refused] = [r for r in results if r["errors"]]
    assert _errors(refused) == [("USERNAME_TAKEN", ["input", "username"])]
    assert refused["account"] is None
    [account] = await _accounts(db)
    assert account.username_key == "alice01"
    assert await _consumed_codes(db) == 1


async def test_reg_2_two_portal_accounts_choosing_one_username_at_once_get_it_once(client, db: Database) -> None:
    # Given two portal accounts
    first = (await sms_sign_in(client, PHONE))["token"]
    second = (await sms_sign_in(client, OTHER_PHONE))["token"]
    # When both set the same username (in different cases) at once
    query = "mutation($u: String!) { accountUsernameSet(input: {username: $u}) { account { username } errors { code path } } }"
    results = await asyncio.gather(
        gql(client, query, {"u": "alice01"}, first), gql(client, query, {"u": "Alice01"}, second)
    )
    # Then exactly one has it; the other is told it is taken
    payloads = [r["accountUsernameSet"] for r in results]
    assert sorted(len(p["errors"]) for p in payloads) == [0, 1]
    assert [p["errors"] for p in payloads if p["errors"]] == [
        [{"code": "USERNAME_TAKEN", "path": ["input", "username"]}]
    ]
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Account).where(Account.username_key == "alice01")) == 1


@pytest.mark.parametrize("username", ["abc", "1abcdef", "a" * 33, "ab cd", "al!ce01", ""])
async def test_reg_2_malformed_username_is_refused_before_anything_is_counted(
    client, db: Database, username: str
) -> None:
    # Given a registration code
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    # When a malformed username is asked for
    refused = await _register_with(client, username, code)
    # Then it is refused on the username field, and the code still works
    assert _errors(refused) == [("INVALID_USERNAME", ["input", "username"])]
    assert await _accounts(db) == []
    assert (await _register_with(client, "alice01", code))["errors"] == []


async def _code_row(db: Database, phone_e164: str = PHONE_E164) -> OneTimeCode:
    async with db.read_sessions() as s:
        return (await s.scalars(select(OneTimeCode).where(OneTimeCode.destination == phone_e164))).one()


@pytest.mark.parametrize("code_sent", [True, False])
async def test_reg_2_taken_username_is_not_told_without_a_right_code(client, db: Database, code_sent: bool) -> None:
    # Given alice01 registered on another phone, and (or not) a registration code sent to PHONE
    assert (await register(client, "alice01", OTHER_PHONE))["errors"] == []
    if code_sent:
        await send_code(client, "REGISTRATION", phone=PHONE)
        wrong = "000000" if await last_code(client, PHONE) != "000000" else "111111"
    else:
        wrong = "123456"
    # When the taken name and a free name are each tried with a wrong code
    taken = await _register_with(client, "alice01", wrong)
    free = await _register_with(client, "bob0001", wrong)
    # Then both get the wrong-code answer, field and message alike: the name's state is not told
    assert _errors(taken) == _errors(free) == [("CODE_INVALID", ["input", "code"])]
    assert [e["message"] for e in taken["errors"]] == [
        "The code is not correct; 4 tries left." if code_sent else "The code is not valid; request a new one."
    ]
    # And each guess cost a try of the code (none to count when no code was sent), and nothing was created
    tries = [r["errors"][0]["attemptsRemaining"] for r in (taken, free)]
    assert tries == ([4, 3] if code_sent else [0, 0])
    if code_sent:
        assert (await _code_row(db)).attempts == 2
    assert [a.username for a in await _accounts(db)] == ["alice01"]


async def test_reg_2_one_code_answers_at_most_five_taken_usernames(client, clock: ManualClock, db: Database) -> None:
    # Given five taken usernames and a right registration code for PHONE
    for i in range(5):
        assert (await register(client, f"taken{i:03d}", OTHER_PHONE))["errors"] == []
        clock.advance(seconds=60)
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    # When the five names are probed with the right code
    probes = [await _register_with(client, f"taken{i:03d}", code) for i in range(5)]
    # Then each is told taken, and each costs one of the code's five tries
    assert [_errors(p) for p in probes] == [[("USERNAME_TAKEN", ["input", "username"])]] * 5
    assert [p["errors"][0]["attemptsRemaining"] for p in probes] == [4, 3, 2, 1, 0]
    assert probes[-1]["errors"][0]["message"] == (
        "This username is not available; the code is now void; request a new one."
    )
    # And the code is then void: a sixth name, taken or free, is answered only as an exhausted code
    for name in ("taken000", "free0001"):
        sixth = await _register_with(client, name, code)
        assert _errors(sixth) == [("CODE_ATTEMPTS_EXHAUSTED", ["input", "code"])]
    row = await _code_row(db)
    assert (row.attempts, row.consumed_at) == (5, None)
    assert len(await _accounts(db)) == 5


@pytest.mark.slow
async def test_reg_2_sixty_simultaneous_probes_with_one_code_get_five_taken_answers(
    client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given a taken username and one right registration code for PHONE
    assert (await register(client, "alice01", OTHER_PHONE))["errors"] == []
    [code] = await _insert_codes(db, settings, clock, PHONE_E164, "REGISTRATION", 1)
    # When 60 registrations of taken names (in varied case) use the code at once
    names = ["".join(c.upper() if (i >> k) & 1 else c for k, c in enumerate("alice01")) for i in range(60)]
    results = await asyncio.gather(*[_register_with(client, name, code) for name in names])
    # Then exactly five are told the name is taken; the rest find the code void
    answers = [_errors(r) for r in results]
    assert answers.count([("USERNAME_TAKEN", ["input", "username"])]) == 5
    assert answers.count([("CODE_ATTEMPTS_EXHAUSTED", ["input", "code"])]) == 55
    row = await _code_row(db)
    assert (row.attempts, row.consumed_at) == (5, None)
    assert [a.username for a in await _accounts(db)] == ["alice01"]


@pytest.mark.slow
async def test_reg_5_sixty_simultaneous_registrations_with_one_code_create_one_account(
    client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given one right registration code for PHONE
    [code] = await _insert_codes(db, settings, clock, PHONE_E164, "REGISTRATION", 1)
    # When 60 registrations of free names use it at once
    results = await asyncio.gather(*[_register_with(client, f"user{i:04d}", code) for i in range(60)])
    # Then exactly one account is created; the code served once
    assert [r["errors"] for r in results].count([]) == 1
    assert {e["code"] for r in results for e in r["errors"]} <= {"CODE_INVALID", "CODE_ATTEMPTS_EXHAUSTED"}
    assert len(await _accounts(db)) == 1
    assert await _cloud_quota(db) == 1
    assert await _consumed_codes(db) == 1


# --- REG-3: at most 10 cloud accounts per phone ---------------------------------------------------


async def test_reg_3_eleventh_cloud_account_on_a_phone_is_refused(
    client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given ten cloud accounts registered on one phone
    codes = await _insert_codes(db, settings, clock, PHONE_E164, "REGISTRATION", 11)
    for i, code in enumerate(codes[:10]):
        assert (await _register_with(client, f"user{i:04d}", code))["errors"] == [], i
    assert await _cloud_quota(db) == 10
    # When an eleventh is registered with a wrong code
    wrong = await _register_with(client, "user0010", "000000" if "000000" not in codes else "111111")
    # Then only the code is judged: the full phone is not told
    assert _errors(wrong) == [("CODE_INVALID", ["input", "code"])]
    # When an eleventh is registered with a valid code
    refused = await _register_with(client, "user0010", codes[10])
    # Then it is refused on the phone, costing one of the code's tries, nothing was created, and the
    # code was not consumed
    assert _errors(refused) == [("PHONE_QUOTA_REACHED", ["input", "phone"])]
    assert refused["errors"][0]["attemptsRemaining"] == 3  # the wrong code above counted on it too
    assert refused["account"] is None
    assert len(await _accounts(db)) == 10
    assert await _cloud_quota(db) == 10
    assert await _consumed_codes(db) == 10
    # And another phone is not affected
    assert (await register(client, "user0010", OTHER_PHONE))["errors"] == []


async def test_reg_3_portal_account_does_not_count_against_the_cloud_quota(
    client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given a portal account on the phone
    assert (await sms_sign_in(client, PHONE))["errors"] == []
    # When ten cloud accounts are registered on it
    for i, code in enumerate(await _insert_codes(db, settings, clock, PHONE_E164, "REGISTRATION", 10)):
        assert (await _register_with(client, f"user{i:04d}", code))["errors"] == [], i
    # Then all ten were accepted
    assert await _cloud_quota(db) == 10
    assert sorted(a.kind for a in await _accounts(db)).count("cloud") == 10


@pytest.mark.slow
async def test_reg_3_twenty_concurrent_registrations_on_one_phone_create_exactly_ten(
    client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given 20 valid registration codes for one phone
    codes = await _insert_codes(db, settings, clock, PHONE_E164, "REGISTRATION", 20)
    # When 20 registrations with different usernames arrive at once
    results = await asyncio.gather(*[_register_with(client, f"user{i:04d}", code) for i, code in enumerate(codes)])
    # Then exactly ten succeed and ten are refused on the quota
    succeeded = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"]]
    assert len(succeeded) == 10
    assert len(refused) == 10
    assert [_errors(r) for r in refused] == [[("PHONE_QUOTA_REACHED", ["input", "phone"])]] * 10
    assert [r["account"] for r in refused] == [None] * 10
    # And the database holds exactly ten cloud accounts on the phone, counted ten times
    accounts = await _accounts(db)
    assert [a.kind for a in accounts] == ["cloud"] * 10
    assert {a.phone for a in accounts} == {PHONE_E164}
    assert await _cloud_quota(db) == 10
    assert await _consumed_codes(db) == 10
    assert len({a.account_number for a in accounts}) == 10


# --- REG-4: one portal account per phone, created by SMS sign-in ----------------------------------


async def test_reg_4_sms_sign_in_creates_the_portal_account_once_then_signs_in_to_it(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a first SMS sign-in that created the phone's portal account
    first = await sms_sign_in(client, PHONE)
    assert first["errors"] == []
    assert first["accountCreated"] is True
    # When the phone signs in by SMS again (a minute later, with a new code)
    clock.advance(seconds=61)
    second = await sms_sign_in(client, "+86 137 0000 0001")
    # Then it signs in to the same account and creates none
    assert second["errors"] == []
    assert second["accountCreated"] is False
    assert second["account"]["id"] == first["account"]["id"]
    assert [(a.kind, a.phone) for a in await _accounts(db)] == [("portal", PHONE_E164)]


async def test_reg_4_concurrent_sms_sign_ins_on_a_new_phone_create_one_portal_account(
    client, clock: ManualClock, db: Database, settings: Settings
) -> None:
    # Given ten valid LOGIN codes for a phone that has no account
    codes = await _insert_codes(db, settings, clock, PHONE_E164, "LOGIN", 10)
    # When ten SMS sign-ins arrive at once
    results = await asyncio.gather(
        *[
            mutate(
                client,
                "sessionCreateBySmsCode",
                {"phone": PHONE, "code": code},
                sign_in_result("token accountCreated account { id kind }"),
            )
            for code in codes
        ]
    )
    # Then all are signed in to one portal account, created exactly once
    assert all(r["errors"] == [] for r in results)
    signed_in = [sign_in_answer(r) for r in results]
    assert [r["accountCreated"] for r in signed_in].count(True) == 1
    assert len({r["account"]["id"] for r in signed_in}) == 1
    assert [(a.kind, a.phone) for a in await _accounts(db)] == [("portal", PHONE_E164)]


async def test_reg_4_portal_account_moving_to_a_phone_that_has_one_binds_it_and_sms_sign_in_keeps_its_holder(
    client, clock: ManualClock, db: Database
) -> None:
    # Given portal accounts on two phones
    holder = await sms_sign_in(client, PHONE)
    assert holder["errors"] == []
    other = await sms_sign_in(client, OTHER_PHONE)
    token = other["token"]
    chosen = await mutate(client, "accountUsernameSet", {"username": "mover01"}, "account { id }", token)
    assert chosen["errors"] == []  # a login name of its own, to sign in with after the move
    # When the second changes its phone to the first phone, with valid codes
    grant = await step_up(client, token, OTHER_PHONE)
    assert (await send_code(client, "PHONE_CHANGE_NEW", phone=PHONE, token=token))["errors"] == []
    code = await last_code(client, PHONE)
    moved = await mutate(
        client,
        "accountPhoneChange",
        {"stepUpToken": grant, "newPhone": PHONE, "newPhoneCode": code},
        "account { phone holdsPhone }",
        token,
    )
    # Then the phone is bound to both, held by the first only (REG-4)
    assert moved["errors"] == []
    assert moved["account"] == {"phone": PHONE_E164, "holdsPhone": False}
    assert sorted(a.phone for a in await _accounts(db)) == [PHONE_E164, PHONE_E164]
    # And SMS sign-in with the phone reaches the account it registered, no other
    clock.advance(seconds=61)
    again = await sms_sign_in(client, PHONE)
    assert (again["errors"], again["accountCreated"]) == ([], False)
    assert again["account"]["id"] == holder["account"]["id"]


# --- REG-5: SMS code and the three agreements, recorded ---------------------------------------------


async def test_reg_5_acceptances_are_recorded_with_versions_and_time(client, clock: ManualClock, db: Database) -> None:
    # Given the agreements in force
    listed = (await gql(client, "query { agreements(step: SIGN_UP) { kind version } }"))["agreements"]
    assert sorted((a["kind"], a["version"]) for a in listed) == sorted((a["kind"], a["version"]) for a in AGREEMENTS)
    # When an account registers accepting them
    registered_at = clock.now()
    assert (await register(client, "alice01", PHONE))["errors"] == []
    clock.advance(minutes=1)
    viewer = await _viewer(client, await sign_in(client, "alice01"))
    # Then the three acceptances are recorded with their versions, context and time
    assert viewer is not None
    assert sorted(
        (a["kind"], a["version"], a["context"], a["acceptedAt"]) for a in viewer["agreementAcceptances"]
    ) == sorted((a["kind"], a["version"], "REGISTRATION", registered_at.isoformat()) for a in AGREEMENTS)


MISSING = ("AGREEMENTS_REQUIRED", ["input", "agreements"])


def _outdated(index: int) -> tuple[str, list[str]]:
    """An outdated version, on the item that carries it."""
    return ("AGREEMENT_VERSION_OUTDATED", ["input", "agreements", str(index), "version"])


@pytest.mark.parametrize(
    ("agreements", "expected"),
    [
        ([], [MISSING]),
        (AGREEMENTS[:2], [MISSING]),
        ([a for a in AGREEMENTS if a["kind"] != "PRIVACY_POLICY"], [MISSING]),
        (
            [a if a["kind"] != "PRIVACY_POLICY" else {**a, "version": "2020-01"} for a in AGREEMENTS],
            [_outdated(2)],
        ),
        ([{**a, "version": "2026-05"} for a in AGREEMENTS], [_outdated(0), _outdated(1), _outdated(2)]),
        # Every problem at once: a missing agreement and an outdated one
        ([AGREEMENTS[0], {**AGREEMENTS[2], "version": "2020-01"}], [MISSING, _outdated(1)]),
    ],
)
async def test_reg_5_registration_without_the_current_agreements_is_refused_and_changes_nothing(
    client, db: Database, agreements: list[dict[str, str]], expected: list[tuple[str, list[str]]]
) -> None:
    # Given a registration code
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    # When the agreements are missing or outdated
    refused = await _register_with(client, "alice01", code, agreements=agreements)
    # Then it is refused on the agreements (or the outdated items), with no account, acceptance or consumed code
    assert _errors(refused) == expected
    assert refused["account"] is None
    assert await _accounts(db) == []
    async with db.read_sessions() as s:
        assert list(await s.scalars(select(AgreementAcceptance))) == []
    assert await _consumed_codes(db) == 0
    assert len(await outbox(client, PHONE)) == 1
    # And the same code then registers with the current agreements
    assert (await _register_with(client, "alice01", code))["errors"] == []


async def test_reg_5_registration_needs_a_code_sent_to_that_phone(client, db: Database) -> None:
    # Given no code was ever sent to the phone
    # When a made-up code is given
    none_sent = await _register_with(client, "alice01", "123456")
    # Then it is refused, with no tries left to count
    assert _errors(none_sent) == [("CODE_INVALID", ["input", "code"])]
    assert none_sent["errors"][0]["attemptsRemaining"] == 0
    # Given a registration code sent to another phone
    await send_code(client, "REGISTRATION", phone=OTHER_PHONE)
    other_code = await last_code(client, OTHER_PHONE)
    # When it is used for this phone
    wrong_phone = await _register_with(client, "alice01", other_code)
    # Then it is refused as well, and nothing was created or sent
    assert _errors(wrong_phone) == [("CODE_INVALID", ["input", "code"])]
    assert await _accounts(db) == []
    assert await outbox(client, PHONE) == []
    # And the code still works for its own phone
    assert (await _register_with(client, "alice01", other_code, phone=OTHER_PHONE))["errors"] == []


# --- REG-6: account IDs and portal activation ----------------------------------------------------


async def test_reg_6_cloud_account_has_a_sixteen_digit_account_id_at_registration(
    client, clock: ManualClock, db: Database
) -> None:
    # Given / When a cloud account registers
    result = await register(client, "alice01", PHONE)
    # Then it has a 16-digit account ID at once and needs no activation
    account = result["account"]
    assert re.fullmatch(r"[1-9]\d{15}", account["accountId"])
    viewer = await _viewer(client, await sign_in(client, "alice01"))
    assert viewer is not None
    assert viewer["accountId"] == account["accountId"]
    assert viewer["activationRequired"] is False
    assert viewer["activatedAt"] == clock.now().isoformat()
    [row] = await _accounts(db)
    assert str(row.account_number) == account["accountId"]


async def test_reg_6_portal_account_gets_its_account_id_on_activation_once(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a portal account created by SMS sign-in: no account ID, activation required
    signed_in = await sms_sign_in(client, PHONE)
    token = signed_in["token"]
    assert signed_in["account"]["accountId"] is None
    assert signed_in["account"]["activationRequired"] is True
    viewer = await _viewer(client, token)
    assert viewer is not None
    assert (viewer["accountId"], viewer["activationRequired"], viewer["agreementAcceptances"]) == (None, True, [])
    # When it activates, accepting the three agreements
    clock.advance(minutes=2)
    activated = await _activate(client, token, AGREEMENTS)
    # Then it gets a 16-digit account ID and the acceptances are recorded for activation
    assert activated["errors"] == []
    account_id = activated["account"]["accountId"]
    assert re.fullmatch(r"[1-9]\d{15}", account_id)
    assert activated["account"]["activationRequired"] is False
    viewer = await _viewer(client, token)
    assert viewer is not None
    assert viewer["activatedAt"] == clock.now().isoformat()
    assert sorted((a["kind"], a["version"], a["context"], a["acceptedAt"]) for a in viewer["agreementAcceptances"]) == (
        sorted((a["kind"], a["version"], "ACTIVATION", clock.now().isoformat()) for a in AGREEMENTS)
    )
    # And activating again is refused; the ID never changes, no acceptance is added
    clock.advance(minutes=1)
    again = await _activate(client, token, AGREEMENTS)
    assert _errors(again) == [("ALREADY_ACTIVATED", None)]
    assert again["account"] is None
    [row] = await _accounts(db)
    assert str(row.account_number) == account_id
    assert len((await _viewer(client, token))["agreementAcceptances"]) == 3
    # And a later sign-in sees the same ID
    clock.advance(seconds=61)
    later = await sms_sign_in(client, PHONE)
    assert later["account"]["accountId"] == account_id


@pytest.mark.parametrize(
    ("agreements", "expected"),
    [
        ([], [MISSING]),
        (AGREEMENTS[1:], [MISSING]),
        ([{**a, "version": "2019-01"} for a in AGREEMENTS], [_outdated(0), _outdated(1), _outdated(2)]),
    ],
)
async def test_reg_6_activation_without_the_current_agreements_is_refused_and_gives_no_id(
    client, db: Database, agreements: list[dict[str, str]], expected: list[tuple[str, list[str]]]
) -> None:
    # Given a portal account awaiting activation
    token = (await sms_sign_in(client, PHONE))["token"]
    # When it activates without all current agreements
    refused = await _activate(client, token, agreements)
    # Then it is refused and stays without an account ID or acceptance
    assert _errors(refused) == expected
    viewer = await _viewer(client, token)
    assert viewer is not None
    assert (viewer["accountId"], viewer["activationRequired"], viewer["agreementAcceptances"]) == (None, True, [])
    [row] = await _accounts(db)
    assert (row.account_number, row.activated_at) == (None, None)


async def test_reg_6_cloud_account_is_not_activated(client) -> None:
    # Given a signed-in cloud account
    result = await register(client, "alice01", PHONE)
    token = await sign_in(client, "alice01")
    # When it asks to activate
    refused = await _activate(client, token, AGREEMENTS)
    # Then it is refused and its ID is unchanged
    assert _errors(refused) == [("NOT_A_PORTAL_ACCOUNT", None)]
    assert (await _viewer(client, token))["accountId"] == result["account"]["accountId"]


async def test_reg_6_activation_needs_a_session(client, db: Database) -> None:
    # Given a client without a live session
    # When it asks to activate
    refused = await _activate(client, "acs_not-a-real-token", AGREEMENTS)
    # Then sign-in is required and no acceptance is recorded
    assert _errors(refused) == [("AUTHENTICATION_REQUIRED", None)]
    async with db.read_sessions() as s:
        assert list(await s.scalars(select(AgreementAcceptance))) == []


# --- REG-7: password rules and storage --------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("alice01", "Short-1", "PASSWORD_TOO_SHORT"),
        ("alice01", "", "PASSWORD_TOO_SHORT"),
        ("alice01", "x" * 129, "PASSWORD_TOO_LONG"),
        ("alice0123", "alice0123", "PASSWORD_SAME_AS_USERNAME"),
        ("alice0123", "ALICE0123", "PASSWORD_SAME_AS_USERNAME"),
        ("alice01", PHONE, "PASSWORD_SAME_AS_PHONE"),
        ("alice01", PHONE_E164, "PASSWORD_SAME_AS_PHONE"),
        ("alice01", "password123", "PASSWORD_TOO_WEAK"),
        ("alice01", "Password123", "PASSWORD_TOO_WEAK"),
        ("alice01", "12345678", "PASSWORD_TOO_WEAK"),
        ("alice01", "Gq7#vLp2", "PASSWORD_TOO_WEAK"),  # zxcvbn gives no 8-character password a 3
        ("alice01", "alice0113700000001", "PASSWORD_TOO_WEAK"),  # the user's own name and phone
        ("alice01", "Alice01!Alice01!", "PASSWORD_TOO_WEAK"),
    ],
)
async def test_reg_7_password_refusals_name_the_rule_and_consume_no_code(
    client, db: Database, username: str, password: str, expected: str
) -> None:
    # Given a registration code
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    # When the password breaks a rule
    refused = await _register_with(client, username, code, password=password)
    # Then the refusal names that rule on the password field and nothing was created or consumed
    assert _errors(refused) == [(expected, ["input", "password"])]
    assert refused["account"] is None
    assert await _accounts(db) == []
    assert await _consumed_codes(db) == 0
    assert len(await outbox(client, PHONE)) == 1
    # And the same code then works with a good password
    assert (await _register_with(client, username, code))["errors"] == []


@pytest.mark.parametrize("password", ["Gq7#vLp2x", "Zy-kX8#" + "k" * 121])
async def test_reg_7_strong_passwords_of_nine_and_of_128_characters_are_accepted(
    client, db: Database, password: str
) -> None:
    # Given / When a strong password of 9 characters (zxcvbn scores no 8-character one 3) or of 128
    result = await register(client, "alice01", PHONE, password=password)
    # Then it is accepted and signs in
    assert result["errors"] == []
    assert len(password) in (9, 128)
    await sign_in(client, "alice01", password)


async def test_reg_7_weak_password_refusal_carries_zxcvbn_feedback(client, db: Database) -> None:
    # Given a registration code
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    # When a common password is chosen
    refused = await _register_with(client, "alice01", code, password="Password123")
    # Then the message says why and what would help, as zxcvbn words it
    assert refused["errors"] == [
        {
            "path": ["input", "password"],
            "code": "PASSWORD_TOO_WEAK",
            "message": "This password is too easy to guess. This is a very common password. "
            "Add another word or two. Uncommon words are better. Capitalization doesn't help very much.",
            "retryAfter": None,
            "attemptsRemaining": None,
        }
    ]


async def test_reg_7_the_users_own_data_weakens_a_password(client, db: Database) -> None:
    # Given a password made of a username and a phone: strong for a stranger, weak for their owner
    password = "kettlewood13700000001"
    await send_code(client, "REGISTRATION", phone=OTHER_PHONE)
    # When someone else registers with it, it is accepted
    assert (
        await _register_with(
            client, "bob0001", await last_code(client, OTHER_PHONE), phone=OTHER_PHONE, password=password
        )
    )["errors"] == []
    # When kettlewood registers with it on 13700000001
    await send_code(client, "REGISTRATION", phone=PHONE)
    refused = await _register_with(client, "kettlewood", await last_code(client, PHONE), password=password)
    # Then it is too weak
    assert _errors(refused) == [("PASSWORD_TOO_WEAK", ["input", "password"])]


HOSTILE_PASSWORD = "1|7!" * 8  # 32 characters zxcvbn reads as l33t letters: its costliest judged input


async def test_reg_7_aliased_registrations_without_the_right_code_never_run_zxcvbn(
    client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a registration code sent to PHONE that the caller does not know, and a count of zxcvbn's runs
    await send_code(client, "REGISTRATION", phone=PHONE)
    right = await last_code(client, PHONE)
    wrong = "000000" if right != "000000" else "111111"
    judged = watched_strength(monkeypatch, db)
    # When one anonymous document registers 16 accounts (15 aliases, the most allowed, and the field
    # itself) with a hostile password and a wrong code
    names = [f"r{i}" for i in range(15)] + ["accountRegister"]
    fields = " ".join(
        ("" if name == "accountRegister" else f"{name}: ")
        + f'accountRegister(input: {{username: "user{i:03d}x", password: "{HOSTILE_PASSWORD}", phone: "{PHONE}", '
        f'code: "{wrong}", agreements: $agreements}}) {{ errors {{ code attemptsRemaining }} }}'
        for i, name in enumerate(names)
    )
    data = await gql(
        client, f"mutation($agreements: [AgreementAcceptanceInput!]!) {{ {fields} }}", {"agreements": AGREEMENTS}
    )
    # Then each is judged on the code alone: five wrong codes counted, the rest find the code void
    answers = [(e["code"], e["attemptsRemaining"]) for name in names for e in data[name]["errors"]]
    assert answers == [("CODE_INVALID", n) for n in (4, 3, 2, 1, 0)] + [("CODE_ATTEMPTS_EXHAUSTED", 0)] * 11
    # And zxcvbn never ran, and nothing was created
    assert judged.calls == 0
    assert await _accounts(db) == []
    assert (await _code_row(db)).attempts == 5


@pytest.mark.parametrize("password", ["password123", HOSTILE_PASSWORD])
async def test_reg_7_strength_is_judged_after_the_code_and_a_weak_password_leaves_the_code_usable(
    client, db: Database, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    # Given a registration code, and a count of zxcvbn's runs
    await send_code(client, "REGISTRATION", phone=PHONE)
    right = await last_code(client, PHONE)
    judged = watched_strength(monkeypatch, db)
    # When a weak password comes with a wrong code
    wrong_code = await _register_with(client, "alice01", "000000" if right != "000000" else "111111", password=password)
    # Then the code is what is refused, counted, and zxcvbn did not run
    assert [(e["code"], e["path"], e["attemptsRemaining"]) for e in wrong_code["errors"]] == [
        ("CODE_INVALID", ["input", "code"], 4)
    ]
    assert judged.calls == 0
    # When it comes with the right code
    weak = await _register_with(client, "alice01", right, password=password)
    # Then the password is refused as too weak, judged once, and the code is neither used nor counted again
    assert _errors(weak) == [("PASSWORD_TOO_WEAK", ["input", "password"])]
    assert judged.calls == 1
    row = await _code_row(db)
    assert (row.attempts, row.consumed_at) == (1, None)
    assert await _accounts(db) == []
    # And the same code then registers with a strong password
    assert (await _register_with(client, "alice01", right))["errors"] == []
    assert judged.calls == 2


async def test_reg_7_zxcvbn_runs_on_its_own_thread_with_no_transaction_or_connection_held(
    client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a registration code, and zxcvbn watched
    await send_code(client, "REGISTRATION", phone=PHONE)
    code = await last_code(client, PHONE)
    judged = watched_strength(monkeypatch, db)
    # When an account registers
    assert (await _register_with(client, "alice01", code))["errors"] == []
    # Then its password was judged once, off the event loop's thread, while the request held no write
    # transaction (nor this process's write queue) and no database connection
    assert judged.calls == 1
    assert judged.threads == {"zxcvbn_0"}
    assert (judged.inside_write, judged.queue_held, judged.connections_held) == (0, 0, [0])
    assert judged.write_sessions == 2  # the code gate and the creation


async def test_reg_7_password_is_stored_only_as_an_argon2id_hash(client, db: Database) -> None:
    # Given / When an account registers
    assert (await register(client, "alice01", PHONE))["errors"] == []
    # Then the stored value is an argon2id hash, not the password
    [row] = await _accounts(db)
    assert row.password_hash is not None
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    # And a second account with the same password gets a different (salted) hash
    assert (await register(client, "bob0001", OTHER_PHONE))["errors"] == []
    assert len({a.password_hash for a in await _accounts(db)}) == 2


# --- every stateless problem of a registration at once (REG-2, REG-3, REG-5, REG-7, CODE-1) --------


async def test_reg_2_reg_3_reg_5_reg_7_every_input_problem_comes_back_at_once_and_nothing_is_counted(
    client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a registration code sent to PHONE, and a count of zxcvbn's runs
    await send_code(client, "REGISTRATION", phone=PHONE)
    right = await last_code(client, PHONE)
    judged = watched_strength(monkeypatch, db)
    # When a registration has a problem in every field that needs no state to judge
    refused = await mutate(
        client,
        "accountRegister",
        {
            "username": "1alice",
            "password": "1alice",
            "phone": "12345",
            "code": "12ab",
            "agreements": [AGREEMENTS[0], {**AGREEMENTS[1], "version": "2020-01"}],
        },
        REGISTERED,
    )
    # Then every one comes back together, in the input's order, each on its own path; a password breaking
    # two rules gets both
    assert _errors(refused) == [
        ("INVALID_USERNAME", ["input", "username"]),
        ("INVALID_PHONE", ["input", "phone"]),
        ("PASSWORD_TOO_SHORT", ["input", "password"]),
        ("PASSWORD_SAME_AS_USERNAME", ["input", "password"]),
        ("AGREEMENTS_REQUIRED", ["input", "agreements"]),
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreements", "1", "version"]),
        ("CODE_FORMAT_INVALID", ["input", "code"]),
    ]
    assert refused["account"] is None
    # And nothing was counted, used or created, and zxcvbn did not run
    assert judged.calls == 0
    row = await _code_row(db)
    assert (row.attempts, row.consumed_at) == (0, None)
    assert await _accounts(db) == []
    # And the same code then registers with a correct input
    assert (await _register_with(client, "alice01", right))["errors"] == []


async def test_reg_7_a_weak_password_is_never_judged_together_with_other_problems(
    client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a registration code, and a count of zxcvbn's runs
    await send_code(client, "REGISTRATION", phone=PHONE)
    right = await last_code(client, PHONE)
    judged = watched_strength(monkeypatch, db)
    # When a weak password that keeps the cheap rules comes with a malformed username and the right code
    refused = await _register_with(client, "al!ce01", right, password="password123")
    # Then only the username is refused: zxcvbn waits for the code, which waits for the stateless checks
    assert _errors(refused) == [("INVALID_USERNAME", ["input", "username"])]
    assert judged.calls == 0
    row = await _code_row(db)
    assert (row.attempts, row.consumed_at) == (0, None)
    # And once the username is right, the code is checked and only then the password judged
    weak = await _register_with(client, "alice01", right, password="password123")
    assert _errors(weak) == [("PASSWORD_TOO_WEAK", ["input", "password"])]
    assert judged.calls == 1


async def test_reg_6_prof_1_activation_reports_agreements_and_profile_problems_together_on_nested_paths(
    client, db: Database
) -> None:
    # Given a portal account awaiting activation
    token = (await sms_sign_in(client, PHONE))["token"]
    # When it activates with an outdated agreement and two bad profile fields
    refused = await mutate(
        client,
        "accountActivate",
        {
            "agreements": [*AGREEMENTS[:2], {**AGREEMENTS[2], "version": "2020-01"}],
            "profile": {"contactName": "x" * 65, "companyName": "ACME", "address": "Line 1\nLine 2"},
        },
        ACCOUNT,
        token,
    )
    # Then every problem comes back at once, the profile's under `profile`
    assert _errors(refused) == [
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreements", "2", "version"]),
        ("VALUE_TOO_LONG", ["input", "profile", "contactName"]),
        ("VALUE_INVALID", ["input", "profile", "address"]),
    ]
    assert refused["account"] is None
    # And nothing changed: no account ID, no acceptance, no profile
    [row] = await _accounts(db)
    assert (row.account_number, row.activated_at, row.company_name) == (None, None, None)
    async with db.read_sessions() as s:
        assert list(await s.scalars(select(AgreementAcceptance))) == []


async def test_reg_6_an_activated_account_is_told_so_only_once_its_input_is_right(client) -> None:
    # Given an activated portal account
    token = (await sms_sign_in(client, PHONE))["token"]
    assert (await _activate(client, token, AGREEMENTS))["errors"] == []
    # When it activates again with an outdated agreement, the input is judged first
    outdated = [*AGREEMENTS[:2], {**AGREEMENTS[2], "version": "2020-01"}]
    assert _errors(await _activate(client, token, outdated)) == [
        ("AGREEMENT_VERSION_OUTDATED", ["input", "agreements", "2", "version"])
    ]
    # And with a right input, the account's state answers
    assert _errors(await _activate(client, token, AGREEMENTS)) == [("ALREADY_ACTIVATED", None)]
