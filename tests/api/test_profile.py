"""PROF-1..4 account information, MFA-3 operation protection (and AUTH-4 from a password change)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import graphql
import httpx
import pytest
from sqlalchemy import select

from models.accounts import Account, PhoneQuota
from models.auth import AuthSession, LoginThrottle, StepUpGrant
from models.codes import OneTimeCode
from schema.schema import export_sdl
from services.clock import ManualClock
from services.database import Database
from services.identifiers import normalize_phone
from tests.helpers import (
    AGREEMENTS,
    PASSWORD,
    gql,
    last_code,
    mutate,
    outbox,
    portal_accounts_binding,
    register,
    registered_and_signed_in,
    send_code,
    sign_in,
    sign_in_answer,
    sign_in_result,
    sms_sign_in,
    step_up,
    watched_strength,
)

PHONE = "13700000001"
NEW_PHONE = "13900000002"
NEW_PASSWORD = "Green-Teapot-77!"
VIEWER = """
query {
  viewer {
    accountId kind username phone phoneNational email contactName companyName industry address
    security { operationProtection { enabled factors } loginProtection { enabled factors } }
  }
}
"""


# --- helpers ----------------------------------------------------------------------------------


def _errors(payload: dict) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def _viewer(client: httpx.AsyncClient, token: str) -> dict | None:
    return (await gql(client, VIEWER, token=token))["viewer"]


PROFILE_UPDATE = """
mutation($input: AccountProfileUpdateInput!) {
  accountProfileUpdate(input: $input) {
    account { contactName companyName industry address }
    errors { path message code retryAfter attemptsRemaining }
  }
}
"""


async def _update_profile(client: httpx.AsyncClient, token: str, changes: dict) -> dict:
    return (await gql(client, PROFILE_UPDATE, {"input": changes}, token))["accountProfileUpdate"]


async def _new_phone_code(client: httpx.AsyncClient, token: str, phone: str) -> str:
    sent = await send_code(client, "PHONE_CHANGE_NEW", phone=phone, token=token)
    assert sent["errors"] == [], sent
    return await last_code(client, phone)


async def _change_phone(client: httpx.AsyncClient, token: str, new_phone: str, code: str, step_up_token: str) -> dict:
    return await mutate(
        client,
        "accountPhoneChange",
        {"stepUpToken": step_up_token, "newPhone": new_phone, "newPhoneCode": code},
        "account { phone phoneNational }",
        token,
    )


async def _email_code(client: httpx.AsyncClient, token: str, email: str) -> str:
    sent = await send_code(client, "EMAIL_BIND", email=email, token=token)
    assert sent["errors"] == [], sent
    return await last_code(client, email)


async def _bind_email(client: httpx.AsyncClient, token: str, email: str, code: str, step_up_token: str | None) -> dict:
    return await mutate(
        client,
        "accountEmailBind",
        {"email": email, "code": code, "stepUpToken": step_up_token},
        "account { email }",
        token,
    )


async def _change_password(client: httpx.AsyncClient, token: str, step_up_token: str | None) -> dict:
    return await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "stepUpToken": step_up_token},
        "endedSessionCount account { hasPassword }",
        token,
    )


async def _password_works(client: httpx.AsyncClient, login_name: str, password: str) -> bool:
    payload = await mutate(
        client, "sessionCreateByPassword", {"loginName": login_name, "password": password}, sign_in_result()
    )
    return sign_in_answer(payload)["token"] is not None


async def _account(db: Database, username_or_phone: str) -> Account:
    phone = normalize_phone(username_or_phone)
    where = Account.phone == phone if phone else Account.username_key == username_or_phone.lower()
    async with db.read_sessions() as s:
        found = await s.scalar(select(Account).where(where))
        assert found is not None
        return found


async def _grants(db: Database) -> list[StepUpGrant]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(StepUpGrant).order_by(StepUpGrant.id)))


async def _codes(db: Database, destination: str, purpose: str) -> list[OneTimeCode]:
    async with db.read_sessions() as s:
        return list(
            await s.scalars(
                select(OneTimeCode)
                .where(OneTimeCode.destination == destination, OneTimeCode.purpose == purpose)
                .order_by(OneTimeCode.id)
            )
        )


async def _purposes(client: httpx.AsyncClient, destination: str) -> list[str]:
    return [m["purpose"] for m in await outbox(client, destination)]


# --- PROF-1 -------------------------------------------------------------------------------------


async def test_prof_1_owner_edits_contact_name_company_industry_and_address(client) -> None:
    # Given a signed-in account
    token = await registered_and_signed_in(client)
    # When the owner fills in the basic information
    result = await _update_profile(
        client,
        token,
        {
            "contactName": "张三",
            "companyName": "示例科技有限公司",
            "industry": "互联网",
            "address": "杭州市西湖区 1 号",
        },
    )
    # Then it is saved and shown
    assert result["errors"] == []
    expected = {
        "contactName": "张三",
        "companyName": "示例科技有限公司",
        "industry": "互联网",
        "address": "杭州市西湖区 1 号",
    }
    assert result["account"] == expected
    viewer = await _viewer(client, token)
    assert {k: viewer[k] for k in expected} == expected

    # When only the industry is sent, the other fields stay
    result = await _update_profile(client, token, {"industry": "制造业"})
    assert result["errors"] == []
    assert result["account"] == {**expected, "industry": "制造业"}

    # When an empty string is sent, that field is cleared and the others stay
    result = await _update_profile(client, token, {"address": ""})
    assert result["account"] == {**expected, "industry": "制造业", "address": None}


@pytest.mark.parametrize(
    ("field", "limit"), [("contactName", 64), ("companyName", 128), ("industry", 64), ("address", 256)]
)
async def test_prof_1_too_long_value_is_refused_with_its_field_and_nothing_changes(client, field, limit) -> None:
    # Given an account with basic information
    token = await registered_and_signed_in(client)
    before = {"contactName": "张三", "companyName": "示例公司", "industry": "互联网", "address": "杭州"}
    assert (await _update_profile(client, token, before))["errors"] == []
    # When one field is one character too long, sent together with a valid change of another field
    other = "industry" if field != "industry" else "address"
    result = await _update_profile(client, token, {field: "x" * (limit + 1), other: "changed"})
    # Then the whole update is refused, naming the field, and nothing changed
    assert _errors(result) == [("VALUE_TOO_LONG", ["input", field])]
    assert result["account"] is None
    viewer = await _viewer(client, token)
    assert {k: viewer[k] for k in before} == before
    # And exactly the limit is accepted
    ok = await _update_profile(client, token, {field: "x" * limit})
    assert ok["errors"] == []
    assert ok["account"][field] == "x" * limit


@pytest.mark.parametrize("field", ["contactName", "companyName", "industry", "address"])
@pytest.mark.parametrize(
    "value", ["张\x00三", "杭州\n西湖", "\x1b[2J", "a\x7fb", "a\x9bb"], ids=["NUL", "LF", "ESC", "DEL", "CSI"]
)
async def test_prof_1_control_characters_are_refused_with_their_field_and_nothing_changes(client, field, value) -> None:
    # Given an account with basic information
    token = await registered_and_signed_in(client)
    before = {"contactName": "张三", "companyName": "示例公司", "industry": "互联网", "address": "杭州"}
    assert (await _update_profile(client, token, before))["errors"] == []
    # When one field holds a control character (PostgreSQL refuses NUL outright; each field is one line)
    result = await _update_profile(client, token, {field: value})
    # Then the update is refused on that field and nothing changed
    assert _errors(result) == [("VALUE_INVALID", ["input", field])]
    assert result["account"] is None
    viewer = await _viewer(client, token)
    assert {k: viewer[k] for k in before} == before


async def test_prof_1_profile_update_needs_a_session(client) -> None:
    # Given no live session
    # When the profile is updated with an unknown bearer token
    result = await _update_profile(client, "acs_not-a-session", {"contactName": "张三"})
    # Then it is refused about the whole input
    assert _errors(result) == [("AUTHENTICATION_REQUIRED", None)]
    assert result["account"] is None


# --- PROF-2 -------------------------------------------------------------------------------------


async def test_prof_2_phone_change_needs_codes_to_both_phones(client, db: Database) -> None:
    # Given a cloud account bound to PHONE
    token = await registered_and_signed_in(client, "alice01", PHONE)
    # When the owner passes an OPERATION code sent to the current phone ...
    step_up_token = await step_up(client, token, PHONE)
    assert (await _purposes(client, PHONE))[0] == "OPERATION"
    # ... and a PHONE_CHANGE_NEW code sent to the new phone
    code = await _new_phone_code(client, token, NEW_PHONE)
    assert await _purposes(client, NEW_PHONE) == ["PHONE_CHANGE_NEW"]
    result = await _change_phone(client, token, NEW_PHONE, code, step_up_token)
    # Then the new phone is bound
    assert result["errors"] == []
    assert result["account"] == {"phone": "+8613900000002", "phoneNational": NEW_PHONE}
    assert (await _viewer(client, token))["phone"] == "+8613900000002"
    # And the old phone is told by SMS (a notice, no code)
    [notice, *_] = await outbox(client, PHONE)
    assert notice["purpose"] == "PHONE_CHANGED"
    assert not re.search(r"\b\d{6}\b", notice["text"])
    # And the REG-3 count follows the bound phone
    async with db.read_sessions() as s:
        quotas = {q.phone: q.cloud_accounts for q in await s.scalars(select(PhoneQuota))}
    assert quotas["+8613700000001"] == 0
    assert quotas["+8613900000002"] == 1
    # And the next OPERATION code goes to the new phone
    assert await step_up(client, token, NEW_PHONE)


async def test_prof_2_an_empty_step_up_token_is_refused_and_nothing_is_consumed(client, db: Database) -> None:
    # Given a code sent to the new phone, but no step-up
    token = await registered_and_signed_in(client, "alice01", PHONE)
    code = await _new_phone_code(client, token, NEW_PHONE)
    # When the phone change is sent with an empty step-up token (the input requires one: PROF-2)
    result = await _change_phone(client, token, NEW_PHONE, code, "")
    # Then it is refused as an unknown grant, the phone is unchanged, the old phone got no notice
    assert _errors(result) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]
    assert result["account"] is None
    assert (await _account(db, "alice01")).phone == "+8613700000001"
    assert "PHONE_CHANGED" not in await _purposes(client, PHONE)
    # And the new-phone code was not consumed: with a step-up it still works
    [row] = await _codes(db, "+8613900000002", "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (0, None)
    step_up_token = await step_up(client, token, PHONE)
    assert (await _change_phone(client, token, NEW_PHONE, code, step_up_token))["errors"] == []


async def test_prof_2_used_step_up_token_is_refused(client, db: Database) -> None:
    # Given a step-up token already used for a phone change
    token = await registered_and_signed_in(client, "alice01", PHONE)
    step_up_token = await step_up(client, token, PHONE)
    code = await _new_phone_code(client, token, NEW_PHONE)
    assert (await _change_phone(client, token, NEW_PHONE, code, step_up_token))["errors"] == []
    # When it is sent again for another change
    third = "13600000003"
    code = await _new_phone_code(client, token, third)
    result = await _change_phone(client, token, third, code, step_up_token)
    # Then it is refused and the phone stays the one bound first
    assert _errors(result) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]
    assert (await _account(db, "alice01")).phone == "+8613900000002"
    # And the third phone's code was not consumed
    [row] = await _codes(db, "+8613600000003", "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (0, None)


async def test_prof_2_expired_step_up_token_is_refused(client, db: Database, clock: ManualClock) -> None:
    # Given a step-up token obtained 5 minutes ago
    token = await registered_and_signed_in(client, "alice01", PHONE)
    step_up_token = await step_up(client, token, PHONE)
    clock.advance(minutes=5)
    code = await _new_phone_code(client, token, NEW_PHONE)
    # When it is used for a phone change
    result = await _change_phone(client, token, NEW_PHONE, code, step_up_token)
    # Then it is refused, nothing changed, and the new-phone code still works with a fresh grant
    assert _errors(result) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]
    assert (await _account(db, "alice01")).phone == "+8613700000001"
    assert "PHONE_CHANGED" not in await _purposes(client, PHONE)
    fresh = await step_up(client, token, PHONE)
    assert (await _change_phone(client, token, NEW_PHONE, code, fresh))["errors"] == []


async def test_prof_2_wrong_new_phone_code_is_counted_and_keeps_the_step_up(client, db: Database) -> None:
    # Given a valid step-up and a code sent to the new phone
    token = await registered_and_signed_in(client, "alice01", PHONE)
    step_up_token = await step_up(client, token, PHONE)
    code = await _new_phone_code(client, token, NEW_PHONE)
    # When a wrong new-phone code is entered
    result = await _change_phone(client, token, NEW_PHONE, _wrong(code), step_up_token)
    # Then it is refused on newPhoneCode and counted against the code
    assert _errors(result) == [("CODE_INVALID", ["input", "newPhoneCode"])]
    assert result["errors"][0]["attemptsRemaining"] == 4
    [row] = await _codes(db, "+8613900000002", "PHONE_CHANGE_NEW")
    assert row.attempts == 1
    # And the phone is unchanged, the old phone got no notice
    assert (await _account(db, "alice01")).phone == "+8613700000001"
    assert "PHONE_CHANGED" not in await _purposes(client, PHONE)
    # And the step-up grant was not consumed: it still works with the right code
    [grant] = await _grants(db)
    assert grant.consumed_at is None
    assert (await _change_phone(client, token, NEW_PHONE, code, step_up_token))["errors"] == []


@pytest.mark.parametrize(
    ("new_phone", "new_phone_code", "expected"),
    [
        (PHONE, None, ("PHONE_UNCHANGED", ["input", "newPhone"])),
        ("+86 137 0000 0001", None, ("PHONE_UNCHANGED", ["input", "newPhone"])),
        ("12345", None, ("INVALID_PHONE", ["input", "newPhone"])),
        (NEW_PHONE, "12ab", ("CODE_FORMAT_INVALID", ["input", "newPhoneCode"])),
    ],
)
async def test_prof_2_refused_phone_change_keeps_phone_and_step_up(
    client, db: Database, new_phone, new_phone_code, expected
) -> None:
    # Given a valid step-up and a code sent to the new phone
    token = await registered_and_signed_in(client, "alice01", PHONE)
    step_up_token = await step_up(client, token, PHONE)
    code = await _new_phone_code(client, token, NEW_PHONE)
    # When the change is refused before any code is checked
    result = await _change_phone(client, token, new_phone, new_phone_code or code, step_up_token)
    # Then the error names the field, the phone is unchanged, nothing was counted or consumed
    assert _errors(result) == [expected]
    assert (await _account(db, "alice01")).phone == "+8613700000001"
    [row] = await _codes(db, "+8613900000002", "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (0, None)
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert "PHONE_CHANGED" not in await _purposes(client, PHONE)
    # And the same step-up token still works
    assert (await _change_phone(client, token, NEW_PHONE, code, step_up_token))["errors"] == []


async def test_prof_2_reg_4_a_portal_account_moving_to_a_phone_that_holds_another_only_binds_it(
    client, db: Database, clock: ManualClock
) -> None:
    # Given two portal accounts on two phones, each held by its phone, the second with a username
    taken, mine = "13800000011", "13800000022"
    first = await sms_sign_in(client, taken)
    assert first["errors"] == []
    signed_in = await sms_sign_in(client, mine)
    assert signed_in["errors"] == []
    token = signed_in["token"]
    chosen = await mutate(client, "accountUsernameSet", {"username": "mover01"}, "account { id }", token)
    assert chosen["errors"] == []  # a login name of its own, to sign in with after the move
    step_up_token = await step_up(client, token, mine)
    code = await _new_phone_code(client, token, taken)
    # When the second moves to the first one's phone
    result = await mutate(
        client,
        "accountPhoneChange",
        {"stepUpToken": step_up_token, "newPhone": taken, "newPhoneCode": code},
        "account { phone holdsPhone }",
        token,
    )
    # Then it is bound to that phone without holding it (REG-4: up to 5 portal accounts bind a phone)
    assert result["errors"] == []
    assert result["account"] == {"phone": "+86" + taken, "holdsPhone": False}
    async with db.read_sessions() as s:
        portal = [(a.phone, a.phone_holder) for a in await s.scalars(select(Account).order_by(Account.id))]
    assert portal == [("+8613800000011", True), ("+8613800000011", False)]
    # And SMS sign-in with that phone still reaches the account it holds, not the one that binds it
    clock.advance(seconds=61)
    again = await sms_sign_in(client, taken)
    assert (again["errors"], again["accountCreated"], again["account"]["id"]) == ([], False, first["account"]["id"])
    # And the phone it left holds no portal account: its SMS sign-in creates a new one
    fresh = await sms_sign_in(client, mine)
    assert (fresh["errors"], fresh["accountCreated"]) == ([], True)


async def test_prof_2_reg_4_a_phone_bound_to_five_portal_accounts_refuses_a_sixth(client, db: Database) -> None:
    # Given a phone held by one portal account and bound to 4 more, and a portal account on another phone
    taken, mine = "13800000011", "13800000022"
    assert (await sms_sign_in(client, taken))["errors"] == []
    await portal_accounts_binding(db, "+86" + taken, 4, (await _account(db, taken)).created_at)
    signed_in = await sms_sign_in(client, mine)
    token = signed_in["token"]
    step_up_token = await step_up(client, token, mine)
    code = await _new_phone_code(client, token, taken)
    # When it moves to that phone
    result = await _change_phone(client, token, taken, code, step_up_token)
    # Then it is refused (REG-4) and every phone stays as it was
    assert _errors(result) == [("PHONE_PORTAL_QUOTA_REACHED", ["input", "newPhone"])]
    assert result["errors"][0]["message"].startswith("This phone number is already bound to 5 portal accounts (REG-4)")
    async with db.read_sessions() as s:
        phones = sorted(a.phone for a in await s.scalars(select(Account).where(Account.kind == "portal")))
    assert phones == ["+8613800000011"] * 5 + ["+8613800000022"]
    # And the code is not used, but the answer cost one of its tries (the phone's holder may ask again)
    [row] = await _codes(db, "+8613800000011", "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (1, None)
    assert result["errors"][0]["attemptsRemaining"] == 4
    # And the step-up token still works for a free phone
    free = "13800000033"
    code = await _new_phone_code(client, token, free)
    assert (await _change_phone(client, token, free, code, step_up_token))["errors"] == []
    assert (await _viewer(client, token))["phone"] == "+8613800000033"


BOUND, MINE, FREE = "13800000011", "13800000022", "13800000033"
BOUND_ANSWER = {"portal": "PHONE_PORTAL_QUOTA_REACHED", "cloud": "PHONE_QUOTA_REACHED"}


async def _ten_cloud_accounts_on(db: Database, clock: ManualClock, phone_e164: str) -> None:
    """REG-3's limit reached: 10 cloud accounts bound to the phone, counted 10 times."""
    async with db.write_sessions() as s:
        s.add_all(
            Account(kind="cloud", status="active", phone=phone_e164, username=f"full{i:02d}",
                    username_key=f"full{i:02d}", idle_timeout_minutes=60, op_protection_sms=True,
                    op_protection_totp=False, login_protection_sms=False, login_protection_totp=False,
                    created_at=clock.now())
            for i in range(10)
        )  # fmt: skip
        s.add(PhoneQuota(phone=phone_e164, cloud_accounts=10))
        await s.commit()


async def _prober_and_bound_phone(client: httpx.AsyncClient, db: Database, clock: ManualClock, kind: str) -> str:
    """BOUND has accounts a `kind` account cannot join (REG-4: 5 portal accounts; REG-3: 10 cloud
    accounts); the signed-in prober, of `kind`, is bound to MINE. Returns the prober's session token."""
    if kind == "portal":
        assert (await sms_sign_in(client, BOUND))["errors"] == []  # the portal account the phone holds
        await portal_accounts_binding(db, "+86" + BOUND, 4, clock.now())  # and 4 more: 5 bound (REG-4)
        signed_in = await sms_sign_in(client, MINE)
        assert signed_in["errors"] == []
        return str(signed_in["token"])
    await _ten_cloud_accounts_on(db, clock, "+86" + BOUND)
    return await registered_and_signed_in(client, "alice01", MINE)


async def _phones_and_quotas(db: Database) -> tuple[list[tuple[str, str, str | None]], dict[str, int]]:
    async with db.read_sessions() as s:
        accounts = [(a.kind, a.phone, a.username) for a in await s.scalars(select(Account).order_by(Account.id))]
        quotas = {q.phone: q.cloud_accounts for q in await s.scalars(select(PhoneQuota))}
    return accounts, quotas


@pytest.mark.parametrize("kind", ["portal", "cloud"])
async def test_prof_2_reg_3_reg_4_without_its_code_a_phone_with_accounts_answers_like_a_free_one(
    client, db: Database, clock: ManualClock, kind: str
) -> None:
    # Given a phone the prober cannot move to because of its accounts, and a prober with one grant
    token = await _prober_and_bound_phone(client, db, clock, kind)
    grant = await step_up(client, token, MINE)
    before = await _phones_and_quotas(db)
    # When it asks about that phone and a free one, again and again, with a made-up code
    asked = {
        phone: [await _change_phone(client, token, phone, "000000", grant) for _ in range(3)] for phone in (BOUND, FREE)
    }
    # Then both phones get the same answers, word for word: the code is wrong, nothing is counted
    assert [r["errors"] for r in asked[BOUND]] == [r["errors"] for r in asked[FREE]]
    assert _errors(asked[BOUND][0]) == [("CODE_INVALID", ["input", "newPhoneCode"])]
    # When it has a PHONE_CHANGE_NEW code sent to each phone (it holds neither) and enters a wrong one
    for phone in (BOUND, FREE):
        assert (await send_code(client, "PHONE_CHANGE_NEW", phone=phone, token=token))["errors"] == []
    bound = await _change_phone(client, token, BOUND, _wrong(await last_code(client, BOUND)), grant)
    free = await _change_phone(client, token, FREE, _wrong(await last_code(client, FREE)), grant)
    # Then again the same answer for both: a wrong code, counted on each phone's code alike
    assert bound["errors"] == free["errors"]
    assert [(e["code"], e["path"], e["attemptsRemaining"]) for e in bound["errors"]] == [
        ("CODE_INVALID", ["input", "newPhoneCode"], 4)
    ]
    # And nothing else moved: every account's phone, the REG-3 counts, the grant, no notice
    assert await _phones_and_quotas(db) == before
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert "PHONE_CHANGED" not in await _purposes(client, MINE)


@pytest.mark.parametrize("kind", ["portal", "cloud"])
async def test_prof_2_reg_3_reg_4_with_its_code_a_phone_with_accounts_is_told_at_most_five_times(
    client, db: Database, clock: ManualClock, kind: str
) -> None:
    # Given a phone the account cannot move to because of its accounts, a grant, and the phone's code
    token = await _prober_and_bound_phone(client, db, clock, kind)
    grant = await step_up(client, token, MINE)
    code = await _new_phone_code(client, token, BOUND)
    before = await _phones_and_quotas(db)
    # When the move is asked five times with the right code
    told = [await _change_phone(client, token, BOUND, code, grant) for _ in range(5)]
    # Then each answer says why, and each costs one of the code's five tries
    assert [_errors(r) for r in told] == [[(BOUND_ANSWER[kind], ["input", "newPhone"])]] * 5
    assert [r["errors"][0]["attemptsRemaining"] for r in told] == [4, 3, 2, 1, 0]
    assert told[-1]["errors"][0]["message"].endswith("; the code is now void; request a new one.")
    # And a sixth is answered only as a void code
    sixth = await _change_phone(client, token, BOUND, code, grant)
    assert _errors(sixth) == [("CODE_ATTEMPTS_EXHAUSTED", ["input", "newPhoneCode"])]
    # And nothing else moved: the code is void but unused, every account keeps its phone, the REG-3
    # counts are as they were, the grant is unused and nobody was told anything
    [row] = await _codes(db, "+86" + BOUND, "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (5, None)
    assert await _phones_and_quotas(db) == before
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert "PHONE_CHANGED" not in await _purposes(client, MINE)
    # And the same grant still moves the account to a free phone
    assert (await _change_phone(client, token, FREE, await _new_phone_code(client, token, FREE), grant))["errors"] == []
    assert (await _viewer(client, token))["phone"] == "+86" + FREE


@pytest.mark.slow
async def test_prof_2_reg_4_sixty_simultaneous_probes_with_one_code_get_five_answers(
    client, db: Database, clock: ManualClock
) -> None:
    # Given a portal account, a phone bound to 5 portal accounts, a grant and that phone's code
    token = await _prober_and_bound_phone(client, db, clock, "portal")
    grant = await step_up(client, token, MINE)
    code = await _new_phone_code(client, token, BOUND)
    # When 60 moves to that phone are asked at once with the code
    results = await asyncio.gather(*[_change_phone(client, token, BOUND, code, grant) for _ in range(60)])
    # Then exactly five are told the phone is bound to 5 portal accounts; the rest find the code void
    answers = [_errors(r) for r in results]
    assert answers.count([("PHONE_PORTAL_QUOTA_REACHED", ["input", "newPhone"])]) == 5
    assert answers.count([("CODE_ATTEMPTS_EXHAUSTED", ["input", "newPhoneCode"])]) == 55
    [row] = await _codes(db, "+86" + BOUND, "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (5, None)
    assert (await _viewer(client, token))["phone"] == "+86" + MINE
    assert [g.consumed_at for g in await _grants(db)] == [None]


# --- PROF-3 -------------------------------------------------------------------------------------


async def test_prof_3_email_is_bound_with_a_code_sent_to_it(client, db: Database) -> None:
    # Given a signed-in account with a step-up and an EMAIL_BIND code sent to the address
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    code = await _email_code(client, token, "alice@example.com")
    [message] = await outbox(client, "alice@example.com")
    assert (message["channel"], message["purpose"]) == ("email", "EMAIL_BIND")
    # When the address is bound with that code
    result = await _bind_email(client, token, "alice@Example.COM", code, step_up_token)
    # Then it is bound (domain lower-cased) and shown
    assert result["errors"] == []
    assert result["account"]["email"] == "alice@example.com"
    assert (await _viewer(client, token))["email"] == "alice@example.com"


async def test_prof_3_code_sent_to_another_address_does_not_bind(client, db: Database) -> None:
    # Given a code sent to one address
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    code = await _email_code(client, token, "alice@example.com")
    # When it is used to bind another address
    result = await _bind_email(client, token, "mallory@example.com", code, step_up_token)
    # Then it is refused on the code and nothing was bound
    assert _errors(result) == [("CODE_INVALID", ["input", "code"])]
    assert (await _account(db, "alice01")).email is None
    # And the step-up still works with the right address
    assert (await _bind_email(client, token, "alice@example.com", code, step_up_token))["errors"] == []


async def test_prof_3_wrong_email_code_is_counted_and_keeps_the_step_up(client, db: Database) -> None:
    # Given a valid step-up and a code sent to the address
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    code = await _email_code(client, token, "alice@example.com")
    # When a wrong code is entered
    result = await _bind_email(client, token, "alice@example.com", _wrong(code), step_up_token)
    # Then it is refused, counted, nothing bound, and the step-up is not consumed
    assert _errors(result) == [("CODE_INVALID", ["input", "code"])]
    assert result["errors"][0]["attemptsRemaining"] == 4
    [row] = await _codes(db, "alice@example.com", "EMAIL_BIND")
    assert row.attempts == 1
    assert (await _account(db, "alice01")).email is None
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert (await _bind_email(client, token, "alice@example.com", code, step_up_token))["errors"] == []


async def test_prof_3_email_of_another_account_is_taken(client, db: Database) -> None:
    # Given alice bound alice@example.com
    alice = await registered_and_signed_in(client, "alice01", PHONE)
    code = await _email_code(client, alice, "alice@example.com")
    assert (await _bind_email(client, alice, "alice@example.com", code, await step_up(client, alice, PHONE)))[
        "errors"
    ] == []
    # When bob, with his own step-up and a code sent to the address in another case, binds it
    bob = await registered_and_signed_in(client, "bob0001", "13900000009")
    step_up_token = await step_up(client, bob, "13900000009")
    code = await _email_code(client, bob, "Alice@example.com")
    result = await _bind_email(client, bob, "Alice@example.com", code, step_up_token)
    # Then it is taken, bob has no e-mail, alice keeps hers, and bob's step-up is not consumed
    assert _errors(result) == [("EMAIL_TAKEN", ["input", "email"])]
    assert (await _account(db, "bob0001")).email is None
    assert (await _account(db, "alice01")).email == "alice@example.com"
    assert [g.consumed_at for g in await _grants(db)][-1] is None
    code = await _email_code(client, bob, "bob@example.com")
    assert (await _bind_email(client, bob, "bob@example.com", code, step_up_token))["errors"] == []


async def test_prof_3_each_taken_answer_costs_one_of_the_codes_tries(client, db: Database, clock: ManualClock) -> None:
    # Given alice bound alice@example.com, and bob with a step-up and a code sent to that address
    alice = await registered_and_signed_in(client, "alice01", PHONE)
    code = await _email_code(client, alice, "alice@example.com")
    assert (await _bind_email(client, alice, "alice@example.com", code, await step_up(client, alice, PHONE)))[
        "errors"
    ] == []
    bob = await registered_and_signed_in(client, "bob0001", "13900000009")
    step_up_token = await step_up(client, bob, "13900000009")
    clock.advance(seconds=60)  # CODE-3: one code per address and purpose a minute
    code = await _email_code(client, bob, "alice@example.com")
    # When bob binds it five times with that code
    told = [await _bind_email(client, bob, "alice@example.com", code, step_up_token) for _ in range(5)]
    # Then each says the address is taken and costs one of the code's tries
    assert [_errors(r) for r in told] == [[("EMAIL_TAKEN", ["input", "email"])]] * 5
    assert [r["errors"][0]["attemptsRemaining"] for r in told] == [4, 3, 2, 1, 0]
    # And a sixth is answered only as a void code; the code is unused, bob unbound, his grant unused
    assert _errors(await _bind_email(client, bob, "alice@example.com", code, step_up_token)) == [
        ("CODE_ATTEMPTS_EXHAUSTED", ["input", "code"])
    ]
    [_, row] = await _codes(db, "alice@example.com", "EMAIL_BIND")
    assert (row.attempts, row.consumed_at) == (5, None)
    assert (await _account(db, "bob0001")).email is None
    assert (await _account(db, "alice01")).email == "alice@example.com"
    assert [g.consumed_at for g in await _grants(db)][-1] is None


async def test_prof_3_whether_an_address_is_taken_is_not_told_without_its_code(client, db: Database) -> None:
    # Given alice bound alice@example.com, and bob signed in with a step-up grant
    alice = await registered_and_signed_in(client, "alice01", PHONE)
    code = await _email_code(client, alice, "alice@example.com")
    assert (await _bind_email(client, alice, "alice@example.com", code, await step_up(client, alice, PHONE)))[
        "errors"
    ] == []
    bob = await registered_and_signed_in(client, "bob0001", "13900000009")
    step_up_token = await step_up(client, bob, "13900000009")
    # When bob tries alice's address and a free one without their codes
    taken = await _bind_email(client, bob, "alice@example.com", "123456", step_up_token)
    free = await _bind_email(client, bob, "free@example.com", "123456", step_up_token)
    # Then both get the wrong-code answer: whether the address is bound is not told
    assert _errors(taken) == _errors(free) == [("CODE_INVALID", ["input", "code"])]
    assert (await _account(db, "bob0001")).email is None
    assert [g.consumed_at for g in await _grants(db)][-1] is None


@pytest.mark.parametrize("email", ["not-an-email", "alice@", "@example.com", "alice@example"])
async def test_prof_3_invalid_email_is_refused(client, db: Database, email) -> None:
    # Given a valid step-up
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    # When an invalid address is bound
    result = await _bind_email(client, token, email, "123456", step_up_token)
    # Then it is refused on email, nothing bound, and the step-up is kept
    assert _errors(result) == [("INVALID_EMAIL", ["input", "email"])]
    assert (await _account(db, "alice01")).email is None
    assert [g.consumed_at for g in await _grants(db)] == [None]
    # And no code can even be sent to it
    sent = await send_code(client, "EMAIL_BIND", email=email, token=token)
    assert [(e["code"], e["path"]) for e in sent["errors"]] == [("INVALID_EMAIL", ["input", "email"])]


# --- PROF-4 -------------------------------------------------------------------------------------


async def test_prof_4_owner_sees_the_account_id(client) -> None:
    # Given a registered cloud account
    registered = await register(client, "alice01", PHONE)
    account_id = registered["account"]["accountId"]
    assert re.fullmatch(r"[1-9]\d{15}", account_id)
    # When the owner signs in and looks
    token = await sign_in(client, "alice01")
    # Then the same 16-digit account ID is shown
    assert (await _viewer(client, token))["accountId"] == account_id


async def test_prof_4_no_mutation_changes_a_cloud_username(client, db: Database) -> None:
    # Given the API: the only mutation inputs with a username are registration and the portal username set
    sdl = graphql.build_schema(export_sdl())
    mutation = sdl.mutation_type
    assert mutation is not None
    with_username = sorted(
        name
        for name, f in mutation.fields.items()
        for arg in f.args.values()
        if "username" in getattr(graphql.get_named_type(arg.type), "fields", {})
    )
    assert with_username == ["accountRegister", "accountUsernameSet"]
    # When a cloud account tries accountUsernameSet
    token = await registered_and_signed_in(client, "alice01", PHONE)
    result = await mutate(client, "accountUsernameSet", {"username": "alice02"}, "account { username }", token)
    # Then it is immutable, the username stays, and the new name is still free
    assert _errors(result) == [("USERNAME_IMMUTABLE", ["input", "username"])]
    assert (await _viewer(client, token))["username"] == "alice01"
    assert (await _account(db, "alice01")).username_key == "alice01"
    assert await _password_works(client, "alice01", PASSWORD)
    assert (await register(client, "alice02", "13900000009"))["errors"] == []


async def test_prof_4_portal_account_sees_its_account_id_and_chooses_a_username(client, db: Database) -> None:
    # Given a portal account signed in by SMS, not yet activated: no account ID yet
    portal_phone = "13800000011"
    signed_in = await sms_sign_in(client, portal_phone)
    token = signed_in["token"]
    assert signed_in["account"]["accountId"] is None
    # When it is activated, the account ID appears
    activated = await mutate(client, "accountActivate", {"agreements": AGREEMENTS}, "account { accountId }", token)
    assert activated["errors"] == []
    assert re.fullmatch(r"\d{16}", activated["account"]["accountId"])
    assert (await _viewer(client, token))["accountId"] == activated["account"]["accountId"]
    # When it chooses a username
    first = await mutate(client, "accountUsernameSet", {"username": "carol01"}, "account { username }", token)
    assert first["errors"] == []
    assert first["account"]["username"] == "carol01"
    # Then the username is set, and the account ID stays (changes of a portal account's username: PROF-5,
    # tests/api/test_username_change.py)
    assert (await _viewer(client, token))["username"] == "carol01"
    assert (await _viewer(client, token))["accountId"] == activated["account"]["accountId"]
    assert (await _account(db, portal_phone)).username_key == "carol01"


# --- MFA-3 --------------------------------------------------------------------------------------


async def test_mfa_3_new_accounts_have_operation_protection_with_sms(client) -> None:
    # Given a new cloud account and a new portal account
    cloud = await registered_and_signed_in(client, "alice01", PHONE)
    portal = (await sms_sign_in(client, "13800000011"))["token"]
    # Then both have operation protection on with SMS, and login protection off
    for token in (cloud, portal):
        security = (await _viewer(client, token))["security"]
        assert security == {
            "operationProtection": {"enabled": True, "factors": ["SMS"]},
            "loginProtection": {"enabled": False, "factors": []},
        }


async def test_mfa_3_password_phone_and_email_changes_need_a_step_up(client, db: Database) -> None:
    # Given a signed-in account with a second session, codes sent to a new phone and an address
    token = await registered_and_signed_in(client, "alice01", PHONE)
    other = await sign_in(client, "alice01")
    phone_code = await _new_phone_code(client, token, NEW_PHONE)
    email_code = await _email_code(client, token, "alice@example.com")
    before = await _account(db, "alice01")

    # When the password is changed without a step-up token
    password = await _change_password(client, token, None)
    # Then it is refused, the old password still works and no session ended
    assert _errors(password) == [("STEP_UP_REQUIRED", ["input", "stepUpToken"])]
    assert password["endedSessionCount"] is None
    assert await _viewer(client, other) is not None

    # When the phone is changed with an empty one (PROF-2: the input requires one)
    phone = await _change_phone(client, token, NEW_PHONE, phone_code, "")
    assert _errors(phone) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]

    # When the e-mail is bound without one
    email = await _bind_email(client, token, "alice@example.com", email_code, None)
    assert _errors(email) == [("STEP_UP_REQUIRED", ["input", "stepUpToken"])]

    # Then the account row is exactly as before, no code was used, the old phone got no notice
    after = await _account(db, "alice01")
    assert (after.password_hash, after.password_changed_at, after.phone, after.email) == (
        before.password_hash,
        before.password_changed_at,
        before.phone,
        before.email,
    )
    for destination, purpose in (("+8613900000002", "PHONE_CHANGE_NEW"), ("alice@example.com", "EMAIL_BIND")):
        [row] = await _codes(db, destination, purpose)
        assert (row.attempts, row.consumed_at) == (0, None)
    assert "PHONE_CHANGED" not in await _purposes(client, PHONE)
    assert await _password_works(client, "alice01", PASSWORD)


async def test_mfa_3_step_up_token_is_single_use(client, db: Database) -> None:
    # Given a step-up token used for a password change
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    assert (await _change_password(client, token, step_up_token))["errors"] == []
    # When it is used again for an e-mail binding
    code = await _email_code(client, token, "alice@example.com")
    result = await _bind_email(client, token, "alice@example.com", code, step_up_token)
    # Then it is refused and nothing was bound
    assert _errors(result) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]
    assert (await _account(db, "alice01")).email is None


async def test_mfa_3_step_up_token_expires_after_five_minutes(client, clock: ManualClock, db: Database) -> None:
    # Given a step-up token: it says it lives 5 minutes
    token = await registered_and_signed_in(client)
    await send_code(client, "OPERATION", token=token)
    verified = await mutate(
        client,
        "operationChallengeVerify",
        {"code": await last_code(client, PHONE)},
        "stepUpGrant { token factor expiresAt }",
        token,
    )
    verified = verified["stepUpGrant"]
    assert verified["factor"] == "SMS"
    assert verified["expiresAt"] == (clock.now() + timedelta(minutes=5)).isoformat()
    # When it is used 4 min 59 s later, it works
    clock.advance(minutes=4, seconds=59)
    assert (await _change_password(client, token, verified["token"]))["errors"] == []
    # Given another token
    second = await step_up(client, token, PHONE)
    # When it is used exactly 5 minutes later
    clock.advance(minutes=5)
    result = await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": NEW_PASSWORD, "newPassword": "Third-Lantern-19!", "stepUpToken": second},
        "endedSessionCount",
        token,
    )
    # Then it has expired and the password was not changed
    assert _errors(result) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]
    assert await _password_works(client, "alice01", NEW_PASSWORD)


async def test_mfa_3_step_up_token_is_bound_to_the_session_that_obtained_it(client, db: Database) -> None:
    # Given two sessions of one account; the first obtains a step-up token
    first = await registered_and_signed_in(client)
    second = await sign_in(client, "alice01")
    step_up_token = await step_up(client, first, PHONE)
    # When the second session uses it
    result = await _change_password(client, second, step_up_token)
    # Then it is refused, the password is unchanged and the grant is not consumed
    assert _errors(result) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert await _viewer(client, first) is not None
    # And the first session can still use it
    assert (await _change_password(client, first, step_up_token))["errors"] == []


async def test_mfa_3_step_up_token_of_another_account_is_refused(client, db: Database) -> None:
    # Given alice's step-up token
    alice = await registered_and_signed_in(client, "alice01", PHONE)
    bob = await registered_and_signed_in(client, "bob0001", "13900000009")
    alice_grant = await step_up(client, alice, PHONE)
    # When bob uses it to change his password
    result = await _change_password(client, bob, alice_grant)
    # Then it is refused, bob's password is unchanged and alice's grant is not consumed
    assert _errors(result) == [("STEP_UP_INVALID", ["input", "stepUpToken"])]
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert await _password_works(client, "bob0001", PASSWORD)


async def test_auth_4_password_change_ends_the_other_sessions_and_counts_them(client, db: Database) -> None:
    # Given three sessions of one account
    current = await registered_and_signed_in(client)
    others = [await sign_in(client, "alice01"), await sign_in(client, "alice01")]
    step_up_token = await step_up(client, current, PHONE)
    # When the password is changed in one of them
    result = await _change_password(client, current, step_up_token)
    # Then the two others are ended and counted, the current one lives on
    assert result["errors"] == []
    assert result["endedSessionCount"] == 2
    for token in others:
        assert await _viewer(client, token) is None
    assert await _viewer(client, current) is not None
    async with db.read_sessions() as s:
        reasons = sorted((r or "") for r in await s.scalars(select(AuthSession.end_reason)))
    assert reasons == ["", "password_changed", "password_changed"]
    # And only the new password signs in
    assert not await _password_works(client, "alice01", PASSWORD)
    assert await _password_works(client, "alice01", NEW_PASSWORD)


async def test_mfa_3_without_a_step_up_a_taken_email_is_not_revealed(client, db: Database) -> None:
    # Given alice bound alice@example.com
    alice = await registered_and_signed_in(client, "alice01", PHONE)
    code = await _email_code(client, alice, "alice@example.com")
    assert (await _bind_email(client, alice, "alice@example.com", code, await step_up(client, alice, PHONE)))[
        "errors"
    ] == []
    # When bob, signed in but without a step-up, tries the address
    bob = await registered_and_signed_in(client, "bob0001", "13900000009")
    result = await _bind_email(client, bob, "alice@example.com", "123456", None)
    # Then he learns only that a step-up is needed, not that the address is taken
    assert _errors(result) == [("STEP_UP_REQUIRED", ["input", "stepUpToken"])]
    assert (await _account(db, "bob0001")).email is None


async def test_auth_5_wrong_current_passwords_in_a_password_change_are_throttled(client, clock, db: Database) -> None:
    # Given a signed-in session with a step-up grant
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)

    async def attempt(current: str) -> dict:
        return await mutate(
            client,
            "accountPasswordChange",
            {"currentPassword": current, "newPassword": NEW_PASSWORD, "stepUpToken": step_up_token},
            "endedSessionCount",
            token,
        )

    # When the current password is guessed wrongly five times
    results = [await attempt(f"Wrong-Guess-{i}!") for i in range(5)]
    # Then the tries count down, the fifth locks, and even the right password waits 15 minutes
    assert [(e["code"], e["attemptsRemaining"]) for r in results[:4] for e in r["errors"]] == [
        ("WRONG_PASSWORD", 4),
        ("WRONG_PASSWORD", 3),
        ("WRONG_PASSWORD", 2),
        ("WRONG_PASSWORD", 1),
    ]
    assert [(e["code"], e["path"], e["retryAfter"]) for e in results[4]["errors"]] == [
        ("TOO_MANY_ATTEMPTS", ["input", "currentPassword"], 900)
    ]
    assert _errors(await attempt(PASSWORD)) == [("TOO_MANY_ATTEMPTS", ["input", "currentPassword"])]
    # And the account's one budget is spent: sign-in with the right password waits too (answered, through
    # the login name, like a wrong password)
    assert not await _password_works(client, "alice01", PASSWORD)
    # And after the lock, with the same unconsumed grant, the change goes through
    clock.advance(minutes=15)
    token = await sign_in(client, "alice01")
    step_up_token = await step_up(client, token, PHONE)
    assert (await attempt(PASSWORD))["errors"] == []


async def test_auth_5_sixty_simultaneous_wrong_current_passwords_judge_at_most_five(
    client, clock, db: Database, monkeypatch: pytest.MonkeyPatch, app
) -> None:
    # Given a signed-in session with a step-up grant, and a count of the passwords judged
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    judged: list[str] = []
    hasher = app.state.deps.hasher
    real_verify = hasher.verify

    async def counting_verify(hashed: str | None, password: str) -> bool:
        judged.append(password)
        return bool(await real_verify(hashed, password))

    monkeypatch.setattr(hasher, "verify", counting_verify)
    # When 60 password changes with wrong current passwords arrive at once
    results = await asyncio.gather(
        *(
            mutate(
                client,
                "accountPasswordChange",
                {"currentPassword": f"Wrong-Guess-{i}!", "newPassword": NEW_PASSWORD, "stepUpToken": step_up_token},
                "endedSessionCount",
                token,
            )
            for i in range(60)
        )
    )
    # Then five are judged: four count down, the fifth locks, and the rest are refused unjudged
    assert len(judged) == 5
    answers = [(e["code"], e["attemptsRemaining"], e["retryAfter"]) for r in results for e in r["errors"]]
    assert sorted(a for a in answers if a[0] == "WRONG_PASSWORD") == [("WRONG_PASSWORD", n, None) for n in (1, 2, 3, 4)]
    assert [a for a in answers if a[0] != "WRONG_PASSWORD"] == [("TOO_MANY_ATTEMPTS", None, 900)] * 56
    # And the password is unchanged, and the grant unused
    assert await _password_works(client, "alice01", PASSWORD) is False  # the account is locked for sign-in too
    clock.advance(minutes=15)
    assert await _password_works(client, "alice01", PASSWORD)
    async with db.read_sessions() as s:
        assert [g.consumed_at for g in await s.scalars(select(StepUpGrant))] == [None]


async def test_auth_5_no_database_connection_is_held_while_a_password_change_hashes(
    client, db: Database, monkeypatch: pytest.MonkeyPatch, app
) -> None:
    # Given a signed-in session with a step-up grant, and a hasher that notes the connections in use
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    hasher = app.state.deps.hasher
    real_verify, real_hash = hasher.verify, hasher.hash
    in_use: list[int] = []

    async def verify(hashed: str | None, password: str) -> bool:
        in_use.append(db.engine.pool.checkedout())
        return bool(await real_verify(hashed, password))

    async def hash_(password: str) -> str:
        in_use.append(db.engine.pool.checkedout())
        return str(await real_hash(password))

    monkeypatch.setattr(hasher, "verify", verify)
    monkeypatch.setattr(hasher, "hash", hash_)
    # When the password is changed (the current password judged, the new one hashed)
    changed = await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "stepUpToken": step_up_token},
        "endedSessionCount",
        token,
    )
    # Then both hashes ran with no connection (and so no write transaction) held
    assert changed["errors"] == []
    assert in_use == [0, 0]
    assert await _password_works(client, "alice01", NEW_PASSWORD)


async def test_reg_7_a_password_change_runs_zxcvbn_on_its_own_thread_with_no_transaction_held(
    client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a signed-in session with a step-up grant, and zxcvbn watched
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    judged = watched_strength(monkeypatch, db)
    # When the password is changed
    assert (await _change_password(client, token, step_up_token))["errors"] == []
    # Then the new password was judged once, off the event loop's thread, while the request held no write
    # transaction (nor this process's write queue) and no database connection
    assert judged.calls == 1
    assert judged.threads == {"zxcvbn_0"}
    assert (judged.inside_write, judged.queue_held, judged.connections_held) == (0, 0, [0])
    assert await _password_works(client, "alice01", NEW_PASSWORD)


async def test_reg_7_a_weak_new_password_is_refused_before_any_write_and_counts_no_try(
    client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a signed-in session without a step-up grant, and zxcvbn watched
    token = await registered_and_signed_in(client)
    judged = watched_strength(monkeypatch, db)
    # When a password change brings a weak new password and a wrong current one
    result = await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": "Wrong-Guess-1!", "newPassword": "password123"},
        "endedSessionCount",
        token,
    )
    # Then the new password is refused first, as before the step-up is asked for, judged outside any
    # transaction, and nothing was written: no try counted
    assert _errors(result) == [("PASSWORD_TOO_WEAK", ["input", "newPassword"])]
    assert (judged.calls, judged.inside_write, judged.write_sessions) == (1, 0, 0)
    async with db.read_sessions() as s:
        assert {(t.failures, t.locked_until) for t in await s.scalars(select(LoginThrottle))} == {(0, None)}
    assert await _password_works(client, "alice01", PASSWORD)


async def test_mfa_3_without_a_step_up_the_current_password_is_not_tried(client, db: Database) -> None:
    # Given a signed-in session without a step-up grant
    token = await registered_and_signed_in(client)
    # When a password change is tried with a wrong current password
    result = await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": "Wrong-Guess-1!", "newPassword": NEW_PASSWORD},
        "endedSessionCount",
        token,
    )
    # Then only the step-up is asked for, and no try was counted (the sign-in left every count at 0)
    assert _errors(result) == [("STEP_UP_REQUIRED", ["input", "stepUpToken"])]
    async with db.read_sessions() as s:
        assert {(t.failures, t.locked_until) for t in await s.scalars(select(LoginThrottle))} == {(0, None)}


async def test_mfa_3_totp_step_up_without_a_bound_device_offers_binding(client, db: Database) -> None:
    # Given an account without a virtual MFA device
    token = await registered_and_signed_in(client)
    # When it tries to pass the TOTP factor
    result = await mutate(
        client, "operationChallengeVerify", {"factor": "TOTP", "code": "123456"}, "stepUpGrant { token }", token
    )
    # Then it is told to bind a device first, and no grant exists
    assert _errors(result) == [("MFA_DEVICE_NOT_BOUND", ["input", "factor"])]
    assert result["stepUpGrant"] is None
    assert await _grants(db) == []


# --- every stateless problem of an input at once, on its path --------------------------------------


async def test_prof_1_every_field_problem_comes_back_at_once_and_nothing_changes(client) -> None:
    # Given an account with basic information
    token = await registered_and_signed_in(client)
    before = {"contactName": "张三", "companyName": "示例公司", "industry": "互联网", "address": "杭州"}
    assert (await _update_profile(client, token, before))["errors"] == []
    # When three fields have a problem and one is fine
    result = await _update_profile(
        client,
        token,
        {"contactName": "x" * 65, "companyName": "示例\x00公司", "industry": "制造业", "address": "y" * 257},
    )
    # Then each problem comes back on its field, in the input's order, and nothing changed
    assert _errors(result) == [
        ("VALUE_TOO_LONG", ["input", "contactName"]),
        ("VALUE_INVALID", ["input", "companyName"]),
        ("VALUE_TOO_LONG", ["input", "address"]),
    ]
    assert result["account"] is None
    viewer = await _viewer(client, token)
    assert {k: viewer[k] for k in before} == before


async def test_prof_2_every_input_problem_of_a_phone_change_comes_back_at_once_and_nothing_is_counted(
    client, db: Database
) -> None:
    # Given a step-up grant and a code sent to the new phone
    token = await registered_and_signed_in(client, "alice01", PHONE)
    step_up_token = await step_up(client, token, PHONE)
    code = await _new_phone_code(client, token, NEW_PHONE)
    # When the new phone, its code and the grant are all malformed
    everything = await _change_phone(client, token, "12345", "12ab", "  ")
    # Then the three problems come back together
    assert _errors(everything) == [
        ("INVALID_PHONE", ["input", "newPhone"]),
        ("CODE_FORMAT_INVALID", ["input", "newPhoneCode"]),
        ("STEP_UP_INVALID", ["input", "stepUpToken"]),
    ]
    assert everything["account"] is None
    # And with the real grant, the phone and code problems still come together, before the grant is judged
    both = await _change_phone(client, token, "+1 555 0100", "1234567", step_up_token)
    assert _errors(both) == [
        ("INVALID_PHONE", ["input", "newPhone"]),
        ("CODE_FORMAT_INVALID", ["input", "newPhoneCode"]),
    ]
    # And nothing was counted, used or changed: the code and the grant still change the phone
    [row] = await _codes(db, "+8613900000002", "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (0, None)
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert (await _account(db, "alice01")).phone == "+8613700000001"
    assert (await _change_phone(client, token, NEW_PHONE, code, step_up_token))["errors"] == []


async def test_prof_2_the_step_up_grant_is_required_by_the_input_type(client, db: Database) -> None:
    # Given a code sent to the new phone
    token = await registered_and_signed_in(client, "alice01", PHONE)
    code = await _new_phone_code(client, token, NEW_PHONE)
    # When the phone change is sent without a grant, or with a null one
    for phone_change in (
        {"newPhone": NEW_PHONE, "newPhoneCode": code},
        {"newPhone": NEW_PHONE, "newPhoneCode": code, "stepUpToken": None},
    ):
        body = await gql(
            client,
            "mutation($input: AccountPhoneChangeInput!) { accountPhoneChange(input: $input) { errors { code } } }",
            {"input": phone_change},
            token,
            expect_errors=True,
        )
        # Then the schema refuses it (PROF-2: a phone change always needs the grant)
        assert "data" not in body  # refused before execution: GraphQL over HTTP leaves out `data`
        assert "stepUpToken" in body["errors"][0]["message"]
    # And nothing was counted or changed
    [row] = await _codes(db, "+8613900000002", "PHONE_CHANGE_NEW")
    assert (row.attempts, row.consumed_at) == (0, None)
    assert (await _account(db, "alice01")).phone == "+8613700000001"


async def test_prof_2_an_unchanged_phone_is_told_only_once_the_input_is_right(client, db: Database) -> None:
    # Given a step-up grant
    token = await registered_and_signed_in(client, "alice01", PHONE)
    step_up_token = await step_up(client, token, PHONE)
    # When the bound phone itself comes with a malformed code, the input's problem answers
    assert _errors(await _change_phone(client, token, PHONE, "12ab", step_up_token)) == [
        ("CODE_FORMAT_INVALID", ["input", "newPhoneCode"])
    ]
    # And with a well-formed code, the account's phone answers, alone
    assert _errors(await _change_phone(client, token, PHONE, "123456", step_up_token)) == [
        ("PHONE_UNCHANGED", ["input", "newPhone"])
    ]
    assert [g.consumed_at for g in await _grants(db)] == [None]


async def test_prof_3_email_and_code_problems_come_back_together_and_nothing_is_counted(client, db: Database) -> None:
    # Given a step-up grant and a code sent to an address
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    code = await _email_code(client, token, "alice@example.com")
    # When the address and the code are both malformed
    result = await _bind_email(client, token, "alice@", "12345", step_up_token)
    # Then both come back at once, and nothing was counted, used or bound
    assert _errors(result) == [("INVALID_EMAIL", ["input", "email"]), ("CODE_FORMAT_INVALID", ["input", "code"])]
    assert result["account"] is None
    [row] = await _codes(db, "alice@example.com", "EMAIL_BIND")
    assert (row.attempts, row.consumed_at) == (0, None)
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert (await _bind_email(client, token, "alice@example.com", code, step_up_token))["errors"] == []


async def test_reg_7_a_new_password_breaking_two_rules_gets_both_and_counts_no_try(client, db: Database) -> None:
    # Given a signed-in account alice01 with a step-up grant
    token = await registered_and_signed_in(client)
    step_up_token = await step_up(client, token, PHONE)
    # When the new password is the username, which is also too short
    result = await mutate(
        client,
        "accountPasswordChange",
        {"currentPassword": PASSWORD, "newPassword": "ALICE01", "stepUpToken": step_up_token},
        "endedSessionCount account { id }",
        token,
    )
    # Then both rules come back on newPassword, and the payload has neither result field
    assert _errors(result) == [
        ("PASSWORD_TOO_SHORT", ["input", "newPassword"]),
        ("PASSWORD_SAME_AS_USERNAME", ["input", "newPassword"]),
    ]
    assert (result["account"], result["endedSessionCount"]) == (None, None)
    # And no try was counted and the grant was not used
    async with db.read_sessions() as s:
        assert {(t.failures, t.locked_until) for t in await s.scalars(select(LoginThrottle))} == {(0, None)}
    assert [g.consumed_at for g in await _grants(db)] == [None]
    assert await _password_works(client, "alice01", PASSWORD)


async def test_prof_4_a_malformed_username_is_told_before_the_username_is_immutable(client) -> None:
    # Given a cloud account (its username never changes)
    token = await registered_and_signed_in(client)
    # When it sends a malformed username, the input's problem answers; a well-formed one meets the rule
    malformed = await mutate(client, "accountUsernameSet", {"username": "1x"}, "account { username }", token)
    assert _errors(malformed) == [("INVALID_USERNAME", ["input", "username"])]
    immutable = await mutate(client, "accountUsernameSet", {"username": "alice02"}, "account { username }", token)
    assert _errors(immutable) == [("USERNAME_IMMUTABLE", ["input", "username"])]
