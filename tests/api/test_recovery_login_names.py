"""REC-2: the accounts a look-up finds show their login names only, masked (a portal account's username,
e-mail, and its phone when the phone holds it, REG-4), never a bound phone or e-mail beside them; the SMS
code to the bound phone reveals the same names in full."""

from __future__ import annotations

from services.clock import ManualClock
from services.database import Database
from tests.helpers import last_code, mutate, portal_accounts_binding, send_code, sms_sign_in, step_up

PHONE = "13700000001"
FOUND = "lookup { accounts { kind loginNamesMasked } reveal { ticket phoneMasked } }"


async def test_rec_2_lookup_lists_each_accounts_login_names_masked_and_the_code_reveals_them(
    client, db: Database, clock: ManualClock
) -> None:
    # Given a portal account held by PHONE, with a username and an e-mail address
    holder = await sms_sign_in(client, PHONE)
    token = holder["token"]
    assert (await mutate(client, "accountUsernameSet", {"username": "pat0001"}, "account { id }", token))[
        "errors"
    ] == []
    grant = await step_up(client, token, PHONE)
    assert (await send_code(client, "EMAIL_BIND", email="pat@example.com", token=token))["errors"] == []
    code = await last_code(client, "pat@example.com")
    bound = await mutate(
        client,
        "accountEmailBind",
        {"email": "pat@example.com", "code": code, "stepUpToken": grant},
        "account { email }",
        token,
    )
    assert bound["errors"] == []
    # And a portal account that binds PHONE without holding it
    await portal_accounts_binding(db, "+86" + PHONE, 1, clock.now())
    clock.advance(seconds=61)
    # When the accounts are looked up by the phone
    found = await mutate(client, "accountRecoveryLookup", {"botToken": "sandbox-pass", "by": {"phone": PHONE}}, FOUND)
    # Then each lists its login names, masked: the phone only for the account it holds
    assert found["errors"] == []
    assert found["lookup"]["accounts"] == [
        {"kind": "PORTAL", "loginNamesMasked": ["pa***01", "pa***@example.com", "137****0001"]},
        {"kind": "PORTAL", "loginNamesMasked": ["bi***r0"]},
    ]
    # When the code sent to the bound phone is entered
    revealed = await mutate(
        client,
        "accountRecoveryReveal",
        {"ticket": found["lookup"]["reveal"]["ticket"], "code": await last_code(client, PHONE)},
        "accounts { kind loginNames }",
    )
    # Then the same names are shown in full
    assert revealed["errors"] == []
    assert revealed["accounts"] == [
        {"kind": "PORTAL", "loginNames": ["pat0001", "pat@example.com", "13700000001"]},
        {"kind": "PORTAL", "loginNames": ["binder0"]},
    ]
