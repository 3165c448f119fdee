"""Person-side subject changes over the GraphQL API: the current person's identity proof (CHG-4, CHG-5), the
new person's verification inside the change (CHG-5), what follows completion (item 7) and CHG-6.
RULES: CHG-4 CHG-5 CHG-6 RN-3 RN-7 STU-3
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from models.verification import Verification, VerificationAttempt
from services.clock import ManualClock
from services.database import Database
from services.providers.errors import ProviderUnavailable
from tests.api.test_enterprise import face_pass, legal_rep_face, transfer
from tests.api.test_student_status import EMAIL, _apply, _verified_student
from tests.api.test_subject_changes import CHANGE, again, codes, person, start
from tests.api.test_verification import (
    ATTEMPT,
    CARD,
    ID_1949,
    ID_2008,
    MISMATCH_CARD,
    NAME,
    Down,
    face_start,
    face_verified,
    viewer,
)
from tests.helpers import (
    VERIFICATION_AGREEMENT,
    gql,
    last_code,
    mutate,
    registered_and_signed_in,
    sign_in,
)

ACCEPTANCE = {"version": "2026-12"}
RESERVED_PHONE = "13600000009"
NEW_NAME = "李四"
STARTED = f"subjectChange {{ {CHANGE} }} faceCheckStart {{ attempt {{ {ATTEMPT} }} faceCheck {{ url expiresAt }} }}"


async def identity_face(client: httpx.AsyncClient, token: str, change_id: str) -> dict[str, Any]:
    return await mutate(client, "subjectChangeIdentityFaceStart", {"changeId": change_id}, STARTED, token)


async def bank_card_code(client: httpx.AsyncClient, token: str, change_id: str | None, phone: str) -> dict[str, Any]:
    return await mutate(
        client,
        "verificationCodeSend",
        {"purpose": "BANK_CARD", "phone": phone, "changeId": change_id},
        "sentCode { purpose }",
        token,
    )


async def identity_bank_card(
    client: httpx.AsyncClient, token: str, change_id: str, clock: ManualClock, card: str = CARD
) -> dict[str, Any]:
    clock.advance(timedelta(minutes=2))  # past the code's resend interval
    sent = await bank_card_code(client, token, change_id, RESERVED_PHONE)
    assert sent["errors"] == [], sent
    return await mutate(
        client,
        "subjectChangeIdentityBankCardSubmit",
        {
            "changeId": change_id,
            "cardNumber": card,
            "reservedPhone": RESERVED_PHONE,
            "code": await last_code(client, RESERVED_PHONE),
        },
        f"subjectChange {{ {CHANGE} }}",
        token,
    )


async def accept(client: httpx.AsyncClient, token: str, change_id: str) -> dict[str, Any]:
    return await mutate(
        client,
        "subjectChangeAccept",
        {"changeId": change_id, "acceptanceAgreement": ACCEPTANCE},
        f"subjectChange {{ {CHANGE} }}",
        token,
    )


async def new_person_face(
    client: httpx.AsyncClient, token: str, change_id: str, number: str = ID_2008, name: str = NEW_NAME
) -> dict[str, Any]:
    return await mutate(
        client,
        "personalVerificationFaceStart",
        {
            "documentType": "MAINLAND_ID_CARD",
            "name": name,
            "documentNumber": number,
            "agreement": VERIFICATION_AGREEMENT,
            "changeId": change_id,
        },
        f"faceCheckStart {{ attempt {{ {ATTEMPT} }} faceCheck {{ url expiresAt }} }}",
        token,
    )


async def the_change(client: httpx.AsyncClient, token: str, change_id: str) -> dict[str, Any]:
    query = f'query {{ node(id: "{change_id}") {{ ... on SubjectChange {{ {CHANGE} }} }} }}'
    node: dict[str, Any] = (await gql(client, query, token=token))["node"]
    return node


async def at_new_person(client: httpx.AsyncClient, token: str, clock: ManualClock) -> str:
    """A CHG-5 change of `token`'s account, the current person proved by face and the acceptance accepted."""
    started = await start(client, token, "PERSON_TO_PERSON", clock)
    assert started["errors"] == [], started
    change_id: str = started["subjectChange"]["id"]
    proof = await identity_face(client, token, change_id)
    assert proof["errors"] == [], proof
    await face_pass(client, proof)
    accepted = await accept(client, token, change_id)
    assert accepted["errors"] == [], accepted
    assert accepted["subjectChange"]["state"] == "NEW_SUBJECT_PENDING"
    return change_id


async def changed_to_new_person(client: httpx.AsyncClient, token: str, clock: ManualClock) -> str:
    change_id = await at_new_person(client, token, clock)
    started = await new_person_face(client, token, change_id)
    assert started["errors"] == [], started
    await face_pass(client, started)
    assert (await the_change(client, token, change_id))["state"] == "COMPLETED"
    return change_id


# --- CHG-4, CHG-5: the current person proves it is them -----------------------------------------------


async def test_chg_5_the_current_person_proves_it_is_them_by_face_with_nothing_to_type(
    client, clock: ManualClock
) -> None:
    token = await person(client)
    started = await start(client, token, "PERSON_TO_PERSON", clock)
    change_id = started["subjectChange"]["id"]
    # The acceptance comes after the identity proof.
    assert codes(await accept(client, token, change_id)) == ["CHANGE_STEP_NOT_CURRENT"]
    proof = await identity_face(client, token, change_id)
    assert proof["errors"] == [], proof
    attempt = proof["faceCheckStart"]["attempt"]
    assert (attempt["method"], attempt["outcome"]) == ("IDENTITY_FACE", "PENDING")
    assert attempt["documentNumberMasked"] == (await viewer(client, token))["verification"]["documentNumberMasked"]
    assert proof["subjectChange"]["state"] == "IDENTITY_PENDING"
    # A failed face check voids its ticket; the change waits for another.
    await face_pass(client, proof, "fail")
    assert (await the_change(client, token, change_id))["state"] == "IDENTITY_PENDING"
    again_started = await identity_face(client, token, change_id)
    await face_pass(client, again_started)
    change = await the_change(client, token, change_id)
    assert change["state"] == "ACCEPTANCE_PENDING"
    assert [s["status"] for s in change["steps"]] == ["DONE", "CURRENT", "PENDING"]
    # Proved once: another proof is not the current step.
    assert codes(await identity_face(client, token, change_id)) == ["CHANGE_STEP_NOT_CURRENT"]


async def test_chg_5_identity_bank_card_is_limited_to_5_attempts_inside_the_change(client, clock: ManualClock) -> None:
    token = await person(client)
    # Without a change, a verified account gets no BANK_CARD code (RN-5).
    assert codes(await bank_card_code(client, token, None, RESERVED_PHONE)) == ["ALREADY_VERIFIED"]
    change_id = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]["id"]
    for used in range(1, 6):
        refused = await identity_bank_card(client, token, change_id, clock, card=MISMATCH_CARD)
        assert codes(refused) == ["CARD_ELEMENTS_MISMATCH"], refused
        assert refused["errors"][0]["attemptsRemaining"] == 5 - used
    change = await the_change(client, token, change_id)
    assert change["attempts"] == [{"method": "identity_bank_card", "limit": 5, "used": 5, "remaining": 0}]
    # The 6th: no code is sent, and a submit is refused before the code is looked at.
    clock.advance(timedelta(minutes=2))
    exhausted = await bank_card_code(client, token, change_id, RESERVED_PHONE)
    assert codes(exhausted) == ["BANK_CARD_ATTEMPTS_EXHAUSTED"]
    assert exhausted["errors"][0]["attemptsRemaining"] == 0
    sixth = await mutate(
        client,
        "subjectChangeIdentityBankCardSubmit",
        {"changeId": change_id, "cardNumber": CARD, "reservedPhone": RESERVED_PHONE, "code": "123456"},
        "subjectChange { state }",
        token,
    )
    assert codes(sixth) == ["BANK_CARD_ATTEMPTS_EXHAUSTED"]
    assert sixth["errors"][0]["attemptsRemaining"] == 0
    # The face check remains.
    await face_pass(client, await identity_face(client, token, change_id))
    assert (await the_change(client, token, change_id))["state"] == "ACCEPTANCE_PENDING"
    # RN-7: the attempts are in the history, with the account's own face verification.
    attempts = [e["node"] for e in (await viewer(client, token))["verificationAttempts"]["edges"]]
    assert [a["method"] for a in attempts].count("IDENTITY_BANK_CARD") == 5


async def test_chg_5_a_passed_identity_bank_card_moves_to_acceptance_and_a_wrong_code_is_not_an_attempt(
    client, clock: ManualClock
) -> None:
    token = await person(client)
    change_id = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]["id"]
    clock.advance(timedelta(minutes=2))
    await bank_card_code(client, token, change_id, RESERVED_PHONE)
    wrong = await mutate(
        client,
        "subjectChangeIdentityBankCardSubmit",
        {"changeId": change_id, "cardNumber": CARD, "reservedPhone": RESERVED_PHONE, "code": "000000"},
        "subjectChange { state }",
        token,
    )
    assert codes(wrong) == ["CODE_INVALID"]
    assert (await the_change(client, token, change_id))["attempts"][0]["used"] == 0
    passed = await identity_bank_card(client, token, change_id, clock)
    assert passed["errors"] == [], passed
    assert passed["subjectChange"]["state"] == "ACCEPTANCE_PENDING"
    assert passed["subjectChange"]["attempts"][0]["used"] == 1


async def test_chg_4_the_current_person_proves_it_is_them_before_the_enterprise_verifies(
    client, clock: ManualClock
) -> None:
    token = await person(client)
    change_id = (await start(client, token, "PERSON_TO_ENTERPRISE", clock))["subjectChange"]["id"]
    passed = await identity_bank_card(client, token, change_id, clock)  # CHG-4 does not limit the proof
    assert passed["errors"] == [], passed
    assert passed["subjectChange"]["attempts"] == [
        {"method": "legal_rep_face", "limit": 5, "used": 0, "remaining": 5},
        {"method": "bank_transfer", "limit": 5, "used": 0, "remaining": 5},
    ]
    accepted = await accept(client, token, change_id)
    assert accepted["subjectChange"]["state"] == "NEW_SUBJECT_PENDING"
    # Its new subject is an enterprise: a personal verification inside it is refused.
    assert codes(await new_person_face(client, token, change_id)) == ["CHANGE_NOT_SUPPORTED"]


# --- CHG-5: the new person ------------------------------------------------------------------------------


async def test_chg_5_the_new_person_verifies_by_face_and_the_account_shows_them(
    client, clock: ManualClock, db: Database
) -> None:
    token = await person(client)
    before = await viewer(client, token)
    change_id = await at_new_person(client, token, clock)
    # The new person must be another person: the current one is refused with its own code, nothing counted.
    same = await new_person_face(client, token, change_id, number=ID_1949, name=NAME)
    assert codes(same) == ["SAME_PERSON"]
    # Without the change, the verified account is refused as before (RN-5).
    assert codes(await face_start(client, token, ID_2008, name=NEW_NAME)) == ["ALREADY_VERIFIED"]
    started = await new_person_face(client, token, change_id)
    assert started["errors"] == [], started
    await face_pass(client, started)
    change = await the_change(client, token, change_id)
    assert (change["state"], change["toSubject"]) == ("COMPLETED", {"subjectType": "person", "name": NEW_NAME})
    after = await viewer(client, token)
    # Item 7: the verification is the new person's, masked; the entitlements are a person's.
    assert after["verification"]["documentNumberMasked"] != before["verification"]["documentNumberMasked"]
    assert after["verification"]["documentNumberMasked"] == started["faceCheckStart"]["attempt"]["documentNumberMasked"]
    assert after["verification"]["nameMasked"] != before["verification"]["nameMasked"]
    assert after["entitlements"] == before["entitlements"]
    # RN-7: the history keeps both persons' attempts.
    masked = {e["node"]["documentNumberMasked"] for e in after["verificationAttempts"]["edges"]}
    assert masked == {before["verification"]["documentNumberMasked"], after["verification"]["documentNumberMasked"]}
    async with db.read_sessions() as session:
        rows = (await session.scalars(select(Verification))).all()
    assert [r.name for r in rows] == [NEW_NAME]


async def test_chg_5_a_user_who_leaves_midway_resumes_and_verifies_the_new_person_by_bank_card(
    client, clock: ManualClock
) -> None:
    token = await person(client)
    change_id = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]["id"]
    assert (await identity_bank_card(client, token, change_id, clock))["errors"] == []
    # Sign out; sign in again later the same day and continue where the change stands.
    assert (await mutate(client, "sessionDelete", None, "clientMutationId", token))["errors"] == []
    clock.advance(timedelta(hours=3))
    token = await again(client, token)
    listed = await the_change(client, token, change_id)
    assert listed["state"] == "ACCEPTANCE_PENDING"
    assert (await accept(client, token, change_id))["errors"] == []
    clock.advance(timedelta(minutes=2))
    phone = "13600000010"
    assert (await bank_card_code(client, token, change_id, phone))["errors"] == []
    verified = await mutate(
        client,
        "personalVerificationBankCardSubmit",
        {
            "name": NEW_NAME,
            "idNumber": ID_2008,
            "cardNumber": CARD,
            "reservedPhone": phone,
            "code": await last_code(client, phone),
            "agreement": VERIFICATION_AGREEMENT,
            "changeId": change_id,
        },
        "verification { method nameMasked documentNumberMasked }",
        token,
    )
    assert verified["errors"] == [], verified
    assert verified["verification"]["method"] == "BANK_CARD"
    assert (await the_change(client, token, change_id))["state"] == "COMPLETED"


async def test_chg_5_the_1_day_limit_is_met_by_submitting_the_new_person(client, clock: ManualClock) -> None:
    token = await person(client)
    change_id = await at_new_person(client, token, clock)
    assert (await the_change(client, token, change_id))["deadline"] is not None
    started = await new_person_face(client, token, change_id)
    assert started["errors"] == [], started
    # Submitted within the day: the deadline no longer applies, so a failed check can be tried again later.
    assert (await the_change(client, token, change_id))["deadline"] is None
    await face_pass(client, started, "fail")
    clock.advance(timedelta(days=2))
    token = await again(client, token)
    retried = await new_person_face(client, token, change_id)
    assert retried["errors"] == [], retried
    await face_pass(client, retried)
    assert (await the_change(client, token, change_id))["state"] == "COMPLETED"


async def test_chg_5_without_a_submission_the_change_ends_after_1_day(client, clock: ManualClock) -> None:
    token = await person(client)
    change_id = await at_new_person(client, token, clock)
    clock.advance(timedelta(days=1, minutes=1))
    token = await again(client, token)
    assert codes(await new_person_face(client, token, change_id)) == ["CHANGE_EXPIRED"]
    change = await the_change(client, token, change_id)
    assert (change["state"], change["endReason"]) == ("WITHDRAWN", "NEW_PERSON_NOT_SUBMITTED")


async def test_chg_5_a_late_face_result_after_withdrawal_changes_nothing(
    client, clock: ManualClock, db: Database
) -> None:
    token = await person(client)
    before = await viewer(client, token)
    change_id = await at_new_person(client, token, clock)
    started = await new_person_face(client, token, change_id)
    withdrawn = await mutate(client, "subjectChangeWithdraw", {"changeId": change_id}, "subjectChange { state }", token)
    assert withdrawn["subjectChange"]["state"] == "WITHDRAWN"
    await face_pass(client, started)
    after = await viewer(client, token)
    assert after["verification"] == before["verification"]
    late = next(
        e["node"]
        for e in after["verificationAttempts"]["edges"]
        if e["node"]["id"] == started["faceCheckStart"]["attempt"]["id"]
    )
    assert (late["outcome"], late["reason"]) == ("FAILED", "CHANGE_ENDED")


# --- item 7: what follows completion; CHG-6 -------------------------------------------------------------


async def test_chg_5_a_student_status_of_the_previous_person_ends_and_the_new_person_may_apply(
    client, clock: ManualClock
) -> None:
    token = await person(client)
    await _verified_student(client, token)
    await changed_to_new_person(client, token, clock)
    query = "query { viewer { studentStatus { status validUntil endedAt } } }"
    status = (await gql(client, query, token=token))["viewer"]["studentStatus"]
    assert status["status"] == "ENDED"
    assert status["validUntil"] is None
    assert status["endedAt"] is not None
    # The new person applies as anyone would.
    clock.advance(timedelta(minutes=2))
    applied = await _apply(client, token)
    assert applied["errors"] == [], applied
    assert applied["studentStatus"]["status"] == "PENDING_EMAIL"
    assert await last_code(client, EMAIL)


async def test_chg_5_rn_3_the_previous_persons_document_no_longer_counts_for_the_account(
    client, clock: ManualClock
) -> None:
    token = await person(client)  # ID_1949 on account 1
    for n in range(2, 6):  # ID_1949 on accounts 2..5: five accounts, the limit
        other = await registered_and_signed_in(client, f"bob0{n}", f"1370000001{n}")
        await face_verified(client, other)
    sixth = await registered_and_signed_in(client, "carol06", "13700000026")
    assert codes(await face_start(client, sixth)) == ["DOCUMENT_LIMIT_REACHED"]
    await changed_to_new_person(client, token, clock)
    # Account 1 is now ID_2008's: ID_1949 verifies a 5th other account.
    clock.advance(timedelta(minutes=1))
    sixth = await sign_in(client, "carol06")
    started = await face_start(client, sixth)
    assert started["errors"] == [], started
    await face_pass(client, started)
    assert (await viewer(client, sixth))["verification"]["subjectType"] == "PERSON"


async def test_chg_6_a_second_change_within_30_days_is_refused_and_starts_after(client, clock: ManualClock) -> None:
    token = await person(client)
    await changed_to_new_person(client, token, clock)
    too_soon = await start(client, token, "PERSON_TO_PERSON", clock)
    assert codes(too_soon) == ["CHANGE_TOO_SOON"]
    assert 0 < too_soon["errors"][0]["retryAfter"] <= 30 * 24 * 3600 + 1
    clock.advance(timedelta(days=30))
    token = await again(client, token)
    started = await start(client, token, "PERSON_TO_PERSON", clock)
    assert started["errors"] == [], started
    assert started["subjectChange"]["state"] == "IDENTITY_PENDING"


# --- CHG-4: the enterprise verifies inside the change ----------------------------------------------------


async def at_new_enterprise(client: httpx.AsyncClient, token: str, clock: ManualClock) -> str:
    """A CHG-4 change of `token`'s account, the current person proved by face and the acceptance accepted."""
    started = await start(client, token, "PERSON_TO_ENTERPRISE", clock)
    assert started["errors"] == [], started
    change_id: str = started["subjectChange"]["id"]
    await face_pass(client, await identity_face(client, token, change_id))
    assert (await accept(client, token, change_id))["errors"] == []
    return change_id


async def test_chg_4_five_attempts_per_enterprise_method_inside_one_change_and_fresh_ones_after_withdrawal(
    client, clock: ManualClock
) -> None:
    token = await person(client)
    change_id = await at_new_enterprise(client, token, clock)
    for method, begin in (("legal_rep_face", legal_rep_face), ("bank_transfer", transfer)):
        for _ in range(5):
            started = await begin(client, token, changeId=change_id)
            assert started["errors"] == [], started
            await face_pass(client, started, "fail")
        sixth = await begin(client, token, changeId=change_id)
        assert len(sixth["errors"]) == 1, sixth
        assert sixth["errors"][0]["code"].endswith("ATTEMPTS_EXHAUSTED"), sixth
        assert sixth["errors"][0]["attemptsRemaining"] == 0
        used = {a["method"]: a["remaining"] for a in (await the_change(client, token, change_id))["attempts"]}
        assert used[method] == 0
    # Withdrawn and started again: 5 fresh attempts per method.
    withdrawn = await mutate(client, "subjectChangeWithdraw", {"changeId": change_id}, "subjectChange { state }", token)
    assert withdrawn["subjectChange"]["state"] == "WITHDRAWN"
    change_id = await at_new_enterprise(client, token, clock)
    assert [a["remaining"] for a in (await the_change(client, token, change_id))["attempts"]] == [5, 5]
    started = await legal_rep_face(client, token, changeId=change_id)
    assert started["errors"] == [], started
    await face_pass(client, started)
    assert (await the_change(client, token, change_id))["state"] == "COMPLETED"
    # Item 7: the account is the enterprise's now, with an enterprise's entitlements.
    after = await viewer(client, token)
    assert after["verification"]["subjectType"] == "ENTERPRISE"
    assert after["entitlements"]["subjectType"] == "ENTERPRISE"
    assert after["entitlements"]["smsService"] is True  # ENT-2: every enterprise-verified account


async def test_chg_5_a_provider_failure_gives_the_identity_bank_card_attempt_and_the_code_back(
    app, client, clock: ManualClock
) -> None:
    token = await person(client)
    change_id = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]["id"]
    providers = app.state.deps.providers
    real, providers.bank_cards = providers.bank_cards, Down(ProviderUnavailable("down"))
    clock.advance(timedelta(minutes=2))
    assert (await bank_card_code(client, token, change_id, RESERVED_PHONE))["errors"] == []
    code = await last_code(client, RESERVED_PHONE)
    form = {"changeId": change_id, "cardNumber": CARD, "reservedPhone": RESERVED_PHONE, "code": code}
    failed = await mutate(client, "subjectChangeIdentityBankCardSubmit", form, "subjectChange { state }", token)
    assert codes(failed) == ["PROVIDER_UNAVAILABLE"]
    assert (await the_change(client, token, change_id))["attempts"][0]["used"] == 0
    # The bank answers again: the same form, with the same code, passes.
    providers.bank_cards = real
    passed = await mutate(client, "subjectChangeIdentityBankCardSubmit", form, "subjectChange { state }", token)
    assert passed["subjectChange"] == {"state": "ACCEPTANCE_PENDING"}, passed


async def test_chg_5_an_identity_bank_card_attempt_a_stopped_process_left_is_given_back_by_the_sweeper(
    client, clock: ManualClock, run
) -> None:
    from services.sweeper import sweep

    token = await person(client)
    change_id = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]["id"]
    refused = await identity_bank_card(client, token, change_id, clock, card=MISMATCH_CARD)
    assert codes(refused) == ["CARD_ELEMENTS_MISMATCH"]

    async def lost(uow: Any) -> None:  # what a process stopping between the steps leaves behind
        row = (
            await uow.session.scalars(select(VerificationAttempt).where(VerificationAttempt.change_id.is_not(None)))
        ).one()
        row.outcome, row.reason, row.completed_at = "pending", None, None
        assert row.counted

    await run(lost)
    assert (await the_change(client, token, change_id))["attempts"][0]["used"] == 1
    # Not before five minutes have passed
    clock.advance(timedelta(minutes=4))
    assert (await run(sweep))["identity_bank_card_attempts_returned"] == 0
    clock.advance(timedelta(minutes=1))
    assert (await run(sweep))["identity_bank_card_attempts_returned"] == 1
    change = await the_change(client, token, change_id)
    assert change["state"] == "IDENTITY_PENDING"
    assert change["attempts"] == [{"method": "identity_bank_card", "limit": 5, "used": 0, "remaining": 5}]
    attempts = [e["node"] for e in (await viewer(client, token))["verificationAttempts"]["edges"]]
    assert [(a["method"], a["outcome"]) for a in attempts if a["method"] == "IDENTITY_BANK_CARD"] == [
        ("IDENTITY_BANK_CARD", "ERROR")
    ]
    # A second round finds nothing left
    assert (await run(sweep))["identity_bank_card_attempts_returned"] == 0


async def test_chg_5_a_change_id_goes_with_bank_card_codes_only(client, clock: ManualClock) -> None:
    token = await person(client)
    change_id = (await start(client, token, "PERSON_TO_PERSON", clock))["subjectChange"]["id"]
    refused = await mutate(
        client,
        "verificationCodeSend",
        {"purpose": "OPERATION", "changeId": change_id},
        "sentCode { purpose }",
        token,
    )
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [("DESTINATION_NOT_ALLOWED", ["input", "changeId"])]
    # An unknown or malformed change ID is not found.
    assert codes(await bank_card_code(client, token, "not-an-id", RESERVED_PHONE)) == ["CHANGE_NOT_FOUND"]
