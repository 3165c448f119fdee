"""The security history over the GraphQL API: each event recorded once by the real operation, nothing for a
refused or rolled-back one, no secret in an event, the filter, paging and a constant statement count.

RULES: HIST-1 AUTH-5
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from models.history import SecurityEvent
from models.review import Reviewer, ReviewItem
from services.clock import ManualClock
from services.database import Database
from services.history import service as history
from services.history.service import EventKind
from services.review import service as review
from services.review.kinds import RejectReason
from services.sweeper import sweep
from tests.api.test_appeals import OLD_PHONE
from tests.api.test_appeals import _file as file_appeal
from tests.api.test_appeals import _materials as appeal_materials
from tests.api.test_mfa import bind as bind_device
from tests.api.test_mfa import by_challenge, code_at, password_sign_in, set_protections
from tests.api.test_profile import NEW_PHONE, _bind_email, _change_password, _change_phone, _email_code, _new_phone_code
from tests.api.test_recovery import NEW_PASSWORD as RESET_PASSWORD
from tests.api.test_recovery import _reset_complete as reset_complete
from tests.api.test_recovery import _reset_start as reset_start
from tests.api.test_subject_changes import PHONES, again
from tests.api.test_subject_changes import start as start_change
from tests.api.test_subject_changes import withdraw as withdraw_change
from tests.api.test_verification import ID_1949, face_start, face_verified, ticket_path
from tests.helpers import (
    PASSWORD,
    gql,
    last_code,
    mutate,
    registered_and_signed_in,
    send_code,
    sign_in,
    sign_in_result,
    step_up,
)

PHONE = "13700000001"
EVENTS = """query($first: Int!, $after: String, $kinds: [SecurityEventKind!]) { viewer { securityEvents(
  first: $first, after: $after, kinds: $kinds) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { kind occurredAt clientAddress userAgent detail } } } } }"""


async def events(
    client: httpx.AsyncClient, token: str, kinds: list[str] | None = None, first: int = 100, after: str | None = None
) -> dict[str, Any]:
    data = await gql(client, EVENTS, {"first": first, "after": after, "kinds": kinds}, token)
    return data["viewer"]["securityEvents"]


async def kinds_of(client: httpx.AsyncClient, token: str) -> list[tuple[str, str | None]]:
    """(kind, detail) of every event, newest first."""
    return [(e["node"]["kind"], e["node"]["detail"]) for e in (await events(client, token))["edges"]]


async def all_events(db: Database) -> list[SecurityEvent]:
    async with db.read_sessions() as s:
        return list(await s.scalars(select(SecurityEvent).order_by(SecurityEvent.id)))


async def wrong_password(client: httpx.AsyncClient, login_name: str) -> dict[str, Any]:
    return await mutate(
        client, "sessionCreateByPassword", {"loginName": login_name, "password": "Not-The-One-1!"}, sign_in_result()
    )


def no_secret_in(rows: list[SecurityEvent], *secrets: str) -> None:
    for row in rows:
        for value in (row.detail, row.user_agent, row.client_ip):
            for secret in secrets:
                assert secret not in (value or ""), (row.kind, value)


async def test_hist_1_sign_ins_failures_locks_sign_outs_and_revocations_are_recorded_once(
    client, db: Database, clock: ManualClock
) -> None:
    # Given a registered account (registration signs nobody in) and its first sign-in
    first = await registered_and_signed_in(client)
    assert await kinds_of(client, first) == [("SIGNED_IN", "password")]
    # When an unknown login name is tried with a wrong password: no account, so nothing is recorded
    unknown = await wrong_password(client, "nobody99")
    assert len(await all_events(db)) == 1
    # And the known name with a wrong password: recorded on the account, with the very same answer (AUTH-5)
    known = await wrong_password(client, "alice01")
    assert known == unknown
    assert known["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # And four more wrong passwords: the fifth locks the name
    for _ in range(4):
        await wrong_password(client, "alice01")
    # And a try while locked is refused before anything is judged: it rolls back and records nothing
    refused = await wrong_password(client, "alice01")
    assert refused["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    assert await kinds_of(client, first) == [
        ("SIGN_IN_LOCKED", "password"),
        *[("SIGN_IN_FAILED", "password")] * 4,
        ("SIGNED_IN", "password"),
    ]
    # When the lock has run out, two more sessions are made, one revokes the other and then signs out
    clock.advance(minutes=16)
    second = await sign_in(client, "alice01")
    third = await sign_in(client, "alice01")
    sessions = await gql(client, "{ viewer { sessions { edges { node { id current } } } } }", token=third)
    [third_id] = [e["node"]["id"] for e in sessions["viewer"]["sessions"]["edges"] if e["node"]["current"]]
    revoked = await mutate(client, "sessionRevoke", {"id": third_id}, "account { id }", second)
    assert revoked["errors"] == []
    missing = await mutate(client, "sessionRevoke", {"id": third_id}, "account { id }", second)
    assert missing["errors"][0]["code"] == "SESSION_NOT_FOUND"  # refused: nothing recorded
    assert (await mutate(client, "sessionDelete", None, "clientMutationId", second))["errors"] == []
    # Then each is recorded once, newest first, with the client's address and user agent as seen
    page = await events(client, first)
    assert [(e["node"]["kind"], e["node"]["detail"]) for e in page["edges"][:4]] == [
        ("SIGNED_OUT", None),
        ("SESSION_REVOKED", None),
        ("SIGNED_IN", "password"),
        ("SIGNED_IN", "password"),
    ]
    assert page["totalCount"] == 10
    node = page["edges"][0]["node"]
    assert node["clientAddress"] == "203.0.113.7"
    assert node["userAgent"].startswith("python-httpx/")
    assert node["occurredAt"] == clock.now().isoformat()
    no_secret_in(await all_events(db), PASSWORD, "Not-The-One-1!", first, second, third)


async def test_hist_1_password_phone_and_email_changes_are_recorded_once_and_refusals_not(
    client, db: Database, clock: ManualClock
) -> None:
    token = await registered_and_signed_in(client)
    # A wrong e-mail code is refused (counted on the code), and records nothing
    grant = await step_up(client, token, PHONE)
    code = await _email_code(client, token, "alice@example.com")
    wrong = await _bind_email(client, token, "alice@example.com", "000000" if code != "000000" else "111111", grant)
    assert wrong["errors"][0]["code"] == "CODE_INVALID"
    assert await kinds_of(client, token) == [("SIGNED_IN", "password")]
    # The e-mail is bound, the phone changed and the password changed
    assert (await _bind_email(client, token, "alice@example.com", code, grant))["errors"] == []
    clock.advance(seconds=61)
    new_code = await _new_phone_code(client, token, NEW_PHONE)
    assert (await _change_phone(client, token, NEW_PHONE, new_code, await step_up(client, token, PHONE)))[
        "errors"
    ] == []
    clock.advance(seconds=61)
    changed = await _change_password(client, token, await step_up(client, token, NEW_PHONE))
    assert changed["errors"] == []
    assert await kinds_of(client, token) == [
        ("PASSWORD_CHANGED", "changed"),
        ("PHONE_CHANGED", None),
        ("EMAIL_CHANGED", "bound"),
        ("SIGNED_IN", "password"),
    ]
    no_secret_in(await all_events(db), code, new_code, PASSWORD, "alice@example.com", NEW_PHONE)


async def test_hist_1_mfa_bound_protections_challenge_recovery_codes_and_unbound_are_recorded_once(
    client, db: Database, clock: ManualClock
) -> None:
    token = await registered_and_signed_in(client)
    secret, recovery = await bind_device(client, token, clock)
    # Turning protections on; saving the same protections again is no change and records nothing
    done = await set_protections(client, token, await step_up(client, token, PHONE), (False, True), (True, False))
    assert done["errors"] == []
    clock.advance(seconds=61)
    same = await set_protections(client, token, await step_up(client, token, PHONE), (False, True), (True, False))
    assert same["errors"] == []
    # A protected sign-in is challenged, then passes with a recovery code
    challenge = (await password_sign_in(client))["challenge"]["token"]
    wrong = await by_challenge(client, challenge, "RECOVERY_CODE", "00000-00000")
    assert wrong["errors"][0]["code"] == "RECOVERY_CODE_INVALID"  # counted, but no code was used
    assert (await by_challenge(client, challenge, "RECOVERY_CODE", recovery[0]))["errors"] == []
    clock.advance(seconds=61)
    regenerated = await mutate(
        client,
        "mfaRecoveryCodesRegenerate",
        {"stepUpToken": await step_up(client, token, PHONE)},
        "recoveryCodes",
        token,
    )
    assert regenerated["errors"] == []
    clock.advance(seconds=61)
    unbound = await mutate(
        client,
        "mfaDeviceUnbind",
        {"code": code_at(secret, clock), "stepUpToken": await step_up(client, token, PHONE)},
        "account { id }",
        token,
    )
    assert unbound["errors"] == []
    assert await kinds_of(client, token) == [
        ("MFA_UNBOUND", "owner"),
        ("RECOVERY_CODES_REGENERATED", None),
        ("SIGNED_IN", "password"),
        ("RECOVERY_CODE_USED", "sign_in"),
        ("SIGN_IN_CHALLENGED", "password"),
        ("PROTECTION_CHANGED", "login"),
        ("MFA_BOUND", None),
        ("SIGNED_IN", "password"),
    ]
    rows = await all_events(db)
    challenged = next(r for r in rows if r.kind == "sign_in_challenged")
    assert challenged.user_agent == "test-agent"
    no_secret_in(rows, secret, recovery[0], *regenerated["recoveryCodes"])


async def test_hist_1_the_filter_and_paging_newest_first(client, db: Database, run: Any, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    [account_id] = {r.account_id for r in await all_events(db)}
    for i in range(6):
        clock.advance(seconds=1)
        kind = EventKind.SIGN_IN_FAILED if i % 2 else EventKind.PASSWORD_CHANGED
        await run(history.record, account_id, kind, None, str(i))
    failed = await events(client, token, ["SIGN_IN_FAILED"], first=2)
    assert failed["totalCount"] == 3
    assert [e["node"]["detail"] for e in failed["edges"]] == ["5", "3"]
    assert failed["pageInfo"]["hasNextPage"] is True
    rest = await events(client, token, ["SIGN_IN_FAILED"], first=2, after=failed["pageInfo"]["endCursor"])
    assert [e["node"]["detail"] for e in rest["edges"]] == ["1"]
    assert rest["pageInfo"]["hasNextPage"] is False
    both = await events(client, token, ["SIGN_IN_FAILED", "SIGNED_IN"])
    assert [e["node"]["kind"] for e in both["edges"]] == ["SIGN_IN_FAILED"] * 3 + ["SIGNED_IN"]
    assert (await events(client, token, []))["edges"] == []  # an empty filter selects nothing
    # A cursor of another list is refused
    body = await gql(client, EVENTS, {"first": 2, "after": "U2Vzc2lvbjox", "kinds": None}, token, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_hist_1_statements_per_page_do_not_grow_with_the_page(client, db: Database, run: Any, sql: Any) -> None:
    token = await registered_and_signed_in(client)
    [account_id] = {r.account_id for r in await all_events(db)}
    for _ in range(40):
        await run(history.record, account_id, EventKind.SIGN_IN_FAILED, None, "password")

    async def statements(first: int) -> int:
        sql.reset()
        page = await events(client, token, first=first)
        assert len(page["edges"]) == min(first, 41)
        return int(sql.count)

    assert await statements(1) == await statements(40)


async def test_hist_1_another_accounts_events_are_not_listed(client, db: Database) -> None:
    alice = await registered_and_signed_in(client)
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    assert len(await all_events(db)) == 2
    assert (await events(client, alice))["totalCount"] == 1
    assert (await events(client, bob))["totalCount"] == 1
    assert (await gql(client, "{ viewer { id } }"))["viewer"] is None


async def test_hist_1_a_sign_in_more_than_90_days_later_is_still_listed(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    clock.advance(timedelta(days=91))
    token = await sign_in(client, "alice01")
    assert [k for k, _ in await kinds_of(client, token)] == ["SIGNED_IN", "SIGNED_IN"]


async def test_hist_1_verification_outcomes_and_subject_change_endings_are_recorded_once(
    client, db: Database, clock: ManualClock, run: Any
) -> None:
    token = await registered_and_signed_in(client)
    PHONES[token] = PHONE
    # A failed face check, then a passed one: decided by the provider's callback, so without a client
    started = await face_start(client, token)
    assert (await client.post(ticket_path(started), data={"outcome": "fail"})).status_code == 200
    await face_verified(client, token)
    # A change withdrawn by the owner (with its client); withdrawing it again is refused and records nothing
    change = (await start_change(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]
    assert (await withdraw_change(client, token, change["id"]))["errors"] == []
    assert (await withdraw_change(client, token, change["id"]))["errors"] != []
    # A change left past its 1-day deadline (CHG-5) ends by itself: the sweeper, no client
    clock.advance(seconds=61)
    assert (await start_change(client, token, "PERSON_TO_PERSON", clock))["errors"] == []
    clock.advance(timedelta(days=1, minutes=1))
    await run(sweep)
    token = await again(client, token)
    listed = await kinds_of(client, token)
    assert [k for k in listed if k[0] != "SIGNED_IN"] == [
        ("SUBJECT_CHANGE_WITHDRAWN", "timed_out"),
        ("SUBJECT_CHANGE_WITHDRAWN", None),
        ("VERIFICATION_PASSED", "person/face"),
        ("VERIFICATION_FAILED", "person/face"),
    ]
    rows = await all_events(db)
    by_owner = [r for r in rows if r.kind == "subject_change_withdrawn" and r.detail is None]
    assert [r.client_ip for r in by_owner] == ["203.0.113.7"]
    assert all(r.client_ip is None for r in rows if r.kind.startswith("verification_") or r.detail == "timed_out")
    no_secret_in(rows, ID_1949)


@pytest.fixture
async def lead(db: Database, clock: ManualClock) -> Reviewer:
    async with db.write_sessions() as s:
        staff = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                         totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(staff)
        await s.commit()
        return staff


async def test_hist_1_appeals_filed_and_decided_are_recorded_once(
    client, db: Database, run: Any, lead: Reviewer
) -> None:
    token = await registered_and_signed_in(client, "alice01", OLD_PHONE)
    # A filing refused for a missing material records nothing
    partial = await file_appeal(client, token, (await appeal_materials(client, token))[:2])
    assert partial["errors"] != []
    assert await kinds_of(client, token) == [("SIGNED_IN", "password")]
    filed = await file_appeal(client, token, await appeal_materials(client, token))
    assert filed["errors"] == []
    async with db.read_sessions() as s:
        [item] = list(await s.scalars(select(ReviewItem)))
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    assert await kinds_of(client, token) == [
        ("APPEAL_DECIDED", "approved"),
        ("PHONE_CHANGED", "appeal"),
        ("APPEAL_FILED", "phone_rebind"),
        ("SIGNED_IN", "password"),
    ]
    rows = await all_events(db)
    assert [r.client_ip for r in rows if r.kind.startswith("appeal_")] == ["203.0.113.7", None]
    # Another account's appeal is rejected
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    await send_code(client, "PHONE_CHANGE_NEW", phone="13900000008", token=bob)
    code = await last_code(client, "13900000008")
    filed = await mutate(
        client,
        "phoneRebindAppealFile",
        {"newPhone": "13900000008", "newPhoneCode": code, "materials": await appeal_materials(client, bob)},
        "appeal { id }",
        bob,
    )
    assert filed["errors"] == []
    async with db.read_sessions() as s:
        item = (await s.scalars(select(ReviewItem).order_by(ReviewItem.id.desc()))).first()
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.MATERIAL_MISMATCH, "The ID does not match.")
    assert (await kinds_of(client, bob))[:2] == [
        ("APPEAL_DECIDED", "rejected"),
        ("APPEAL_FILED", "phone_rebind"),
    ]
    no_secret_in(await all_events(db), code, "The ID does not match.")


async def test_hist_1_a_password_reset_is_recorded_once_and_a_wrong_code_not(client, db: Database) -> None:
    await registered_and_signed_in(client)
    started = await reset_start(client, "alice01")
    code = await last_code(client, PHONE)
    wrong = await reset_complete(client, started["ticket"], "000000" if code != "000000" else "111111")
    assert wrong["errors"][0]["code"] == "CODE_INVALID"
    assert [r.kind for r in await all_events(db)] == ["signed_in"]
    assert (await reset_complete(client, started["ticket"], code))["errors"] == []
    token = await sign_in(client, "alice01", RESET_PASSWORD)
    assert await kinds_of(client, token) == [
        ("SIGNED_IN", "password"),
        ("PASSWORD_CHANGED", "reset"),
        ("SIGNED_IN", "password"),
    ]
    reset = next(r for r in await all_events(db) if r.kind == "password_changed")
    assert reset.client_ip == "203.0.113.7"
    no_secret_in(await all_events(db), code, started["ticket"], RESET_PASSWORD)
