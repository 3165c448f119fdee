"""Student status (STU-1..3).

STU-1 only an account verified as a person may apply.
STU-2 school name, major, level, expected graduation (year and month, not in the past; the current
      Asia/Shanghai month is allowed) and a school e-mail address with an `edu` domain label.
STU-3 a 6-digit code goes to that address, valid 30 minutes; the right code and the two student
      agreements make the account a verified student until the end of the graduation month
      (Asia/Shanghai). After that it reads as EXPIRED: computed from the clock, nothing is swept.

A new application replaces a pending one; a verified student whose month has not passed cannot
apply again. A refused request changes nothing but a wrong code's counted try (CODE-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.students import StudentStatus
from services.accounts import repository as accounts_repo
from services.accounts.agreements import STUDENT_AGREEMENTS, Acceptance, AcceptanceContext
from services.accounts.service import check_agreements, record_acceptances
from services.clock import shanghai_day_start
from services.codes import service as codes
from services.codes.purposes import EMAIL_TTL, CodePurpose
from services.errors import Problems, ServiceError, checked
from services.identifiers import normalize_email
from services.students import repository as repo
from services.students.errors import StudentErrorCode
from services.students.status import (
    StudentLevel,
    StudentState,
    current_month,
    end_of_month,
    month_has_passed,
)
from services.text import has_control_characters
from services.uow import Uow
from services.verification import subject
from services.viewer import Viewer

TEXT_MAX = 64  # STU-2: school name and major
YEARS_AHEAD_MAX = 10  # not a rule: a bound on the expected graduation, so a typo'd year is caught
EDU_LABEL = "edu"  # STU-2
AGREEMENT_CONTEXT = AcceptanceContext.STUDENT.value


@dataclass(frozen=True, slots=True)
class Application:
    school: str
    major: str
    level: StudentLevel
    graduation_year: int
    graduation_month: int
    email: str


@dataclass(frozen=True, slots=True)
class StudentStatusView:
    """A student-status row with what the clock says about it."""

    row: StudentStatus
    state: StudentState
    valid_until: datetime  # the end of the graduation month (Asia/Shanghai)
    code_expires_at: datetime | None  # while pending: the code was sent when the row was written


def view(row: StudentStatus, now: datetime) -> StudentStatusView:
    valid_until = end_of_month(row.graduation_year, row.graduation_month)
    if row.state == "pending":
        return StudentStatusView(row, StudentState.PENDING_EMAIL, valid_until, row.created_at + EMAIL_TTL)
    if row.state == "ended":  # CHG-5: the account's person changed; the new person may apply
        return StudentStatusView(row, StudentState.ENDED, valid_until, None)
    # STU-3: verified until the end of the graduation month; expired from the next month on.
    expired = month_has_passed(row.graduation_year, row.graduation_month, now)
    return StudentStatusView(row, StudentState.EXPIRED if expired else StudentState.VERIFIED, valid_until, None)


# --- checks -------------------------------------------------------------------------------------


async def _check_personally_verified(uow: Uow, account_id: int) -> None:
    # STU-1: only a personally verified account.
    kind = await subject.verified_subject(uow, account_id)
    if kind == "person":
        return
    raise ServiceError(
        StudentErrorCode.PERSONAL_VERIFICATION_REQUIRED,
        "Student status is for accounts verified as a person; this account is verified as an enterprise."
        if kind == "enterprise"
        else "Complete personal real-name verification before applying for student status.",
        None,
    )


def _text(raw: str, field: str, what: str) -> str:
    # STU-2: a school name and a major, 1 to 64 characters.
    value = (raw or "").strip()
    if not value:
        raise ServiceError(StudentErrorCode.VALUE_REQUIRED, f"Enter the {what}.", field)
    if has_control_characters(value):
        raise ServiceError(
            StudentErrorCode.VALUE_INVALID, f"The {what} has no control characters or line breaks.", field
        )
    if len(value) > TEXT_MAX:
        raise ServiceError(StudentErrorCode.VALUE_TOO_LONG, f"The {what} has at most {TEXT_MAX} characters.", field)
    return value


def _check_graduation(year: int, month: int, now: datetime) -> None:
    # STU-2: expected graduation as year and month, not in the past (the current month is allowed).
    field = "expectedGraduation"
    this_year, _ = current_month(now)
    if not 1 <= month <= 12:
        raise ServiceError(StudentErrorCode.GRADUATION_INVALID, "The month is 1 to 12.", f"{field}.month")
    if month_has_passed(year, month, now):
        raise ServiceError(
            StudentErrorCode.GRADUATION_IN_PAST, "The expected graduation cannot be in a past month.", field
        )
    if year > this_year + YEARS_AHEAD_MAX:
        raise ServiceError(
            StudentErrorCode.GRADUATION_INVALID,
            f"The expected graduation is at most {YEARS_AHEAD_MAX} years ahead.",
            f"{field}.year",
        )


def is_edu_address(address: str) -> bool:
    """STU-2: the domain has a label that is exactly `edu` (`mail.example.edu.cn`, not `myedu.cn`)."""
    return EDU_LABEL in address.rpartition("@")[2].lower().split(".")


def _school_email(raw: str) -> str:
    field = "email"
    address = normalize_email(raw or "")
    if address is None:
        raise ServiceError(StudentErrorCode.INVALID_EMAIL, "Enter a valid e-mail address.", field)
    if not is_edu_address(address):
        raise ServiceError(
            StudentErrorCode.EMAIL_NOT_EDU,
            "Enter your school e-mail address: its domain has an `edu` part, as in name@mail.example.edu.cn.",
            field,
        )
    return address


# --- use cases ----------------------------------------------------------------------------------


async def apply(uow: Uow, viewer: Viewer, application: Application, client_ip: str | None) -> StudentStatusView:
    """File an application and send the code to the school address; it replaces a pending one.
    `client_ip` is the caller's address (the per-address caps on code sends)."""
    account_id = viewer.account.id
    now = uow.now()
    # STU-2: every problem of the form at once, before anything that depends on the account.
    problems = Problems()
    school = checked(problems, _text, application.school, "school", "school name")
    major = checked(problems, _text, application.major, "major", "major")
    checked(problems, _check_graduation, application.graduation_year, application.graduation_month, now)
    email = checked(problems, _school_email, application.email)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert school is not None
    assert major is not None
    assert email is not None
    await _check_personally_verified(uow, account_id)
    await accounts_repo.lock_account(uow, account_id)
    if await repo.verified_through(uow, account_id, *current_month(now)) is not None:
        raise ServiceError(
            StudentErrorCode.ALREADY_STUDENT, "The account is a verified student until its graduation month.", None
        )
    await repo.delete_pending(uow, account_id)  # a new application replaces a pending one
    row = await repo.add(
        uow,
        StudentStatus(
            account_id=account_id,
            school=school,
            major=major,
            level=application.level.value,
            graduation_year=application.graduation_year,
            graduation_month=application.graduation_month,
            email=email,
            state="pending",
            created_at=now,
        ),
    )
    # STU-3: a 6-digit code to the school address, valid 30 minutes (CODE-3's gap and daily cap apply),
    # kept apart per account, and at most STUDENT_CODES_PER_DAY a day per account (any addresses).
    day_start, _ = shanghai_day_start(now)
    if await codes.sent_since(uow, account_id, CodePurpose.STUDENT_EMAIL, day_start) >= STUDENT_CODES_PER_DAY:
        raise ServiceError(
            StudentErrorCode.DAILY_LIMIT_REACHED,
            f"At most {STUDENT_CODES_PER_DAY} student codes a day per account; try again tomorrow.",
            "email",
        )
    await codes.send(
        uow,
        channel="email",
        destination=email,
        purpose=CodePurpose.STUDENT_EMAIL,
        client_ip=client_ip,
        account_id=account_id,
        field="email",
        scope=code_scope(uow, account_id, email),
    )
    return view(row, now)


STUDENT_CODES_PER_DAY = 10  # beyond the rules: one account cannot spray school mailboxes


def code_scope(uow: Uow, account_id: int, email: str) -> str:
    """Student codes of one address are the account's own: another account cannot void or use them."""
    return f"student:{account_id}:{uow.keyed(email)[:40]}"


async def confirm(uow: Uow, viewer: Viewer, code: str, agreements: list[Acceptance]) -> StudentStatusView:
    """Enter the code with the two student agreements: the account becomes a verified student (STU-3)."""
    account_id = viewer.account.id
    # STU-3: both student agreements in their current versions and a 6-digit code, every problem at once,
    # before anything that depends on the account.
    problems = Problems()
    accepted = checked(problems, check_agreements, agreements, "agreements", STUDENT_AGREEMENTS)
    checked(problems, codes.check_format, code, "code")
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert accepted is not None
    await accounts_repo.lock_account(uow, account_id)
    pending = await repo.latest_pending(uow, account_id)
    if pending is None:
        raise ServiceError(
            StudentErrorCode.NO_PENDING_APPLICATION, "There is no application waiting for a code; apply first.", None
        )
    await _check_personally_verified(uow, account_id)  # STU-1 still holds at the moment it takes effect
    now = uow.now()
    if month_has_passed(pending.graduation_year, pending.graduation_month, now):  # STU-2, checked at apply
        raise ServiceError(
            StudentErrorCode.GRADUATION_IN_PAST, "The expected graduation month has passed; apply again.", None
        )
    # STU-3 / CODE-2: the code sent to the application's address; a wrong entry counts.
    await codes.verify(
        uow,
        destination=code_scope(uow, account_id, pending.email),
        purpose=CodePurpose.STUDENT_EMAIL,
        code=code,
        field="code",
    )
    if not await repo.mark_verified(uow, pending.id, now):
        raise ServiceError(
            StudentErrorCode.NO_PENDING_APPLICATION, "There is no application waiting for a code; apply first.", None
        )
    await record_acceptances(uow, account_id, accepted, AGREEMENT_CONTEXT)
    return view(pending, now)


# --- reads --------------------------------------------------------------------------------------


async def current(uow: Uow, account_id: int) -> StudentStatusView | None:
    """The account's latest application or verification, as the clock reads it; None if it never applied."""
    row = await repo.latest(uow, account_id)
    return None if row is None else view(row, uow.now())


async def of_account(uow: Uow, account_id: int, ids: list[int]) -> list[StudentStatusView]:
    now = uow.now()
    return [view(row, now) for row in await repo.of_account(uow, account_id, ids)]
