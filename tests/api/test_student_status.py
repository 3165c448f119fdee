"""STU-1..3: student status over GraphQL — apply with school details, confirm with the code sent to the
school e-mail address and the two student agreements; verified until the end of the graduation month."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from models.accounts import AgreementAcceptance
from models.codes import CodeDailyCount, CodeSendWindow, OneTimeCode, OutboxMessage
from models.students import StudentStatus
from services.accounts.agreements import CURRENT, AgreementKind
from services.clock import SHANGHAI, ManualClock
from services.database import Database
from services.verification import subject
from settings import Settings
from tests.helpers import (
    AGREEMENTS,
    STUDENT_AGREEMENTS,
    gql,
    last_code,
    mutate,
    outbox,
    registered_and_signed_in,
    sign_in,
)

EMAIL = "alice@mail.example.edu.cn"
OTHER_EMAIL = "alice@cs.example.edu"
STATUS = (
    "studentStatus { id status school major level expectedGraduation { year month } email appliedAt "
    "codeExpiresAt verifiedAt validUntil }"
)
APPLICATION: dict[str, Any] = {
    "school": "清华大学",
    "major": "Computer Science",
    "level": "BACHELOR",
    "expectedGraduation": {"year": 2027, "month": 6},
    "email": EMAIL,
}
END_OF_JUNE_2027 = "2027-06-30T15:59:59+00:00"  # 2027-06-30 23:59:59 in Asia/Shanghai


def _shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def _as_subject(monkeypatch: pytest.MonkeyPatch, kind: str | None) -> None:
    """Real-name verification is another service; these tests say what it answers."""

    async def verified_subject(uow: Any, account_id: int) -> str | None:
        return kind

    monkeypatch.setattr(subject, "verified_subject", verified_subject)


@pytest.fixture
def person(monkeypatch: pytest.MonkeyPatch) -> None:
    _as_subject(monkeypatch, "person")


async def _apply(client, token: str, **changes: Any) -> dict[str, Any]:
    return await mutate(client, "studentStatusApply", {**APPLICATION, **changes}, STATUS, token)


async def _confirm(client, token: str, code: str, agreements: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return await mutate(
        client,
        "studentStatusConfirm",
        {"code": code, "agreements": STUDENT_AGREEMENTS if agreements is None else agreements},
        STATUS,
        token,
    )


async def _viewer_status(client, token: str) -> dict[str, Any] | None:
    data = await gql(client, f"{{ viewer {{ {STATUS} }} }}", token=token)
    return data["viewer"]["studentStatus"]


def _errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


async def _rows(db: Database) -> list[tuple[Any, ...]]:
    async with db.read_sessions() as s:
        rows = await s.scalars(select(StudentStatus).order_by(StudentStatus.id))
        return [(r.id, r.state, r.email, r.school, r.major, r.level, r.verified_at) for r in rows]


async def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an application or confirmation may touch: rows, codes, code counters, messages, acceptances."""
    async with db.read_sessions() as s:
        return {
            "statuses": await _rows(db),
            "codes": [
                (c.id, c.destination, c.purpose, c.attempts, c.consumed_at, c.voided_at)
                for c in await s.scalars(select(OneTimeCode).order_by(OneTimeCode.id))
            ],
            "windows": [(w.destination, w.purpose, w.last_sent_at) for w in await s.scalars(select(CodeSendWindow))],
            "daily": [(d.destination, d.day, d.count) for d in await s.scalars(select(CodeDailyCount))],
            "outbox": [(m.id,) for m in await s.scalars(select(OutboxMessage))],
            "acceptances": [
                (a.agreement, a.context)
                for a in await s.scalars(select(AgreementAcceptance).order_by(AgreementAcceptance.id))
            ],
        }


async def _student_code(db: Database) -> OneTimeCode:
    """The latest student code. Its row is keyed by the account's scope, not by the address (the message
    still goes to the address)."""
    async with db.read_sessions() as s:
        code = await s.scalar(
            select(OneTimeCode)
            .where(OneTimeCode.purpose == "STUDENT_EMAIL", OneTimeCode.destination.like("student:%"))
            .order_by(OneTimeCode.id.desc())
        )
    assert code is not None
    return code


async def _student_acceptances(db: Database) -> list[tuple[str, str, str]]:
    async with db.read_sessions() as s:
        rows = await s.scalars(
            select(AgreementAcceptance).where(AgreementAcceptance.context == "student").order_by(AgreementAcceptance.id)
        )
        return [(a.agreement, a.version, a.context) for a in rows]


async def _verified_student(client, token: str) -> dict[str, Any]:
    assert (await _apply(client, token))["errors"] == []
    confirmed = await _confirm(client, token, await last_code(client, EMAIL))
    assert confirmed["errors"] == [], confirmed
    return confirmed


# --- STU-1: only a personally verified account ----------------------------------------------------


@pytest.mark.parametrize("kind", [None, "enterprise"])
async def test_stu_1_unverified_or_enterprise_account_cannot_apply(client, db: Database, monkeypatch, kind) -> None:
    # Given a signed-in account that is not verified, or verified as an enterprise
    _as_subject(monkeypatch, kind)
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    # When it applies with a valid application
    refused = await _apply(client, token)
    # Then it is refused, and no code, row or counter appeared
    assert _errors(refused) == [("PERSONAL_VERIFICATION_REQUIRED", None)]
    assert refused["studentStatus"] is None
    assert await _snapshot(db) == before
    assert await outbox(client, EMAIL) == []
    assert await _viewer_status(client, token) is None


async def test_stu_1_confirm_is_refused_when_the_account_is_no_longer_verified_as_a_person(
    client, db: Database, monkeypatch, person
) -> None:
    # Given a pending application of a personally verified account
    token = await registered_and_signed_in(client)
    assert (await _apply(client, token))["errors"] == []
    code = await last_code(client, EMAIL)
    # When its verification no longer reads as a person by the time it confirms
    _as_subject(monkeypatch, None)
    before = await _snapshot(db)
    refused = await _confirm(client, token, code)
    # Then it is refused and the code is neither used nor counted
    assert _errors(refused) == [("PERSONAL_VERIFICATION_REQUIRED", None)]
    assert await _snapshot(db) == before
    assert (await _viewer_status(client, token))["status"] == "PENDING_EMAIL"


async def test_stu_1_a_person_verified_by_face_applies_and_an_unverified_one_cannot(client) -> None:
    from tests.api.test_verification import face_verified

    # Given a real, unverified account (no stand-in for the verification service)
    token = await registered_and_signed_in(client)
    assert _errors(await _apply(client, token)) == [("PERSONAL_VERIFICATION_REQUIRED", None)]
    # When it is verified as a person by face
    await face_verified(client, token)
    # Then it may apply
    applied = await _apply(client, token)
    assert applied["errors"] == []
    assert applied["studentStatus"]["status"] == "PENDING_EMAIL"


async def test_stu_1_applying_needs_a_session(client, db: Database) -> None:
    before = await _snapshot(db)
    refused = await _apply(client, "not-a-token")
    assert _errors(refused) == [("AUTHENTICATION_REQUIRED", None)]
    assert await _snapshot(db) == before


# --- STU-2: the application is checked before anything is sent --------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"school": ""}, ("VALUE_REQUIRED", ["input", "school"])),
        ({"school": "   "}, ("VALUE_REQUIRED", ["input", "school"])),
        ({"school": "校" * 65}, ("VALUE_TOO_LONG", ["input", "school"])),
        ({"major": ""}, ("VALUE_REQUIRED", ["input", "major"])),
        ({"major": "m" * 65}, ("VALUE_TOO_LONG", ["input", "major"])),
        ({"expectedGraduation": {"year": 2026, "month": 10}}, ("GRADUATION_IN_PAST", ["input", "expectedGraduation"])),
        ({"expectedGraduation": {"year": 2025, "month": 12}}, ("GRADUATION_IN_PAST", ["input", "expectedGraduation"])),
        (
            {"expectedGraduation": {"year": 2027, "month": 13}},
            ("GRADUATION_INVALID", ["input", "expectedGraduation", "month"]),
        ),
        (
            {"expectedGraduation": {"year": 2027, "month": 0}},
            ("GRADUATION_INVALID", ["input", "expectedGraduation", "month"]),
        ),
        (
            {"expectedGraduation": {"year": 2037, "month": 1}},
            ("GRADUATION_INVALID", ["input", "expectedGraduation", "year"]),
        ),
        ({"email": "not an address"}, ("INVALID_EMAIL", ["input", "email"])),
        ({"email": "x@education.com"}, ("EMAIL_NOT_EDU", ["input", "email"])),
        ({"school": "清华\x00大学"}, ("VALUE_INVALID", ["input", "school"])),  # PostgreSQL refuses NUL outright
        ({"major": "计算机\n科学"}, ("VALUE_INVALID", ["input", "major"])),  # one line
        ({"email": "x@myedu.cn"}, ("EMAIL_NOT_EDU", ["input", "email"])),
        ({"email": "x@edu-mail.cn"}, ("EMAIL_NOT_EDU", ["input", "email"])),
        ({"email": "edu@example.com"}, ("EMAIL_NOT_EDU", ["input", "email"])),
    ],
)
async def test_stu_2_invalid_application_is_refused_and_changes_nothing(
    client, db: Database, person, changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    # Given a personally verified account on 2026-11-26 (Asia/Shanghai)
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    # When one field of the application is wrong
    refused = await _apply(client, token, **changes)
    # Then that field is refused, and no code was sent, no row written, no counter moved
    assert _errors(refused) == [expected]
    assert refused["studentStatus"] is None
    assert await _snapshot(db) == before
    assert await _viewer_status(client, token) is None


async def test_stu_2_every_problem_of_the_application_comes_back_at_once_before_stu_1(
    client, db: Database, monkeypatch
) -> None:
    # Given an account that is not verified as a person (STU-1 would refuse it)
    _as_subject(monkeypatch, None)
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    # When every field of its application is wrong
    refused = await _apply(
        client,
        token,
        school="",
        major="m" * 65,
        expectedGraduation={"year": 2027, "month": 13},
        email="x@education.com",
    )
    # Then each field's problem comes back, in the input's order, and nothing was sent, written or counted
    assert _errors(refused) == [
        ("VALUE_REQUIRED", ["input", "school"]),
        ("VALUE_TOO_LONG", ["input", "major"]),
        ("GRADUATION_INVALID", ["input", "expectedGraduation", "month"]),
        ("EMAIL_NOT_EDU", ["input", "email"]),
    ]
    assert await _snapshot(db) == before
    # And once the application is well formed, the state-dependent refusal comes alone
    assert _errors(await _apply(client, token)) == [("PERSONAL_VERIFICATION_REQUIRED", None)]


async def test_stu_3_the_agreements_and_the_code_format_come_back_together_before_the_application(
    client, db: Database, person
) -> None:
    # Given a personally verified account that has not applied
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    # When it confirms with one agreement and a malformed code
    refused = await _confirm(client, token, "12ab", STUDENT_AGREEMENTS[:1])
    # Then both problems come back (not NO_PENDING_APPLICATION, which depends on the account), nothing changed
    assert _errors(refused) == [
        ("AGREEMENTS_REQUIRED", ["input", "agreements"]),
        ("CODE_FORMAT_INVALID", ["input", "code"]),
    ]
    assert await _snapshot(db) == before
    assert _errors(await _confirm(client, token, "123456")) == [("NO_PENDING_APPLICATION", None)]


async def test_stu_3_the_sign_up_agreements_are_not_student_agreements_in_the_schema(client, person) -> None:
    token = await registered_and_signed_in(client)
    body = await gql(
        client,
        "mutation($input: StudentStatusConfirmInput!) { studentStatusConfirm(input: $input) { errors { code } } }",
        {"input": {"code": "123456", "agreements": AGREEMENTS}},
        token,
        expect_errors=True,
    )
    assert body.get("data") is None
    assert "USER_SERVICE" in body["errors"][0]["message"]


async def test_stu_3_the_payload_returns_the_viewer_with_its_student_status_and_acceptances(client, person) -> None:
    token = await registered_and_signed_in(client)
    selection = "studentStatus { id status } account { studentStatus { id status } agreementAcceptances { context } }"
    applied = await mutate(client, "studentStatusApply", APPLICATION, selection, token)
    assert applied["account"]["studentStatus"] == applied["studentStatus"]
    confirmed = await mutate(
        client,
        "studentStatusConfirm",
        {"code": await last_code(client, EMAIL), "agreements": STUDENT_AGREEMENTS},
        selection,
        token,
    )
    assert (
        confirmed["account"]["studentStatus"]
        == confirmed["studentStatus"]
        == {
            "id": applied["studentStatus"]["id"],
            "status": "VERIFIED",
        }
    )
    contexts = [a["context"] for a in confirmed["account"]["agreementAcceptances"]]
    assert contexts.count("STUDENT") == 2


@pytest.mark.parametrize(
    "email", ["name@mail.example.edu.cn", "name@edu.cn", "name@cs.example.edu", "Name@Mail.Example.EDU.cn"]
)
async def test_stu_2_an_edu_label_anywhere_in_the_domain_is_a_school_address(client, person, email: str) -> None:
    token = await registered_and_signed_in(client)
    applied = await _apply(client, token, email=email)
    assert applied["errors"] == []
    # The address is normalised (the domain in lower case) and the code went there
    normalised = email.split("@")[0] + "@" + email.split("@")[1].lower()
    assert applied["studentStatus"]["email"] == normalised
    [message] = await outbox(client, normalised)
    assert (message["channel"], message["purpose"]) == ("email", "STUDENT_EMAIL")


async def test_stu_2_the_current_month_in_shanghai_is_allowed_and_the_last_one_is_not(
    client, clock: ManualClock, db: Database, person
) -> None:
    # Given it is 2026-12-01 00:30 in Shanghai, still November in UTC
    clock.set(_shanghai(2026, 12, 1, 0, 30))
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    # Then November 2026 has passed
    past = await _apply(client, token, expectedGraduation={"year": 2026, "month": 11})
    assert _errors(past) == [("GRADUATION_IN_PAST", ["input", "expectedGraduation"])]
    assert await _snapshot(db) == before
    # And December 2026, the current month, is allowed
    current = await _apply(client, token, expectedGraduation={"year": 2026, "month": 12})
    assert current["errors"] == []
    assert current["studentStatus"]["expectedGraduation"] == {"year": 2026, "month": 12}


async def test_stu_2_an_unknown_level_is_a_schema_error(client, db: Database, person) -> None:
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    body = await gql(
        client,
        "mutation($input: StudentStatusApplyInput!) { studentStatusApply(input: $input) { errors { code } } }",
        {"input": {**APPLICATION, "level": "PRIMARY_SCHOOL"}},
        token,
        expect_errors=True,
    )
    assert body["errors"]
    assert body.get("data") is None
    assert await _snapshot(db) == before


# --- STU-3: the code to the school address, the agreements, the verified status -----------------------


async def test_stu_3_code_to_the_school_email_and_agreements_make_a_verified_student(
    client, clock: ManualClock, db: Database, person
) -> None:
    # Given a personally verified account
    token = await registered_and_signed_in(client)
    applied_at = clock.now()
    # When it applies
    applied = await _apply(client, token)
    # Then the application waits for a 6-digit code sent by e-mail to the school address, valid 30 minutes
    assert applied["errors"] == []
    pending = applied["studentStatus"]
    assert pending["status"] == "PENDING_EMAIL"
    assert (pending["school"], pending["major"], pending["level"]) == ("清华大学", "Computer Science", "BACHELOR")
    assert pending["expectedGraduation"] == {"year": 2027, "month": 6}
    assert pending["codeExpiresAt"] == (applied_at + timedelta(minutes=30)).isoformat()
    assert (pending["validUntil"], pending["verifiedAt"]) == (None, None)
    [message] = await outbox(client, EMAIL)
    assert (message["channel"], message["purpose"]) == ("email", "STUDENT_EMAIL")
    assert "30" in message["text"]
    code = await last_code(client, EMAIL)
    assert len(code) == 6
    assert await _viewer_status(client, token) == pending
    # When it confirms with the code and both student agreements
    clock.advance(minutes=10)
    confirmed = await _confirm(client, token, code)
    # Then it is a verified student until the end of June 2027, Asia/Shanghai
    assert confirmed["errors"] == []
    status = confirmed["studentStatus"]
    assert (status["id"], status["status"]) == (pending["id"], "VERIFIED")
    assert status["validUntil"] == END_OF_JUNE_2027
    assert status["verifiedAt"] == clock.now().isoformat()
    assert status["codeExpiresAt"] is None
    assert await _viewer_status(client, token) == status
    # And both acceptances are recorded with their versions, in the student context
    assert await _student_acceptances(db) == [
        ("STUDENT_VERIFICATION", CURRENT[AgreementKind.STUDENT_VERIFICATION].version, "student"),
        ("STUDENT_PERSONAL_INFORMATION", CURRENT[AgreementKind.STUDENT_PERSONAL_INFORMATION].version, "student"),
    ]
    # And the code was used up
    assert (await _student_code(db)).consumed_at is not None


@pytest.mark.parametrize(
    ("wait", "expected"),
    [(timedelta(minutes=29, seconds=59), None), (timedelta(minutes=30, seconds=1), "CODE_EXPIRED")],
)
async def test_stu_3_the_email_code_is_valid_for_30_minutes(
    client, clock: ManualClock, db: Database, person, wait: timedelta, expected: str | None
) -> None:
    # Given an application whose code was sent
    token = await registered_and_signed_in(client)
    assert (await _apply(client, token))["errors"] == []
    code = await last_code(client, EMAIL)
    # When the code is entered after `wait`
    clock.advance(wait)
    before = await _snapshot(db)
    confirmed = await _confirm(client, token, code)
    # Then it works within 30 minutes, and is refused as expired after them, changing nothing
    if expected is None:
        assert confirmed["errors"] == []
        assert confirmed["studentStatus"]["status"] == "VERIFIED"
        return
    assert _errors(confirmed) == [(expected, ["input", "code"])]
    assert await _snapshot(db) == before
    assert (await _viewer_status(client, token))["status"] == "PENDING_EMAIL"


async def test_stu_3_a_wrong_code_counts_against_the_five_tries(client, db: Database, person) -> None:
    # Given an application whose code was sent
    token = await registered_and_signed_in(client)
    assert (await _apply(client, token))["errors"] == []
    code = await last_code(client, EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    before = await _snapshot(db)
    # When a wrong code is entered
    refused = await _confirm(client, token, wrong)
    # Then it is refused with 4 tries left; the try is counted and nothing else changed
    assert _errors(refused) == [("CODE_INVALID", ["input", "code"])]
    assert refused["errors"][0]["attemptsRemaining"] == 4
    after = await _snapshot(db)
    assert (await _student_code(db)).attempts == 1
    assert {k: v for k, v in after.items() if k != "codes"} == {k: v for k, v in before.items() if k != "codes"}
    assert await _student_acceptances(db) == []
    # When four more wrong codes are entered, even the right one is void
    for remaining in (3, 2, 1, 0):
        assert (await _confirm(client, token, wrong))["errors"][0]["attemptsRemaining"] == remaining
    exhausted = await _confirm(client, token, code)
    assert _errors(exhausted) == [("CODE_ATTEMPTS_EXHAUSTED", ["input", "code"])]
    assert (await _viewer_status(client, token))["status"] == "PENDING_EMAIL"


@pytest.mark.parametrize(
    ("agreements", "expected"),
    [
        ([], "AGREEMENTS_REQUIRED"),
        (STUDENT_AGREEMENTS[:1], "AGREEMENTS_REQUIRED"),
        (STUDENT_AGREEMENTS[1:], "AGREEMENTS_REQUIRED"),
        (
            [
                {**a, "version": "2020-01"} if a["kind"] == "STUDENT_PERSONAL_INFORMATION" else a
                for a in STUDENT_AGREEMENTS
            ],
            "AGREEMENT_VERSION_OUTDATED",
        ),
    ],
)
async def test_stu_3_both_current_student_agreements_are_required(
    client, db: Database, person, agreements: list[dict[str, str]], expected: str
) -> None:
    # Given an application whose code was sent
    token = await registered_and_signed_in(client)
    assert (await _apply(client, token))["errors"] == []
    code = await last_code(client, EMAIL)
    before = await _snapshot(db)
    # When the right code comes without both current student agreements
    refused = await _confirm(client, token, code, agreements)
    # Then it is refused on the agreements field (an outdated version on its item); the code is neither used
    # nor counted
    path = (
        ["input", "agreements", "1", "version"] if expected == "AGREEMENT_VERSION_OUTDATED" else ["input", "agreements"]
    )
    assert _errors(refused) == [(expected, path)]
    assert await _snapshot(db) == before
    # And the same code then works with both agreements
    assert (await _confirm(client, token, code))["errors"] == []


async def test_stu_3_the_status_expires_after_the_graduation_month(client, clock: ManualClock, person) -> None:
    # Given a verified student expected to graduate in June 2027
    token = await registered_and_signed_in(client)
    await _verified_student(client, token)
    # When it is the last minute of June 2027 in Shanghai, it is still verified
    clock.set(_shanghai(2027, 6, 30, 23, 59))
    token = await sign_in(client, "alice01")  # the old session ended after an hour idle (AUTH-3)
    still = await _viewer_status(client, token)
    assert (still["status"], still["validUntil"]) == ("VERIFIED", END_OF_JUNE_2027)
    # When July has begun in Shanghai (still June 30 in UTC), it reads as expired
    clock.set(_shanghai(2027, 7, 1, 0, 0))
    token = await sign_in(client, "alice01")
    expired = await _viewer_status(client, token)
    assert (expired["status"], expired["validUntil"]) == ("EXPIRED", END_OF_JUNE_2027)
    # And the expired student may apply again
    again = await _apply(client, token, expectedGraduation={"year": 2029, "month": 6}, level="MASTER")
    assert again["errors"] == []
    assert again["studentStatus"]["status"] == "PENDING_EMAIL"
    assert (await _viewer_status(client, token))["level"] == "MASTER"


async def test_stu_2_a_graduation_month_that_ends_before_the_code_is_entered_is_refused(
    client, clock: ManualClock, db: Database, person
) -> None:
    # Given an application on 2026-11-30 23:50 (Shanghai) expecting to graduate in November 2026
    clock.set(_shanghai(2026, 11, 30, 23, 50))
    token = await registered_and_signed_in(client)
    assert (await _apply(client, token, expectedGraduation={"year": 2026, "month": 11}))["errors"] == []
    code = await last_code(client, EMAIL)
    # When the code is entered after midnight, in December
    clock.advance(minutes=15)
    before = await _snapshot(db)
    refused = await _confirm(client, token, code)
    # Then the month has passed: refused, with the code neither used nor counted
    assert _errors(refused) == [("GRADUATION_IN_PAST", None)]
    assert await _snapshot(db) == before


async def test_stu_3_a_verified_student_cannot_apply_again(client, clock: ManualClock, db: Database, person) -> None:
    # Given a verified student
    token = await registered_and_signed_in(client)
    verified = await _verified_student(client, token)
    clock.advance(minutes=5)
    before = await _snapshot(db)
    # When it applies again, even with another school address
    refused = await _apply(client, token, email=OTHER_EMAIL)
    # Then it is refused and nothing is sent or written
    assert _errors(refused) == [("ALREADY_STUDENT", None)]
    assert await _snapshot(db) == before
    assert await outbox(client, OTHER_EMAIL) == []
    assert await _viewer_status(client, token) == verified["studentStatus"]


async def test_stu_3_a_new_application_replaces_a_pending_one(client, clock: ManualClock, db: Database, person) -> None:
    # Given a pending application with a code to the first address
    token = await registered_and_signed_in(client)
    assert (await _apply(client, token))["errors"] == []
    first_code = await last_code(client, EMAIL)
    # When the same address is given again within 60 seconds, it is refused and nothing changes
    before = await _snapshot(db)
    too_soon = await _apply(client, token, major="Mathematics")
    assert _errors(too_soon) == [("RESEND_TOO_SOON", ["input", "email"])]
    assert too_soon["errors"][0]["retryAfter"] == 60
    assert await _snapshot(db) == before
    # When it applies with another address
    clock.advance(seconds=10)
    replaced = await _apply(client, token, email=OTHER_EMAIL, major="Mathematics")
    # Then the new application is the only pending one, and the code went to the new address
    assert replaced["errors"] == []
    [(_, state, email, *_)] = await _rows(db)
    assert (state, email) == ("pending", OTHER_EMAIL)
    assert (await _viewer_status(client, token))["major"] == "Mathematics"
    # And the first address's code does not confirm it (and counts as a wrong try)
    stale = await _confirm(client, token, first_code)
    assert _errors(stale) == [("CODE_INVALID", ["input", "code"])]
    confirmed = await _confirm(client, token, await last_code(client, OTHER_EMAIL))
    assert confirmed["errors"] == []
    assert (confirmed["studentStatus"]["email"], confirmed["studentStatus"]["major"]) == (OTHER_EMAIL, "Mathematics")


async def test_stu_3_confirm_without_a_pending_application_is_refused(client, db: Database, person) -> None:
    # Given an account that never applied
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    # When it confirms a code
    refused = await _confirm(client, token, "123456")
    # Then there is nothing to confirm, and nothing changed
    assert _errors(refused) == [("NO_PENDING_APPLICATION", None)]
    assert await _snapshot(db) == before
    # And a verified student has nothing pending either
    await _verified_student(client, token)
    after_verification = await _snapshot(db)
    assert _errors(await _confirm(client, token, "123456")) == [("NO_PENDING_APPLICATION", None)]
    assert await _snapshot(db) == after_verification


async def test_stu_3_the_student_code_is_sent_only_by_the_application(client, db: Database, person) -> None:
    # Given a signed-in account
    token = await registered_and_signed_in(client)
    before = await _snapshot(db)
    # When it asks verificationCodeSend for a STUDENT_EMAIL code
    refused = await gql(
        client,
        "mutation($input: VerificationCodeSendInput!) { verificationCodeSend(input: $input) { errors { code } } }",
        {"input": {"purpose": "STUDENT_EMAIL", "email": EMAIL}},
        token,
        expect_errors=True,
    )
    # Then the schema refuses the purpose (its input enum does not hold it) and nothing is sent
    assert "data" not in refused  # refused before execution: GraphQL over HTTP leaves out `data`
    assert "CodeSendPurpose" in refused["errors"][0]["message"]
    assert await _snapshot(db) == before


async def test_stu_3_the_status_is_the_viewers_own(client, person) -> None:
    # Given alice is a verified student and bob is not
    alice = await registered_and_signed_in(client, "alice01", "13700000001")
    status_id = (await _verified_student(client, alice))["studentStatus"]["id"]
    bob = await registered_and_signed_in(client, "bob0001", "13600000006")
    query = "query($id: ID!) { node(id: $id) { ... on StudentStatus { status } } }"
    # Then alice reads her status by ID, and to bob the same ID is unknown
    assert (await gql(client, query, {"id": status_id}, alice))["node"] == {"status": "VERIFIED"}
    assert (await gql(client, query, {"id": status_id}, bob))["node"] is None
    assert await _viewer_status(client, bob) is None


async def test_stu_3_another_account_cannot_void_or_burn_a_students_code(client, clock, person) -> None:
    # Given account A's pending application and its code
    alice = await registered_and_signed_in(client)
    assert (await _apply(client, alice))["errors"] == []
    code = await last_code(client, EMAIL)
    # When account B applies with the same school address and enters wrong codes
    clock.advance(seconds=61)
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    assert (await _apply(client, bob))["errors"] == []
    for _ in range(5):
        await _confirm(client, bob, "000000" if code != "000000" else "111111")
    # Then A's own code still confirms A's application
    assert (await _confirm(client, alice, code))["errors"] == []


async def test_stu_3_an_account_gets_at_most_ten_student_codes_a_day(client, person) -> None:
    token = await registered_and_signed_in(client)
    for i in range(10):
        assert (await _apply(client, token, email=f"s{i}@mail.example.edu.cn"))["errors"] == []
    refused = await _apply(client, token, email="s10@mail.example.edu.cn")
    assert _errors(refused) == [("DAILY_LIMIT_REACHED", ["input", "email"])]
    assert await outbox(client, "s10@mail.example.edu.cn") == []


# --- STU-3: the second agreement is the personal-information processing rules ------------------------


async def test_stu_3_the_agreements_query_lists_the_personal_information_processing_rules(client) -> None:
    # When anyone asks which agreements student status needs
    listed = await gql(client, "{ agreements(step: STUDENT_STATUS) { kind version title step } }")
    # Then they are the service agreement and the student verification personal-information processing rules
    assert listed["agreements"] == [
        {
            "kind": "STUDENT_VERIFICATION",
            "version": "2026-06",
            "title": "学生认证服务协议 / Student verification agreement",
            "step": "STUDENT_STATUS",
        },
        {
            "kind": "STUDENT_PERSONAL_INFORMATION",
            "version": "2026-06",
            "title": "学生认证个人信息处理规则 / Student verification personal information processing rules",
            "step": "STUDENT_STATUS",
        },
    ]
    # And the offer rules are no longer among the agreements in force
    everything = await gql(client, "{ agreements { title } }")
    assert [a for a in everything["agreements"] if "学生优惠规则" in a["title"] or "offer" in a["title"]] == []


def _alembic(settings: Settings, action: str, revision: str) -> None:
    """Move the test database to `revision` (the same configuration as `account-center migrate`)."""
    import cli

    cfg = Config(str(cli.HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(cli.HERE / "migrations"))
    cfg.attributes["database_url"] = settings.database_url
    cfg.attributes["configure_logger"] = False
    getattr(command, action)(cfg, revision)


async def _stored_student_acceptances(db: Database) -> list[tuple[Any, ...]]:
    async with db.read_sessions() as s:
        rows = await s.execute(
            text(
                "SELECT agreement, version, context, accepted_at FROM agreement_acceptances "
                "WHERE context = 'student' ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]


async def test_stu_3_an_acceptance_recorded_under_the_old_kind_still_counts_after_migration_0012(
    client, db: Database, settings: Settings, person
) -> None:
    # Given a verified student whose acceptances are stored as before migration 0012, under STUDENT_BENEFITS
    token = await registered_and_signed_in(client)
    await _verified_student(client, token)
    current = await _stored_student_acceptances(db)
    await db.engine.dispose()  # no pooled connection holds the SQLite file while Alembic writes to it
    try:
        await asyncio.to_thread(_alembic, settings, "downgrade", "0011")
        old = await _stored_student_acceptances(db)
        assert [r[0] for r in old] == ["STUDENT_VERIFICATION", "STUDENT_BENEFITS"]
        assert [r[1:] for r in old] == [r[1:] for r in current]
        await db.engine.dispose()
    finally:
        # When the database is upgraded (always, so that the shared PostgreSQL test database stays at head)
        await asyncio.to_thread(_alembic, settings, "upgrade", "head")
    # Then the acceptance reads as the personal-information processing rules, same version, context and time
    assert await _stored_student_acceptances(db) == current
    accepted = (await gql(client, "{ viewer { agreementAcceptances { kind version context } } }", token=token))[
        "viewer"
    ]["agreementAcceptances"]
    assert [a for a in accepted if a["context"] == "STUDENT"] == [
        {"kind": "STUDENT_VERIFICATION", "version": "2026-06", "context": "STUDENT"},
        {"kind": "STUDENT_PERSONAL_INFORMATION", "version": "2026-06", "context": "STUDENT"},
    ]
    # And it is the version in force, so nobody is asked to accept it again, and the student stays verified
    assert CURRENT[AgreementKind.STUDENT_PERSONAL_INFORMATION].version == "2026-06"
    assert (await _viewer_status(client, token))["status"] == "VERIFIED"
