"""CAN-1..5: account cancellation in the order CAN-4 sets (agreement, operation protection, pre-check,
forfeiture acknowledgement, second confirmation), each refusal with its own code and nothing changed, and what a
cancelled account is afterwards."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from models.accounts import Account, AgreementAcceptance, RetiredUsername
from models.auth import AuthSession, StepUpGrant
from models.enterprise import BalanceEntry
from models.lifecycle import Cancellation
from models.verification import IdentityDocumentUse, Verification
from services.accounts.agreements import CURRENT, AgreementKind
from services.clock import ManualClock
from services.database import Database
from tests.api.test_verification import ID_1949, NAME, face_verified
from tests.helpers import (
    PASSWORD,
    last_code,
    mutate,
    outbox,
    register,
    registered_and_signed_in,
    sign_in,
    sign_in_result,
    step_up,
    watched_hasher,
)
from tests.services.test_erasure import _dump, _found

PHONE = "13700000041"
VERSION = CURRENT[AgreementKind.ACCOUNT_CANCELLATION].version
FLOW = "cancellation { id step notes exportMutation precheckPassed precheck { kind passed blocker amount resolveAt } }"
BOT_PASS = "sandbox-pass"


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def _grant(client: httpx.AsyncClient, token: str, clock: ManualClock, phone: str = PHONE) -> str:
    clock.advance(timedelta(minutes=2))  # past the code's resend interval
    return await step_up(client, token, phone)


async def _start(client: httpx.AsyncClient, token: str, version: str = VERSION) -> dict[str, Any]:
    return await mutate(client, "accountCancellationStart", {"agreement": {"version": version}}, FLOW, token)


async def _precheck(client: httpx.AsyncClient, token: str, cid: str, grant: str | None) -> dict[str, Any]:
    return await mutate(
        client, "accountCancellationPrecheck", {"cancellationId": cid, "stepUpToken": grant}, FLOW, token
    )


async def _acknowledge(client: httpx.AsyncClient, token: str, cid: str, yes: bool = True) -> dict[str, Any]:
    return await mutate(
        client,
        "accountCancellationAcknowledge",
        {"cancellationId": cid, "forfeitureAcknowledged": yes},
        f"{FLOW} confirmation",
        token,
    )


async def _confirm(client: httpx.AsyncClient, token: str, cid: str, confirmation: str) -> dict[str, Any]:
    return await mutate(
        client, "accountCancellationConfirm", {"cancellationId": cid, "confirmation": confirmation}, FLOW, token
    )


async def _to_acknowledged(client: httpx.AsyncClient, token: str, clock: ManualClock) -> tuple[str, str]:
    started = await _start(client, token)
    assert started["errors"] == [], started
    cid = started["cancellation"]["id"]
    checked = await _precheck(client, token, cid, await _grant(client, token, clock))
    assert checked["errors"] == [], checked
    acknowledged = await _acknowledge(client, token, cid)
    assert acknowledged["errors"] == [], acknowledged
    return cid, acknowledged["confirmation"]


async def _set_standing(client: httpx.AsyncClient, account_id: int | None, **facts: int) -> dict[str, Any]:
    response = await client.post(f"/sandbox/accounts/{account_id}/standing", json=facts)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _account(db: Database, username: str) -> Account:
    async with db.read_sessions() as session:
        found = await session.scalar(select(Account).where(Account.username == username))
        assert found is not None
        return found


async def _state(db: Database, account_id: int) -> tuple[str, str | None, int, int]:
    """The account's status, its flow's step, its live sessions and its retired usernames: what a refusal
    must leave as it was."""
    async with db.read_sessions() as session:
        status = await session.scalar(select(Account.status).where(Account.id == account_id))
        step = await session.scalar(select(Cancellation.state).where(Cancellation.account_id == account_id))
        live = await session.scalar(
            select(func.count()).where(AuthSession.account_id == account_id, AuthSession.ended_at.is_(None))
        )
        retired = await session.scalar(select(func.count()).select_from(RetiredUsername))
        return str(status), step, int(live or 0), int(retired or 0)


# --- CAN-1 / CAN-4 step 1 ----------------------------------------------------------------------------------------


async def test_can_1_start_shows_the_notes_with_the_export_and_needs_the_cancellation_agreement(
    client, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver01", PHONE)
    account = await _account(db, "leaver01")
    refused = await _start(client, token, "2000-01")
    assert _codes(refused) == ["AGREEMENT_VERSION_OUTDATED"]
    assert refused["cancellation"] is None
    assert await _state(db, account.id) == ("active", None, 1, 0)

    started = await _start(client, token)
    assert started["errors"] == []
    flow = started["cancellation"]
    assert flow["step"] == "STARTED"
    assert "irreversible" in flow["notes"]
    assert "accountDataExportCreate" in flow["notes"]
    assert flow["exportMutation"] == "accountDataExportCreate"
    assert flow["precheckPassed"] is None
    async with db.read_sessions() as session:
        kinds = await session.scalars(
            select(AgreementAcceptance.agreement).where(AgreementAcceptance.account_id == account.id)
        )
        assert "ACCOUNT_CANCELLATION" in list(kinds)
    agreements = await client.post("/graphql", json={"query": "{ agreements { kind version step } }"})
    assert {"kind": "ACCOUNT_CANCELLATION", "version": VERSION, "step": "ACCOUNT_CANCELLATION"} in agreements.json()[
        "data"
    ]["agreements"]


# --- CAN-4: the order, and operation protection ----------------------------------------------------------------


async def test_can_4_operation_protection_is_passed_at_the_pre_check(client, clock: ManualClock, db: Database) -> None:
    token = await registered_and_signed_in(client, "leaver02", PHONE)
    account = await _account(db, "leaver02")
    cid = (await _start(client, token))["cancellation"]["id"]
    refused = await _precheck(client, token, cid, None)
    assert _codes(refused) == ["STEP_UP_REQUIRED"]
    assert await _state(db, account.id) == ("active", "started", 1, 0)
    invalid = await _precheck(client, token, cid, "sug_made-up")
    assert _codes(invalid) == ["STEP_UP_INVALID"]
    checked = await _precheck(client, token, cid, await _grant(client, token, clock))
    assert checked["errors"] == []
    assert checked["cancellation"]["step"] == "PRECHECKED"
    assert checked["cancellation"]["precheckPassed"] is True


async def test_can_4_steps_out_of_order_are_refused_and_change_nothing(
    client, clock: ManualClock, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver03", PHONE)
    account = await _account(db, "leaver03")
    made_up = "Q2FuY2VsbGF0aW9uOjk5OQ=="  # Cancellation:999
    # The pre-check before a start: no such cancellation
    assert _codes(await _precheck(client, token, made_up, await _grant(client, token, clock))) == [
        "CANCELLATION_NOT_FOUND"
    ]
    cid = (await _start(client, token))["cancellation"]["id"]
    # Acknowledge and confirm before the pre-check
    assert _codes(await _acknowledge(client, token, cid)) == ["CANCELLATION_STEP_NOT_CURRENT"]
    assert _codes(await _confirm(client, token, cid, "cnc_made-up")) == ["CANCELLATION_STEP_NOT_CURRENT"]
    assert await _state(db, account.id) == ("active", "started", 1, 0)
    # Confirm before the acknowledgement, and an acknowledgement that is not given
    assert (await _precheck(client, token, cid, await _grant(client, token, clock)))["errors"] == []
    assert _codes(await _confirm(client, token, cid, "cnc_made-up")) == ["FORFEITURE_NOT_ACKNOWLEDGED"]
    assert _codes(await _acknowledge(client, token, cid, yes=False)) == ["FORFEITURE_NOT_ACKNOWLEDGED"]
    assert await _state(db, account.id) == ("active", "prechecked", 1, 0)
    # Another account's cancellation is unknown
    other = await registered_and_signed_in(client, "leaver33", "13700000049")
    assert _codes(await _acknowledge(client, other, cid)) == ["CANCELLATION_NOT_FOUND"]


# --- CAN-2 / CAN-3: the pre-check and the sandbox standing -------------------------------------------------------


async def test_can_2_blockers_from_the_sandbox_standing_page_fail_the_pre_check_item_by_item(
    client, clock: ManualClock, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver04", PHONE)
    account = await _account(db, "leaver04")
    page = await client.get(f"/sandbox/accounts/{account.account_number}/standing")
    assert page.status_code == 200
    assert 'name="arrears_fen"' in page.text
    fresh = (await client.get(f"/sandbox/accounts/{account.account_number}/standing.json")).json()
    assert set(fresh.values()) == {account.account_number, 0}  # a new account has none

    await _set_standing(
        client, account.account_number, unfinished_orders=2, unfinished_services=1, arrears_fen=1500, open_complaints=1
    )
    form = await client.post(
        f"/sandbox/accounts/{account.account_number}/standing", data={"organisation_settings": "1"}
    )
    assert form.status_code == 200
    assert "Saved." in form.text
    cid = (await _start(client, token))["cancellation"]["id"]
    checked = await _precheck(client, token, cid, await _grant(client, token, clock))
    assert checked["errors"] == []
    flow = checked["cancellation"]
    assert flow["precheckPassed"] is False
    unmet = {i["kind"]: (i["amount"], i["resolveAt"]) for i in flow["precheck"] if not i["passed"]}
    assert unmet == {
        "UNFINISHED_ORDERS": (2, "orders page"),
        "UNFINISHED_SERVICES": (1, "orders page"),
        "ARREARS": (1500, "finance page"),
        "OPEN_COMPLAINTS": (1, "complaints page"),
        "ORGANISATION_SETTINGS": (1, "organisation page"),
    }
    # An unmet item stops the flow; nothing changes
    assert _codes(await _acknowledge(client, token, cid)) == ["PRECHECK_UNMET"]
    assert await _state(db, account.id) == ("active", "prechecked", 1, 0)

    # Resolved outside (the form), the pre-check runs again and every item reads as passed
    cleared = dict.fromkeys(
        ("unfinished_orders", "unfinished_services", "arrears_fen", "open_complaints", "organisation_settings"), "0"
    )
    assert (await client.post(f"/sandbox/accounts/{account.account_number}/standing", data=cleared)).status_code == 200
    again = await _precheck(client, token, cid, await _grant(client, token, clock))
    assert again["cancellation"]["precheckPassed"] is True
    assert all(i["passed"] for i in again["cancellation"]["precheck"])
    assert all(i["resolveAt"] is None for i in again["cancellation"]["precheck"])


async def test_can_2_the_sandbox_standing_refuses_what_is_not_a_whole_number(client, db: Database) -> None:
    bad = await client.post("/sandbox/accounts/1/standing", json={"vouchers": -1})
    assert bad.status_code == 400
    bad_form = await client.post("/sandbox/accounts/1/standing", data={"vouchers": "x"})
    assert bad_form.status_code == 400
    assert (await client.get("/sandbox/accounts/1/standing.json")).json()["vouchers"] == 0


async def test_can_3_balance_vouchers_and_resources_are_listed_as_forfeited_not_blockers(
    client, clock: ManualClock, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver05", PHONE)
    account = await _account(db, "leaver05")
    async with db.engine.begin() as conn:
        for amount in (1000, 234):
            await conn.execute(
                BalanceEntry.__table__.insert().values(
                    account_id=account.id, amount_fen=amount, kind="remittance", created_at=clock.now()
                )
            )
    await _set_standing(client, account.account_number, vouchers=2, resources_in_use=3)
    cid = (await _start(client, token))["cancellation"]["id"]
    flow = (await _precheck(client, token, cid, await _grant(client, token, clock)))["cancellation"]
    assert flow["precheckPassed"] is True
    forfeited = {i["kind"]: i["amount"] for i in flow["precheck"] if not i["blocker"]}
    assert forfeited == {"CASH_BALANCE": 1234, "VOUCHERS": 2, "RESOURCES_IN_USE": 3}
    assert all(i["passed"] for i in flow["precheck"])
    acknowledged = await _acknowledge(client, token, cid)
    assert acknowledged["errors"] == []
    assert acknowledged["cancellation"]["step"] == "ACKNOWLEDGED"
    assert acknowledged["confirmation"].startswith("cnc_")


# --- CAN-4 step 5: the second confirmation ------------------------------------------------------------------------


async def test_can_4_a_stale_confirmation_is_refused_and_changes_nothing(
    client, clock: ManualClock, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver06", PHONE)
    account = await _account(db, "leaver06")
    cid, first = await _to_acknowledged(client, token, clock)
    # A later pre-check voids the token of the earlier one
    assert (await _precheck(client, token, cid, await _grant(client, token, clock)))["errors"] == []
    second = (await _acknowledge(client, token, cid))["confirmation"]
    assert _codes(await _confirm(client, token, cid, first)) == ["CONFIRMATION_STALE"]
    # The standing changed since the pre-check (more to forfeit): stale too
    await _set_standing(client, account.account_number, vouchers=5)
    assert _codes(await _confirm(client, token, cid, second)) == ["CONFIRMATION_STALE"]
    # A blocker appeared since: the pre-check inside the confirmation says so
    await _set_standing(client, account.account_number, arrears_fen=10)
    assert _codes(await _confirm(client, token, cid, second)) == ["PRECHECK_UNMET"]
    assert await _state(db, account.id) == ("active", "acknowledged", 1, 0)


async def test_can_5_confirmation_cancels_the_account_and_ends_everything(
    client, clock: ManualClock, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver07", PHONE)
    other_session = await sign_in(client, "leaver07")
    account = await _account(db, "leaver07")
    cid, confirmation = await _to_acknowledged(client, token, clock)
    unused_grant = await _grant(client, token, clock)

    done = await _confirm(client, token, cid, confirmation)
    assert done["errors"] == [], done
    assert done["cancellation"]["step"] == "CONFIRMED"
    assert await _state(db, account.id) == ("cancelled", "confirmed", 0, 1)
    async with db.read_sessions() as session:
        live_grants = await session.scalar(
            select(func.count()).where(StepUpGrant.account_id == account.id, StepUpGrant.consumed_at.is_(None))
        )
        assert live_grants == 0
        # CAN-6: the sessions are not only ended, their rows (client address, user agent) are erased.
        sessions = await session.scalar(select(func.count()).where(AuthSession.account_id == account.id))
        assert sessions == 0
    assert unused_grant
    # Every session ended: the viewer is gone from both
    for bearer in (token, other_session):
        viewer = await client.post(
            "/graphql", json={"query": "{ viewer { username } }"}, headers={"authorization": f"Bearer {bearer}"}
        )
        assert viewer.json()["data"]["viewer"] is None
    # REG-2: the username can never be registered again
    clock.advance(timedelta(minutes=2))
    again = await register(client, "leaver07", "13700000048")
    assert _codes(again) == ["USERNAME_TAKEN"]


async def test_can_5_two_simultaneous_confirmations_make_one_cancellation(
    client, clock: ManualClock, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver08", PHONE)
    account = await _account(db, "leaver08")
    cid, confirmation = await _to_acknowledged(client, token, clock)
    answers = await asyncio.gather(*(_confirm(client, token, cid, confirmation) for _ in range(2)))
    succeeded = [a for a in answers if a["errors"] == []]
    assert len(succeeded) == 1
    refused = [_codes(a) for a in answers if a["errors"]]
    assert refused in (
        [["AUTHENTICATION_REQUIRED"]],
        [["CANCELLATION_NOT_FOUND"]],
    )
    assert await _state(db, account.id) == ("cancelled", "confirmed", 0, 1)


async def _password_answer(client: httpx.AsyncClient, login_name: str) -> list[tuple[str, Any]]:
    payload = await mutate(
        client, "sessionCreateByPassword", {"loginName": login_name, "password": PASSWORD}, sign_in_result()
    )
    return [(e["code"], e["path"], e["attemptsRemaining"]) for e in payload["errors"]]


async def _reset_answer(client: httpx.AsyncClient, login_name: str) -> dict[str, Any]:
    return await mutate(
        client,
        "passwordResetStart",
        {"loginName": login_name, "botToken": BOT_PASS},
        "passwordReset { ticket phoneMasked expiresAt codeExpiresAt }",
    )


async def _appeal_answer(client: httpx.AsyncClient, login_name: str, new_phone: str) -> list[tuple[str, Any]]:
    sent = await mutate(
        client, "phoneRebindAppealCodeSend", {"newPhone": new_phone, "botToken": BOT_PASS}, "sentCode { purpose }"
    )
    assert sent["errors"] == [], sent
    code = await last_code(client, new_phone)
    started = await mutate(
        client,
        "phoneRebindAppealStart",
        {"loginName": login_name, "newPhone": new_phone, "newPhoneCode": code},
        "appealToken { token }",
    )
    return [(e["code"], e["path"]) for e in started["errors"]]


async def test_can_5_a_cancelled_account_signs_in_recovers_and_appeals_like_an_unknown_one(
    app, client, clock: ManualClock, db: Database
) -> None:
    token = await registered_and_signed_in(client, "leaver09", PHONE)
    cid, confirmation = await _to_acknowledged(client, token, clock)
    assert (await _confirm(client, token, cid, confirmation))["errors"] == []
    hasher = watched_hasher(app, db)

    # Sign-in: the same code, message and path, and a password hash checked for both (one timing class)
    cancelled = await mutate(
        client, "sessionCreateByPassword", {"loginName": "leaver09", "password": PASSWORD}, sign_in_result()
    )
    after_cancelled = hasher.verified
    unknown = await mutate(
        client, "sessionCreateByPassword", {"loginName": "nobody09", "password": PASSWORD}, sign_in_result()
    )
    assert cancelled == unknown
    assert [e["code"] for e in cancelled["errors"]] == ["INVALID_CREDENTIALS"]
    assert after_cancelled == 1
    assert hasher.verified == 2
    # By phone as the login name too
    by_phone = await _password_answer(client, PHONE)
    assert by_phone == await _password_answer(client, "13700000047")

    # Recovery: the same shape of answer, and no SMS for either
    clock.advance(timedelta(minutes=2))
    reset_cancelled = await _reset_answer(client, "leaver09")
    reset_unknown = await _reset_answer(client, "nobody09")
    assert reset_cancelled["errors"] == reset_unknown["errors"] == []
    assert reset_cancelled["passwordReset"].keys() == reset_unknown["passwordReset"].keys()
    assert reset_cancelled["passwordReset"]["expiresAt"] == reset_unknown["passwordReset"]["expiresAt"]
    assert [m for m in await outbox(client, PHONE) if "reset" in m["purpose"].lower()] == []

    # Appeal (APL-2): with the right code, the same ACCOUNT_NOT_FOUND for both
    clock.advance(timedelta(minutes=2))
    assert await _appeal_answer(client, "leaver09", "13700000045") == await _appeal_answer(
        client, "nobody09", "13700000046"
    )
    assert (await _appeal_answer(client, "leaver09", "13700000044"))[0][0] == "ACCOUNT_NOT_FOUND"


async def test_can_5_the_after_cancellation_hooks_run_in_the_confirmation_and_a_failing_one_undoes_it(
    client, clock: ManualClock, db: Database, monkeypatch
) -> None:
    """CAN-6's erasure joins as a hook of AFTER_CANCELLATION: it runs inside the confirmation's transaction."""
    from services.lifecycle import cancellation

    token = await registered_and_signed_in(client, "leaver10", PHONE)
    account = await _account(db, "leaver10")
    cid, confirmation = await _to_acknowledged(client, token, clock)
    seen: list[int] = []

    async def failing(uow: Any, account_id: int) -> None:
        seen.append(account_id)
        raise RuntimeError("erasure failed")

    monkeypatch.setattr(cancellation, "AFTER_CANCELLATION", [failing])
    failed = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: AccountCancellationConfirmInput!) "
            "{ accountCancellationConfirm(input: $i) { errors { code } } }",
            "variables": {"i": {"cancellationId": cid, "confirmation": confirmation}},
        },
        headers={"authorization": f"Bearer {token}"},
    )
    assert failed.json()["data"] is None
    assert [e["extensions"]["code"] for e in failed.json()["errors"]] == ["INTERNAL_SERVER_ERROR"]
    assert seen == [account.id]
    assert await _state(db, account.id) == ("active", "acknowledged", 1, 0)

    async def recording(uow: Any, account_id: int) -> None:
        status = await uow.session.scalar(select(Account.status).where(Account.id == account_id))
        seen.append(status)

    monkeypatch.setattr(cancellation, "AFTER_CANCELLATION", [recording])
    assert (await _confirm(client, token, cid, confirmation))["errors"] == []
    assert seen == [account.id, "cancelled"]


async def test_can_5_an_open_subject_change_is_withdrawn_by_the_cancellation(
    client, clock: ManualClock, db: Database
) -> None:
    from models.changes import SubjectChange
    from tests.api.test_subject_changes import person
    from tests.api.test_subject_changes import start as change_start

    token = await person(client, "leaver11", PHONE)
    started = await change_start(client, token, "PERSON_TO_PERSON", clock)
    assert started["errors"] == [], started
    cid, confirmation = await _to_acknowledged(client, token, clock)
    assert (await _confirm(client, token, cid, confirmation))["errors"] == []
    async with db.read_sessions() as session:
        change = await session.scalar(select(SubjectChange))
        assert change is not None
        assert (change.state, change.open_account_id) == ("withdrawn", None)


async def test_can_6_a_confirmed_cancellation_erases_the_person_from_every_table(
    client, clock: ManualClock, db: Database
) -> None:
    """The whole flow over the API, then the database read table by table: none of the person's values is
    left (the erasure runs in the confirmation's transaction), and the ID card verifies other accounts again."""
    token = await registered_and_signed_in(client, "leaver09", PHONE)
    await face_verified(client, token, ID_1949)
    account = await _account(db, "leaver09")
    document_key = await _document_key(db, account.id)
    assert await _document_uses(db, document_key) == 1
    cid, confirmation = await _to_acknowledged(client, token, clock)
    done = await _confirm(client, token, cid, confirmation)
    assert done["errors"] == [], done
    dump = await _dump(db)
    assert _found(dump, ["leaver09", PHONE, NAME, ID_1949]) == []
    assert await _document_uses(db, document_key) == 0  # RN-3: the slot is free again
    async with db.read_sessions() as session:
        row = await session.get(Account, account.id)
        assert row is not None
        assert (row.status, row.cancelled_at is not None) == ("cancelled", True)


async def _document_key(db: Database, account_id: int) -> str:
    async with db.read_sessions() as session:
        key = await session.scalar(select(Verification.document_key).where(Verification.account_id == account_id))
    assert key is not None
    return str(key)


async def _document_uses(db: Database, document_key: str) -> int:
    async with db.read_sessions() as session:
        used = await session.scalar(
            select(IdentityDocumentUse.accounts).where(IdentityDocumentUse.document_key == document_key)
        )
    return int(used or 0)
