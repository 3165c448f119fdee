"""REC-1 forgot password and REC-2 forgot account (with AUTH-4: a reset ends every session)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from models.auth import AuthSession, RecoveryTicket
from models.codes import OneTimeCode, OutboxMessage
from services.clock import ManualClock
from services.database import Database
from tests.helpers import (
    PASSWORD,
    gql,
    last_code,
    mutate,
    outbox,
    register,
    registered_and_signed_in,
    sign_in,
    sign_in_answer,
    sign_in_result,
    sms_sign_in,
    watched_strength,
)

PHONE = "13700000001"
OTHER_PHONE = "13900000009"
NEW_PASSWORD = "Green-Teapot-77!"
BOT_PASS = "sandbox-pass"
MASKED_PHONE = re.compile(r"1[3-9]\d\*{4}\d{4}")
FOUND = "accounts { kind loginNamesMasked }"
REVEALED = "accounts { kind loginNames }"


# --- helpers ----------------------------------------------------------------------------------


def _errors(payload: dict) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def _reset_start(client: httpx.AsyncClient, login_name: str, bot_token: str = BOT_PASS) -> dict:
    """`passwordResetStart`, as the tests read it: `errors` and the `passwordReset`'s fields side by side
    (None when refused); the result is null exactly when `errors` is not empty."""
    payload = await mutate(
        client,
        "passwordResetStart",
        {"loginName": login_name, "botToken": bot_token},
        "passwordReset { ticket phoneMasked expiresAt codeExpiresAt }",
    )
    reset = payload["passwordReset"]
    assert (reset is None) == bool(payload["errors"]), payload
    fields = ("ticket", "phoneMasked", "expiresAt", "codeExpiresAt")
    return {"errors": payload["errors"], **(reset or dict.fromkeys(fields))}


async def _reset_complete(client: httpx.AsyncClient, ticket: str, code: str, new_password: str = NEW_PASSWORD) -> dict:
    """`passwordResetComplete`: only `errors` comes back; the password is set when it is empty."""
    return await mutate(
        client, "passwordResetComplete", {"ticket": ticket, "code": code, "newPassword": new_password}, ""
    )


async def _lookup(client: httpx.AsyncClient, bot_token: str = BOT_PASS, **by: object) -> dict:
    """`accountRecoveryLookup` by the one criterion given (`phone=`, `accountId=` or `identity=`), as the
    tests read it: `errors`, the `accounts` found ([] when refused), and the reveal's `ticket`,
    `phoneMasked` and `codeExpiresAt` (None when refused or when nothing was found)."""
    payload = await mutate(
        client,
        "accountRecoveryLookup",
        {"botToken": bot_token, "by": by},
        f"lookup {{ {FOUND} reveal {{ ticket phoneMasked codeExpiresAt }} }}",
    )
    lookup = payload["lookup"]
    assert (lookup is None) == bool(payload["errors"]), payload
    reveal = lookup["reveal"] if lookup else None
    if lookup is not None:
        assert (reveal is None) == (lookup["accounts"] == []), payload  # a code goes out when accounts are found
    return {
        "errors": payload["errors"],
        "accounts": lookup["accounts"] if lookup else [],
        **(reveal or dict.fromkeys(("ticket", "phoneMasked", "codeExpiresAt"))),
    }


async def _reveal(client: httpx.AsyncClient, ticket: str, code: str) -> dict:
    return await mutate(client, "accountRecoveryReveal", {"ticket": ticket, "code": code}, REVEALED)


async def _password_works(client: httpx.AsyncClient, login_name: str, password: str) -> bool:
    payload = await mutate(
        client, "sessionCreateByPassword", {"loginName": login_name, "password": password}, sign_in_result()
    )
    return sign_in_answer(payload)["token"] is not None


async def _viewer(client: httpx.AsyncClient, token: str) -> dict | None:
    return (await gql(client, "query { viewer { username } }", token=token))["viewer"]


async def _sent(db: Database) -> list[tuple[str, str]]:
    """Every message the notifier wrote, anywhere: (destination, purpose), oldest first."""
    async with db.read_sessions() as s:
        rows = await s.execute(select(OutboxMessage.destination, OutboxMessage.purpose).order_by(OutboxMessage.id))
        return [tuple(r) for r in rows.all()]


async def _codes(db: Database, purpose: str) -> list[OneTimeCode]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(OneTimeCode).where(OneTimeCode.purpose == purpose).order_by(OneTimeCode.id)))


async def _tickets(db: Database) -> list[RecoveryTicket]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(RecoveryTicket).order_by(RecoveryTicket.id)))


# --- REC-1 --------------------------------------------------------------------------------------


async def test_rec_1_reset_start_sends_a_code_to_the_bound_phone_shown_masked(client, clock: ManualClock) -> None:
    # Given a cloud account bound to PHONE
    assert (await register(client, "alice01", PHONE))["errors"] == []
    # When its owner starts a reset and passes the bot check
    started = await _reset_start(client, "alice01")
    # Then the answer shows the phone masked only, with a 15-minute ticket and a 5-minute code
    assert started["errors"] == []
    assert started["ticket"]
    assert started["phoneMasked"] == "137****0001"
    assert started["expiresAt"] == (clock.now() + timedelta(minutes=15)).isoformat()
    assert started["codeExpiresAt"] == (clock.now() + timedelta(minutes=5)).isoformat()
    # And a PASSWORD_RESET code went to the bound phone
    [message, registration] = await outbox(client, PHONE)
    assert (message["purpose"], registration["purpose"]) == ("PASSWORD_RESET", "REGISTRATION")
    assert re.search(r"\b\d{6}\b", message["text"])


@pytest.mark.parametrize("login_name", ["alice01", "nobody99"])
async def test_rec_1_failed_bot_check_is_refused_and_sends_nothing(client, db: Database, login_name) -> None:
    # Given a cloud account
    assert (await register(client, "alice01", PHONE))["errors"] == []
    sent_before = await _sent(db)
    # When a reset is started with a token that fails the bot check (for a real or an unknown name)
    started = await _reset_start(client, login_name, bot_token="not-a-human")
    # Then it is refused on botToken, the same for both, and nothing was sent or stored
    assert _errors(started) == [("BOT_CHECK_FAILED", ["input", "botToken"])]
    assert (started["ticket"], started["phoneMasked"]) == (None, None)
    assert await _sent(db) == sent_before
    assert await _codes(db, "PASSWORD_RESET") == []
    assert await _tickets(db) == []
    # And no resend window was taken: passing the check right away works
    assert (await _reset_start(client, login_name))["errors"] == []


async def test_rec_1_unknown_login_name_gets_the_same_answer_and_no_sms(
    client, db: Database, clock: ManualClock
) -> None:
    # Given a real account, and what a reset for it answers
    assert (await register(client, "alice01", PHONE))["errors"] == []
    real = await _reset_start(client, "alice01")
    sent_before = await _sent(db)
    # When a reset is started for a login name that matches no account
    unknown = await _reset_start(client, "nobody99")
    # Then the answer has the same shape: a ticket, a plausible masked phone, the same lifetimes
    assert unknown["errors"] == []
    assert unknown.keys() == real.keys()
    assert unknown["ticket"]
    assert MASKED_PHONE.fullmatch(unknown["phoneMasked"])
    assert (unknown["expiresAt"], unknown["codeExpiresAt"]) == (real["expiresAt"], real["codeExpiresAt"])
    # And no SMS went anywhere, and no code was issued
    assert await _sent(db) == sent_before
    assert len(await _codes(db, "PASSWORD_RESET")) == 1
    # And the made-up masked phone is stable for that name
    clock.advance(seconds=61)
    assert (await _reset_start(client, "nobody99"))["phoneMasked"] == unknown["phoneMasked"]
    assert await _sent(db) == sent_before


async def test_rec_1_phone_as_login_name_answers_alike_with_or_without_a_portal_account(client, db: Database) -> None:
    # Given a portal account on one phone, and a phone with no portal account
    portal, free = "13800000011", "13800000022"
    assert (await sms_sign_in(client, portal))["errors"] == []
    sent_before = await _sent(db)
    # When resets are started by phone number for both
    real = await _reset_start(client, portal)
    unknown = await _reset_start(client, "+86 138 0000 0022")
    # Then both show the typed phone masked, so the answer does not tell which has an account
    assert real["phoneMasked"] == "138****0011"
    assert unknown["phoneMasked"] == "138****0022"
    assert unknown["errors"] == []
    # And only the real one received a code
    assert await _sent(db) == [*sent_before, ("+8613800000011", "PASSWORD_RESET")]
    assert await outbox(client, free) == []


@pytest.mark.parametrize("login_name", ["alice01", "nobody99"])
async def test_rec_1_wrong_codes_count_down_alike_for_real_and_unknown_names(client, db: Database, login_name) -> None:
    # Given a reset started for a real or an unknown login name
    assert (await register(client, "alice01", PHONE))["errors"] == []
    started = await _reset_start(client, login_name)
    right = await last_code(client, PHONE)  # for the unknown name: the registration code, never sent for it
    # When a wrong code is entered five times, the tries count down the same way
    results = [await _reset_complete(client, started["ticket"], _wrong(right)) for _ in range(5)]
    assert [_errors(r) for r in results] == [[("CODE_INVALID", ["input", "code"])]] * 5
    assert [r["errors"][0]["attemptsRemaining"] for r in results] == [4, 3, 2, 1, 0]
    # Then the code is void, even the right one
    exhausted = await _reset_complete(client, started["ticket"], right)
    assert _errors(exhausted) == [("CODE_ATTEMPTS_EXHAUSTED", ["input", "code"])]
    assert exhausted["errors"][0]["attemptsRemaining"] == 0
    # And the password is unchanged
    assert await _password_works(client, "alice01", PASSWORD)


async def test_rec_1_right_code_sets_the_new_password_and_ends_every_session(client, db: Database) -> None:
    # Given an account with two live sessions and a reset started
    first = await registered_and_signed_in(client, "alice01", PHONE)
    second = await sign_in(client, "alice01")
    started = await _reset_start(client, "alice01")
    code = await last_code(client, PHONE)
    # When the right code and a new password are sent
    done = await _reset_complete(client, started["ticket"], code)
    # Then it succeeds: no errors, and nothing else comes back to the signed-out client
    assert done == {"errors": []}
    # And every session of the account has ended (AUTH-4)
    assert await _viewer(client, first) is None
    assert await _viewer(client, second) is None
    async with db.read_sessions() as s:
        assert list(await s.scalars(select(AuthSession.end_reason))) == ["password_reset", "password_reset"]
    # And only the new password signs in
    assert not await _password_works(client, "alice01", PASSWORD)
    assert await _password_works(client, "alice01", NEW_PASSWORD)
    # And the ticket cannot be used twice
    again = await _reset_complete(client, started["ticket"], code, "Third-Lantern-19!")
    assert _errors(again) == [("TICKET_INVALID", ["input", "ticket"])]
    assert await _password_works(client, "alice01", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("new_password", "expected"),
    [
        ("Sh0rt!", "PASSWORD_TOO_SHORT"),
        ("x" * 129, "PASSWORD_TOO_LONG"),
        ("AliceLiddell", "PASSWORD_SAME_AS_USERNAME"),
        (PHONE, "PASSWORD_SAME_AS_PHONE"),
        ("password123", "PASSWORD_TOO_WEAK"),
        ("Aliceliddell13700000001", "PASSWORD_TOO_WEAK"),  # the account's own name and phone
    ],
)
async def test_rec_1_weak_new_password_is_a_payload_error_on_new_password(
    client, db: Database, new_password, expected
) -> None:
    # Given a reset started with the right code at hand
    assert (await register(client, "aliceliddell", PHONE))["errors"] == []
    started = await _reset_start(client, "aliceliddell")
    code = await last_code(client, PHONE)
    # When the new password breaks a REG-7 rule
    result = await _reset_complete(client, started["ticket"], code, new_password)
    # Then it is refused on newPassword, and neither the code nor the ticket counted a try
    assert _errors(result) == [(expected, ["input", "newPassword"])]
    [row] = await _codes(db, "PASSWORD_RESET")
    assert (row.attempts, row.consumed_at) == (0, None)
    [ticket] = await _tickets(db)
    assert (ticket.attempts, ticket.consumed_at) == (0, None)
    # And the old password still works; the same code then sets a good password
    assert await _password_works(client, "aliceliddell", PASSWORD)
    assert (await _reset_complete(client, started["ticket"], code))["errors"] == []


async def test_rec_1_ticket_expires_after_fifteen_minutes(client, clock: ManualClock) -> None:
    # Given a reset started now
    assert (await register(client, "alice01", PHONE))["errors"] == []
    started = await _reset_start(client, "alice01")
    code = await last_code(client, PHONE)
    # When 14 min 59 s have passed, the ticket lives but the 5-minute code has expired
    clock.advance(minutes=14, seconds=59)
    assert _errors(await _reset_complete(client, started["ticket"], code)) == [("CODE_EXPIRED", ["input", "code"])]
    # When 15 minutes have passed, the ticket itself is void
    clock.advance(seconds=1)
    result = await _reset_complete(client, started["ticket"], code)
    # Then it is refused on the ticket and the password is unchanged
    assert _errors(result) == [("TICKET_INVALID", ["input", "ticket"])]
    assert await _password_works(client, "alice01", PASSWORD)


@pytest.mark.parametrize("login_name", ["alice01", "nobody99"])
async def test_rec_1_resend_within_sixty_seconds_is_refused_for_real_and_unknown_names(
    client, db: Database, clock: ManualClock, login_name
) -> None:
    # Given a reset started for a real or an unknown login name
    assert (await register(client, "alice01", PHONE))["errors"] == []
    assert (await _reset_start(client, login_name))["errors"] == []
    sent_before = await _sent(db)
    tickets_before = len(await _tickets(db))
    # When another is asked 59 seconds later
    clock.advance(seconds=59)
    again = await _reset_start(client, login_name)
    # Then it is refused with the wait left, the same for both, and nothing was sent or stored
    assert _errors(again) == [("RESEND_TOO_SOON", None)]  # a limit: about the request as a whole
    assert again["errors"][0]["retryAfter"] == 1
    assert (again["ticket"], again["phoneMasked"]) == (None, None)
    assert await _sent(db) == sent_before
    assert len(await _tickets(db)) == tickets_before
    # And at 60 seconds a new reset can start
    clock.advance(seconds=1)
    assert (await _reset_start(client, login_name))["errors"] == []


@pytest.mark.parametrize("login_name", ["alice01\x00", "alice\n01", "\x1balice01"])
async def test_rec_1_a_login_name_with_a_control_character_is_refused(client, db: Database, login_name) -> None:
    # Given an account alice01
    assert (await register(client, "alice01", PHONE))["errors"] == []
    # When a reset is started with a login name holding NUL, a line break or ESC
    result = await _reset_start(client, login_name)
    # Then it is refused on loginName (no account has such a name) and nothing is stored or sent
    assert _errors(result) == [("LOGIN_NAME_INVALID", ["input", "loginName"])]
    assert await _tickets(db) == []
    assert await _sent(db) == [("+86" + PHONE, "REGISTRATION")]  # the registration code only


async def test_rec_1_login_name_is_required(client, db: Database) -> None:
    # Given nothing; When a reset is started with a blank login name
    result = await _reset_start(client, "   ")
    # Then it is refused on loginName and nothing is stored or sent
    assert _errors(result) == [("LOGIN_NAME_REQUIRED", ["input", "loginName"])]
    assert await _tickets(db) == []
    assert await _sent(db) == []


# --- REC-2 --------------------------------------------------------------------------------------


async def test_rec_2_lookup_by_phone_lists_every_account_masked_and_sends_a_code(
    client, db: Database, clock: ManualClock
) -> None:
    # Given two cloud accounts and the portal account on one phone, and an account on another phone
    assert (await register(client, "alice01", PHONE))["errors"] == []
    clock.advance(seconds=61)
    assert (await register(client, "bob0001", PHONE))["errors"] == []
    assert (await sms_sign_in(client, PHONE))["errors"] == []
    assert (await register(client, "carol01", OTHER_PHONE))["errors"] == []
    # When accounts are looked up by the phone
    found = await _lookup(client, phone=PHONE)
    # Then all three on that phone are listed, with masked login names only (REC-2): the portal account's
    # login name is its phone, which holds it (REG-4); no bound phone is listed beside the names
    assert found["errors"] == []
    assert found["ticket"]
    assert found["codeExpiresAt"] == (clock.now() + timedelta(minutes=5)).isoformat()
    assert found["accounts"] == [
        {"kind": kind, "loginNamesMasked": masked}
        for kind, masked in [("CLOUD", ["al***01"]), ("CLOUD", ["bo***01"]), ("PORTAL", ["137****0001"])]
    ]
    # And an ACCOUNT_REVEAL code went to that phone, nothing to the other
    assert (await outbox(client, PHONE))[0]["purpose"] == "ACCOUNT_REVEAL"
    assert [m["purpose"] for m in await outbox(client, OTHER_PHONE)] == ["REGISTRATION"]
    # When the code is entered
    revealed = await _reveal(client, found["ticket"], await last_code(client, PHONE))
    # Then the login names are shown in full
    assert revealed["errors"] == []
    assert revealed["accounts"] == [
        {"kind": kind, "loginNames": names}
        for kind, names in [("CLOUD", ["alice01"]), ("CLOUD", ["bob0001"]), ("PORTAL", ["13700000001"])]
    ]
    # And the ticket is used up
    again = await _reveal(client, found["ticket"], "123456")
    assert _errors(again) == [("TICKET_INVALID", ["input", "ticket"])]


async def test_rec_2_lookup_by_account_id(client) -> None:
    # Given two accounts on two phones
    alice = await register(client, "alice01", PHONE)
    assert (await register(client, "bob0001", OTHER_PHONE))["errors"] == []
    # When alice's account ID is looked up
    found = await _lookup(client, accountId=alice["account"]["accountId"])
    # Then only her account is listed, masked, and the code went to her phone only
    assert found["errors"] == []
    assert found["accounts"] == [{"kind": "CLOUD", "loginNamesMasked": ["al***01"]}]
    assert found["phoneMasked"] == "137****0001"
    assert (await outbox(client, PHONE))[0]["purpose"] == "ACCOUNT_REVEAL"
    assert [m["purpose"] for m in await outbox(client, OTHER_PHONE)] == ["REGISTRATION"]
    revealed = await _reveal(client, found["ticket"], await last_code(client, PHONE))
    assert [a["loginNames"] for a in revealed["accounts"]] == [["alice01"]]


@pytest.mark.parametrize(
    "by",
    [
        {},
        {"phone": "", "accountId": ""},
        {"phone": PHONE, "accountId": "1234567890123456"},
        {"phone": PHONE, "identity": {"name": "张三", "idNumber": "11010519491231002X"}},
        {"phone": None},
        {"identity": {"name": "张三"}},
    ],
)
async def test_rec_2_lookup_takes_exactly_one_criterion_at_the_type_level(client, db: Database, by) -> None:
    # Given an account on PHONE
    assert (await register(client, "alice01", PHONE))["errors"] == []
    sent_before = await _sent(db)
    # When the lookup gives no criterion, two, a null one, or half of the real-name pair
    body = await gql(
        client,
        "mutation($input: AccountRecoveryLookupInput!) { accountRecoveryLookup(input: $input) { errors { code } } }",
        {"input": {"botToken": BOT_PASS, "by": by}},
        expect_errors=True,
    )
    # Then the schema refuses the input itself (`by` is @oneOf, `identity` needs both), and nothing was sent
    assert "data" not in body  # refused before execution: GraphQL over HTTP leaves out `data`
    assert len(body["errors"]) == 1
    assert await _sent(db) == sent_before
    assert await _tickets(db) == []


ID_NUMBER = "11010519491231002X"


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ({"phone": "12345"}, [("INVALID_PHONE", ["input", "by", "phone"])]),
        ({"phone": "+1 555 0100"}, [("INVALID_PHONE", ["input", "by", "phone"])]),
        ({"phone": ""}, [("INVALID_PHONE", ["input", "by", "phone"])]),
        ({"accountId": "123456789012345"}, [("INVALID_ACCOUNT_ID", ["input", "by", "accountId"])]),
        ({"accountId": "12345678901234567"}, [("INVALID_ACCOUNT_ID", ["input", "by", "accountId"])]),
        ({"accountId": "12345678901234ab"}, [("INVALID_ACCOUNT_ID", ["input", "by", "accountId"])]),
        (
            {"accountId": "１００００００００００００００１"},
            [("INVALID_ACCOUNT_ID", ["input", "by", "accountId"])],
        ),  # full-width digits
        ({"phone": "１３７００００００01"}, [("INVALID_PHONE", ["input", "by", "phone"])]),  # full-width digits
        (
            {"identity": {"name": "张\x00三", "idNumber": ID_NUMBER}},
            [("NAME_INVALID", ["input", "by", "identity", "name"])],
        ),  # NUL: PostgreSQL
        (
            {"identity": {"name": "张三", "idNumber": "110105194912310021"}},
            [("ID_NUMBER_INVALID", ["input", "by", "identity", "idNumber"])],
        ),
        (
            {"identity": {"name": " ", "idNumber": ID_NUMBER}},
            [("NAME_REQUIRED", ["input", "by", "identity", "name"])],
        ),
        # Every problem of the real-name pair at once
        (
            {"identity": {"name": "", "idNumber": ""}},
            [
                ("NAME_REQUIRED", ["input", "by", "identity", "name"]),
                ("ID_NUMBER_INVALID", ["input", "by", "identity", "idNumber"]),
            ],
        ),
        (
            {"identity": {"name": "张\n三", "idNumber": "12345"}},
            [
                ("NAME_INVALID", ["input", "by", "identity", "name"]),
                ("ID_NUMBER_INVALID", ["input", "by", "identity", "idNumber"]),
            ],
        ),
    ],
)
async def test_rec_2_bad_criteria_are_refused_on_their_nested_path(client, db: Database, by, expected) -> None:
    # Given nothing; When the lookup criterion is malformed
    result = await _lookup(client, **by)
    # Then it is refused on the nested field(s) and nothing is stored or sent
    assert _errors(result) == expected
    assert (result["ticket"], result["accounts"]) == (None, [])
    assert await _sent(db) == []
    assert await _tickets(db) == []


@pytest.mark.parametrize("criteria", [{"phone": OTHER_PHONE}, {"accountId": "1000000000000001"}])
async def test_rec_2_lookup_without_accounts_gives_an_empty_list_and_no_sms(client, db: Database, criteria) -> None:
    # Given an account on PHONE only
    assert (await register(client, "alice01", PHONE))["errors"] == []
    sent_before = await _sent(db)
    # When a phone or account ID with no account is looked up
    result = await _lookup(client, **criteria)
    # Then the list is empty, there is no ticket, and no SMS was sent
    assert result == {"ticket": None, "phoneMasked": None, "codeExpiresAt": None, "accounts": [], "errors": []}
    assert await _sent(db) == sent_before
    assert await _codes(db, "ACCOUNT_REVEAL") == []


async def test_rec_2_lookup_by_name_and_id_number_finds_the_accounts_verified_with_them(
    client, db: Database, clock: ManualClock
) -> None:
    from tests.api.test_verification import face_verified

    # Given two accounts on PHONE and one on OTHER_PHONE verified with one ID number, and one with another
    for username, phone in [("alice01", PHONE), ("alice02", PHONE), ("alice03", OTHER_PHONE)]:
        assert (await register(client, username, phone))["errors"] == []
        await face_verified(client, await sign_in(client, username), "11010519491231002X")
        clock.advance(seconds=61)
    assert (await register(client, "bob0001", PHONE))["errors"] == []
    await face_verified(client, await sign_in(client, "bob0001"), "440301200801011238")
    sent_before = await _sent(db)
    # A wrong name finds nothing and sends nothing
    nobody = await _lookup(client, identity={"name": "李四", "idNumber": "11010519491231002X"})
    assert nobody == {"ticket": None, "phoneMasked": None, "codeExpiresAt": None, "accounts": [], "errors": []}
    assert await _sent(db) == sent_before
    # When looked up by the name and the number (lower-case x accepted)
    found = await _lookup(client, identity={"name": " 张三 ", "idNumber": "11010519491231002x"})
    # Then the three accounts are listed masked, most recently verified first
    assert found["errors"] == []
    assert [a["loginNamesMasked"] for a in found["accounts"]] == [["al***03"], ["al***02"], ["al***01"]]
    assert found["phoneMasked"] == "139****0009"
    # And the code went to the phone of the most recent one, revealing the account bound to it
    assert (await outbox(client, OTHER_PHONE))[0]["purpose"] == "ACCOUNT_REVEAL"
    revealed = await _reveal(client, found["ticket"], await last_code(client, OTHER_PHONE))
    assert [a["loginNames"] for a in revealed["accounts"]] == [["alice03"]]


async def test_rec_2_failed_bot_check_is_refused_and_sends_nothing(client, db: Database) -> None:
    # Given an account on PHONE
    assert (await register(client, "alice01", PHONE))["errors"] == []
    sent_before = await _sent(db)
    # When it is looked up with a token that fails the bot check
    result = await _lookup(client, bot_token="not-a-human", phone=PHONE)
    # Then it is refused on botToken, nothing is listed and no code was sent
    assert _errors(result) == [("BOT_CHECK_FAILED", ["input", "botToken"])]
    assert (result["ticket"], result["accounts"]) == (None, [])
    assert await _sent(db) == sent_before
    assert await _codes(db, "ACCOUNT_REVEAL") == []


async def test_rec_2_wrong_reveal_code_is_refused_and_counted(client, db: Database) -> None:
    # Given a lookup that sent a code
    assert (await register(client, "alice01", PHONE))["errors"] == []
    found = await _lookup(client, phone=PHONE)
    code = await last_code(client, PHONE)
    # When a wrong code is entered
    result = await _reveal(client, found["ticket"], _wrong(code))
    # Then nothing is revealed, the try is counted, the ticket stays open
    assert _errors(result) == [("CODE_INVALID", ["input", "code"])]
    assert result["errors"][0]["attemptsRemaining"] == 4
    assert result["accounts"] is None
    [row] = await _codes(db, "ACCOUNT_REVEAL")
    assert (row.attempts, row.consumed_at) == (1, None)
    [ticket] = await _tickets(db)
    assert ticket.consumed_at is None
    # And the right code still reveals the name
    assert [a["loginNames"] for a in (await _reveal(client, found["ticket"], code))["accounts"]] == [["alice01"]]


async def test_rec_2_reveal_ticket_expires_after_fifteen_minutes(client, clock: ManualClock) -> None:
    # Given a lookup that sent a code
    assert (await register(client, "alice01", PHONE))["errors"] == []
    found = await _lookup(client, phone=PHONE)
    code = await last_code(client, PHONE)
    # When the code is entered 15 minutes later
    clock.advance(minutes=15)
    result = await _reveal(client, found["ticket"], code)
    # Then the ticket is void and nothing is revealed
    assert _errors(result) == [("TICKET_INVALID", ["input", "ticket"])]
    assert result["accounts"] is None


async def _aliased_resets(client: httpx.AsyncClient, ticket: str, code: str, passwords: list[str]) -> list[dict]:
    """One document with one aliased `passwordResetComplete` per new password (the REC-1 oracle of old)."""
    fields = " ".join(
        f'g{i}: passwordResetComplete(input: {{ticket: "{ticket}", code: "{code}", newPassword: "{pw}"}}) '
        "{ errors { path message code attemptsRemaining } }"
        for i, pw in enumerate(passwords)
    )
    data = await gql(client, f"mutation {{ {fields} }}")
    return [data[f"g{i}"] for i in range(len(passwords))]


async def test_rec_1_aliased_phone_guesses_without_the_code_tell_nothing_and_each_costs_a_try(
    client, clock: ManualClock, db: Database
) -> None:
    # Given a reset started for alice01, whose bound phone the attacker guesses; the code unknown
    assert (await register(client, "alice01", PHONE))["errors"] == []
    guesses = ["13700000002", "13700000003", "13700000004", "13700000005", "13700000006", "13700000007"]
    answers = []
    for candidates in ([*guesses[:2], PHONE, *guesses[3:]], guesses):
        started = await _reset_start(client, "alice01")
        right = await last_code(client, PHONE)
        # When one document tries each candidate phone as the new password, with a wrong code
        answers.append(await _aliased_resets(client, started["ticket"], _wrong(right), candidates))
        clock.advance(seconds=60)
    # Then the answers with and without the bound phone among the guesses are identical
    with_phone, without_phone = answers
    assert with_phone == without_phone
    # And each guess was judged on the code alone, costing a try, until the code is void
    assert [(a["errors"][0]["code"], a["errors"][0]["attemptsRemaining"]) for a in with_phone] == [
        ("CODE_INVALID", 4),
        ("CODE_INVALID", 3),
        ("CODE_INVALID", 2),
        ("CODE_INVALID", 1),
        ("CODE_INVALID", 0),
        ("CODE_ATTEMPTS_EXHAUSTED", 0),
    ]
    assert all(a["errors"] for a in with_phone)
    assert [c.attempts for c in await _codes(db, "PASSWORD_RESET")] == [5, 5]
    assert await _password_works(client, "alice01", PASSWORD)


@pytest.mark.parametrize("login_name", ["alice01", "nobody99"])
async def test_rec_1_expired_code_answers_alike_for_real_and_unknown_names(
    client, clock: ManualClock, login_name
) -> None:
    # Given a reset started for a real or an unknown login name
    assert (await register(client, "alice01", PHONE))["errors"] == []
    started = await _reset_start(client, login_name)
    # When a code is entered once the 5-minute code lifetime is over
    clock.advance(minutes=5)
    late = await _reset_complete(client, started["ticket"], "123456")
    # Then both answer that the code has expired, and nothing was counted
    assert late["errors"] == [
        {
            "path": ["input", "code"],
            "code": "CODE_EXPIRED",
            "message": "This code has expired; request a new one.",
            "retryAfter": None,
            "attemptsRemaining": None,
        }
    ]


async def test_rec_1_a_phone_that_got_no_code_answers_like_an_unknown_name(
    client, clock: ManualClock, db: Database
) -> None:
    # Given alice01's phone has received as many codes today as it may (CODE-3), the last one expired
    assert (await register(client, "alice01", PHONE))["errors"] == []
    for _ in range(50):
        clock.advance(seconds=60)
        before = len(await outbox(client, PHONE))
        assert (await _reset_start(client, "alice01"))["errors"] == []
        if len(await outbox(client, PHONE)) == before:
            break
    else:
        pytest.fail("the daily cap was never reached")
    clock.advance(minutes=5)
    # When a reset is started for alice01 (no SMS can go out) and for an unknown name
    real = await _reset_start(client, "alice01")
    unknown = await _reset_start(client, "nobody99")
    sent = await _sent(db)
    # Then wrong codes count down alike for both
    for tries_left in (4, 3):
        real_answer = await _reset_complete(client, real["ticket"], "123456")
        unknown_answer = await _reset_complete(client, unknown["ticket"], "123456")
        assert real_answer == unknown_answer
        assert (real_answer["errors"][0]["code"], real_answer["errors"][0]["attemptsRemaining"]) == (
            "CODE_INVALID",
            tries_left,
        )
    assert await _sent(db) == sent


def _answers(payloads: list[dict]) -> list[tuple[str, int | None, str]]:
    return [(e["code"], e["attemptsRemaining"], e["message"]) for p in payloads for e in p["errors"]]


async def test_rec_1_a_ticket_whose_start_sent_no_code_answers_like_an_unknown_name(
    app, client, clock: ManualClock, db: Database
) -> None:
    # Given five resets of alice01 from two networks (one network may spend only 3 of a phone's reset
    # codes a day), which spend her phone's reset codes for the day (CODE-3); the fifth code is live, and
    # an attacker has entered two wrong codes on the fifth ticket
    assert (await register(client, "alice01", PHONE))["errors"] == []
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        for n in range(5):
            clock.advance(seconds=61)
            fifth = await _reset_start(client if n < 3 else elsewhere, "alice01")
            assert fifth["errors"] == []
    fifth_code = await last_code(client, PHONE)
    for _ in range(2):
        await _reset_complete(client, fifth["ticket"], _wrong(fifth_code))
    # When a sixth reset starts for alice01 (no SMS can go out) and one for an unknown name
    clock.advance(seconds=61)
    sent = await _sent(db)
    real = await _reset_start(client, "alice01")
    unknown = await _reset_start(client, "nobody99")
    assert await _sent(db) == sent
    # Then the same entries get the same answers on both tickets: wrong codes count down from 4 on each
    # ticket alone, and even the phone's live code (the fifth ticket's) completes neither
    entries = [_wrong(fifth_code), fifth_code, _wrong(fifth_code), _wrong(fifth_code), _wrong(fifth_code), fifth_code]
    real_answers = [await _reset_complete(client, real["ticket"], code) for code in entries]
    unknown_answers = [await _reset_complete(client, unknown["ticket"], code) for code in entries]
    assert real_answers == unknown_answers
    assert [(code, left) for code, left, _ in _answers(real_answers)] == [
        ("CODE_INVALID", 4),
        ("CODE_INVALID", 3),
        ("CODE_INVALID", 2),
        ("CODE_INVALID", 1),
        ("CODE_INVALID", 0),
        ("CODE_ATTEMPTS_EXHAUSTED", 0),
    ]
    assert await _password_works(client, "alice01", PASSWORD)
    # And the fifth ticket kept its own count (3 tries left) and its own code, which still completes it
    assert (await _reset_complete(client, fifth["ticket"], fifth_code))["errors"] == []
    assert await _password_works(client, "alice01", NEW_PASSWORD)


async def test_rec_1_two_login_names_on_one_phone_do_not_share_a_ticket_or_its_count(
    client, clock: ManualClock, db: Database
) -> None:
    # Given alice01 and alice02 on one phone; a reset of alice01 sends a code, and one of alice02 within
    # 60 seconds cannot (the phone's gap, CODE-3); and a reset of an unknown name
    assert (await register(client, "alice01", PHONE))["errors"] == []
    clock.advance(seconds=61)
    assert (await register(client, "alice02", PHONE))["errors"] == []
    first = await _reset_start(client, "alice01")
    code = await last_code(client, PHONE)
    second = await _reset_start(client, "alice02")
    unknown = await _reset_start(client, "nobody99")
    # When two wrong codes are entered on alice01's ticket
    first_answers = [await _reset_complete(client, first["ticket"], _wrong(code)) for _ in range(2)]
    assert [left for _, left, _ in _answers(first_answers)] == [4, 3]
    # Then alice02's ticket answers exactly like the unknown name's: its own count, from 4, and alice01's
    # code does not complete it
    entries = [_wrong(code), code]
    second_answers = [await _reset_complete(client, second["ticket"], c) for c in entries]
    unknown_answers = [await _reset_complete(client, unknown["ticket"], c) for c in entries]
    assert second_answers == unknown_answers
    assert [(c, left) for c, left, _ in _answers(second_answers)] == [("CODE_INVALID", 4), ("CODE_INVALID", 3)]
    assert await _password_works(client, "alice02", PASSWORD)
    # And alice01's ticket kept its count: one more wrong code leaves 2, and its code completes it (as
    # typed, with spaces around)
    assert [left for _, left, _ in _answers([await _reset_complete(client, first["ticket"], _wrong(code))])] == [2]
    assert (await _reset_complete(client, first["ticket"], f" {code} "))["errors"] == []
    assert await _password_works(client, "alice01", NEW_PASSWORD)
    assert await _password_works(client, "alice02", PASSWORD)


async def test_rec_1_zxcvbn_runs_after_the_code_on_its_own_thread_with_no_transaction_held(
    client, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a reset started, and zxcvbn watched
    assert (await register(client, "alice01", PHONE))["errors"] == []
    started = await _reset_start(client, "alice01")
    code = await last_code(client, PHONE)
    judged = watched_strength(monkeypatch, db)
    # When a wrong code comes with a hostile password, zxcvbn does not run
    wrong = await _reset_complete(client, started["ticket"], _wrong(code), "1|7!" * 8)
    assert _errors(wrong) == [("CODE_INVALID", ["input", "code"])]
    assert judged.calls == 0
    # When the right code comes with a good password
    assert (await _reset_complete(client, started["ticket"], code))["errors"] == []
    # Then the password was judged once, off the event loop's thread, while the request held no write
    # transaction (nor this process's write queue) and no database connection
    assert judged.calls == 1
    assert judged.threads == {"zxcvbn_0"}
    assert (judged.inside_write, judged.queue_held, judged.connections_held) == (0, 0, [0])


@pytest.mark.slow
@pytest.mark.parametrize("login_name", ["alice01", "nobody99"])
async def test_rec_1_sixty_simultaneous_wrong_codes_are_judged_five_times(client, db: Database, login_name) -> None:
    # Given a reset started for a real or an unknown login name
    assert (await register(client, "alice01", PHONE))["errors"] == []
    started = await _reset_start(client, login_name)
    right = await last_code(client, PHONE)
    # When 60 wrong codes arrive at once
    results = await asyncio.gather(*[_reset_complete(client, started["ticket"], _wrong(right)) for _ in range(60)])
    # Then five are judged wrong and the rest find the code void
    answers = [_errors(r) for r in results]
    assert answers.count([("CODE_INVALID", ["input", "code"])]) == 5
    assert answers.count([("CODE_ATTEMPTS_EXHAUSTED", ["input", "code"])]) == 55
    # And the right code no longer works
    assert _errors(await _reset_complete(client, started["ticket"], right)) == [
        ("CODE_ATTEMPTS_EXHAUSTED", ["input", "code"])
    ]
    assert await _password_works(client, "alice01", PASSWORD)


@pytest.mark.slow
async def test_rec_1_sixty_simultaneous_right_codes_set_one_password(client, db: Database) -> None:
    # Given a reset started with the right code at hand
    assert (await register(client, "alice01", PHONE))["errors"] == []
    started = await _reset_start(client, "alice01")
    code = await last_code(client, PHONE)
    passwords = [f"Green-Teapot-{i:02d}!" for i in range(60)]
    # When 60 completions with different new passwords arrive at once
    results = await asyncio.gather(*[_reset_complete(client, started["ticket"], code, pw) for pw in passwords])
    # Then exactly one sets its password; the others find the ticket or the code used
    winners = [pw for pw, r in zip(passwords, results, strict=True) if not r["errors"]]
    assert len(winners) == 1
    assert {(code, tuple(path)) for r in results if r["errors"] for code, path in _errors(r)} <= {
        ("TICKET_INVALID", ("input", "ticket")),
        ("CODE_ATTEMPTS_EXHAUSTED", ("input", "code")),
        ("CODE_INVALID", ("input", "code")),
    }
    assert await _password_works(client, "alice01", winners[0])


# --- every stateless problem at once, before anything about the ticket ------------------------------


async def test_rec_1_new_password_and_code_problems_come_back_together_and_nothing_is_counted(
    client, db: Database
) -> None:
    # Given a reset started with the right code at hand
    assert (await register(client, "alice01", PHONE))["errors"] == []
    started = await _reset_start(client, "alice01")
    code = await last_code(client, PHONE)
    # When the new password is too short and the code malformed, on an unknown ticket even
    for ticket in (started["ticket"], "rct_unknown"):
        result = await _reset_complete(client, ticket, "12ab", "Sh0rt!")
        # Then both input problems come back together, and the ticket is not even looked at
        assert _errors(result) == [
            ("PASSWORD_TOO_SHORT", ["input", "newPassword"]),
            ("CODE_FORMAT_INVALID", ["input", "code"]),
        ]
    # And nothing was counted on the ticket or the code: the code then sets a good password
    [row] = await _codes(db, "PASSWORD_RESET")
    assert (row.attempts, row.consumed_at) == (0, None)
    [ticket] = await _tickets(db)
    assert (ticket.attempts, ticket.consumed_at) == (0, None)
    assert (await _reset_complete(client, started["ticket"], code))["errors"] == []


async def test_rec_2_a_malformed_reveal_code_is_refused_before_the_ticket_is_judged(client, db: Database) -> None:
    # Given a lookup that sent a code
    assert (await register(client, "alice01", PHONE))["errors"] == []
    found = await _lookup(client, phone=PHONE)
    code = await last_code(client, PHONE)
    # When a malformed code comes, with the ticket or with a made-up one
    for ticket in (found["ticket"], "rct_unknown"):
        result = await _reveal(client, ticket, "12ab")
        # Then the code's format answers, alike, and nothing is revealed
        assert _errors(result) == [("CODE_FORMAT_INVALID", ["input", "code"])]
        assert result["accounts"] is None
    # And nothing was counted: the code reveals the name
    [row] = await _codes(db, "ACCOUNT_REVEAL")
    assert (row.attempts, row.consumed_at) == (0, None)
    assert [a["loginNames"] for a in (await _reveal(client, found["ticket"], code))["accounts"]] == [["alice01"]]
