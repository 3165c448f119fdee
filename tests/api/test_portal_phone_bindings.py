"""REG-4 over the API: a phone holds one portal account, the one its SMS sign-in (and the phone as a login
name) reaches, and is bound to at most 5; the others that bind it sign in with their own login names."""

from __future__ import annotations

from sqlalchemy import func, select

from models.accounts import Account
from models.codes import OneTimeCode
from services.clock import ManualClock
from services.database import Database
from tests.helpers import (
    PASSWORD,
    gql,
    last_code,
    mutate,
    portal_accounts_binding,
    send_code,
    sign_in_answer,
    sign_in_result,
    sms_sign_in,
    step_up,
)

PHONE, OTHER = "13800000011", "13800000022"


async def _portal_accounts(db: Database) -> list[tuple[str, bool, str | None]]:
    async with db.read_sessions() as s:
        return [
            (a.phone, a.phone_holder, a.username)
            for a in await s.scalars(select(Account).where(Account.kind == "portal").order_by(Account.id))
        ]


async def _password_sign_in(client, login_name: str) -> dict:
    payload = await mutate(
        client,
        "sessionCreateByPassword",
        {"loginName": login_name, "password": PASSWORD},
        sign_in_result("token account { id }"),
    )
    return sign_in_answer(payload)


async def _set_password(client, token: str, phone: str) -> None:
    grant = await step_up(client, token, phone)
    changed = await mutate(
        client, "accountPasswordChange", {"newPassword": PASSWORD, "stepUpToken": grant}, "account { id }", token
    )
    assert changed["errors"] == [], changed


async def test_reg_4_the_phone_as_a_login_name_reaches_only_the_portal_account_it_holds(
    client, db: Database, clock: ManualClock
) -> None:
    # Given a portal account holding PHONE, with a password
    holder = await sms_sign_in(client, PHONE)
    await _set_password(client, holder["token"], PHONE)
    # And a portal account from OTHER, with a username and a password, that moves to PHONE
    mover = await sms_sign_in(client, OTHER)
    token = mover["token"]
    assert (await mutate(client, "accountUsernameSet", {"username": "mover01"}, "account { id }", token))[
        "errors"
    ] == []
    clock.advance(seconds=61)
    await _set_password(client, token, OTHER)
    clock.advance(seconds=61)
    grant = await step_up(client, token, OTHER)
    assert (await send_code(client, "PHONE_CHANGE_NEW", phone=PHONE, token=token))["errors"] == []
    moved = await mutate(
        client,
        "accountPhoneChange",
        {"stepUpToken": grant, "newPhone": PHONE, "newPhoneCode": await last_code(client, PHONE)},
        "account { phone holdsPhone }",
        token,
    )
    assert moved["account"] == {"phone": "+86" + PHONE, "holdsPhone": False}
    # When each signs in with a password: by the phone, and by the mover's username
    by_phone = await _password_sign_in(client, PHONE)
    by_username = await _password_sign_in(client, "mover01")
    # Then the phone reaches the account it holds, and the username the account that binds the phone
    assert by_phone["account"]["id"] == holder["account"]["id"]
    assert by_username["account"]["id"] == mover["account"]["id"]
    viewer = await gql(client, "{ viewer { phone holdsPhone } }", token=by_phone["token"])
    assert viewer["viewer"] == {"phone": "+86" + PHONE, "holdsPhone": True}


async def test_reg_4_a_portal_account_moving_to_a_phone_that_holds_none_holds_it(client, clock: ManualClock) -> None:
    # Given a portal account holding OTHER
    mover = await sms_sign_in(client, OTHER)
    token = mover["token"]
    # When it moves to a phone that holds no portal account
    grant = await step_up(client, token, OTHER)
    assert (await send_code(client, "PHONE_CHANGE_NEW", phone=PHONE, token=token))["errors"] == []
    moved = await mutate(
        client,
        "accountPhoneChange",
        {"stepUpToken": grant, "newPhone": PHONE, "newPhoneCode": await last_code(client, PHONE)},
        "account { phone holdsPhone }",
        token,
    )
    # Then it holds that phone: SMS sign-in with it reaches the account, no new one is created
    assert moved["account"] == {"phone": "+86" + PHONE, "holdsPhone": True}
    clock.advance(seconds=61)
    again = await sms_sign_in(client, PHONE)
    assert (again["errors"], again["accountCreated"], again["account"]["id"]) == ([], False, mover["account"]["id"])


async def test_reg_4_sms_sign_in_creates_no_sixth_portal_account_on_a_phone(client, db: Database, clock) -> None:
    # Given a phone that holds no portal account but is bound to 5 (their holder moved elsewhere)
    await portal_accounts_binding(db, "+86" + PHONE, 5, clock.now())
    before = await _portal_accounts(db)
    # When someone signs in by SMS with it, with the right code
    refused = await sms_sign_in(client, PHONE)
    # Then no sixth portal account is created (REG-4) and nothing changed; the code stays usable
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [("PHONE_PORTAL_QUOTA_REACHED", ["input", "phone"])]
    assert refused["token"] is None
    assert await _portal_accounts(db) == before
    async with db.read_sessions() as s:
        used = await s.scalar(select(func.count()).select_from(OneTimeCode).where(OneTimeCode.consumed_at.is_not(None)))
    assert used == 0


async def test_reg_4_a_portal_account_without_a_login_name_of_its_own_cannot_bind_a_held_phone(
    client, db: Database, clock: ManualClock
) -> None:
    # Given a portal account holding PHONE, and one holding OTHER with neither a username nor an e-mail
    assert (await sms_sign_in(client, PHONE))["errors"] == []
    mover = await sms_sign_in(client, OTHER)
    token = mover["token"]
    grant = await step_up(client, token, OTHER)
    assert (await send_code(client, "PHONE_CHANGE_NEW", phone=PHONE, token=token))["errors"] == []
    code = await last_code(client, PHONE)
    before = await _portal_accounts(db)
    # When it moves to PHONE with the right code
    change = {"stepUpToken": grant, "newPhone": PHONE, "newPhoneCode": code}
    refused = await mutate(client, "accountPhoneChange", change, "account { phone }", token)
    # Then it is refused (it could never sign in again: PHONE's SMS sign-in reaches the other one), nothing
    # changed, and the answer cost one of the code's tries
    assert [(e["code"], e["path"], e["attemptsRemaining"]) for e in refused["errors"]] == [
        ("OWN_LOGIN_NAME_REQUIRED", ["input", "newPhone"], 4)
    ]
    assert await _portal_accounts(db) == before
    # When it chooses a username, the same code and grant move it
    assert (await mutate(client, "accountUsernameSet", {"username": "mover01"}, "account { id }", token))[
        "errors"
    ] == []
    moved = await mutate(client, "accountPhoneChange", change, "account { phone holdsPhone }", token)
    assert moved == {"account": {"phone": "+86" + PHONE, "holdsPhone": False}, "errors": []}
