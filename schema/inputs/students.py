"""Inputs of the student-status mutations."""

from __future__ import annotations

from enum import Enum

import strawberry

from schema.enums import StudentLevel
from services.accounts.agreements import Acceptance, AgreementKind
from services.students.service import Application


@strawberry.enum(
    description="The agreements accepted to confirm student status (STU-3): the `AgreementKind` values of the "
    "STUDENT_STATUS step."
)
class StudentAgreementKind(Enum):
    STUDENT_VERIFICATION = strawberry.enum_value(
        "STUDENT_VERIFICATION", description="Student verification agreement (学生认证服务协议)."
    )
    STUDENT_PERSONAL_INFORMATION = strawberry.enum_value(
        "STUDENT_PERSONAL_INFORMATION",
        description="Student verification personal information processing rules (学生认证个人信息处理规则).",
    )


@strawberry.input(description="One accepted student agreement: its kind and the version shown to the user.")
class StudentAgreementAcceptanceInput:
    kind: StudentAgreementKind = strawberry.field(description="Which agreement.")
    version: str = strawberry.field(description="The version from the `agreements` query.")

    def to_acceptance(self) -> Acceptance:
        return Acceptance(kind=AgreementKind[self.kind.name], version=self.version)


@strawberry.input(description="A calendar month.")
class YearMonthInput:
    year: int = strawberry.field(description="The year, e.g. 2028; at most 10 years ahead.")
    month: int = strawberry.field(description="The month, 1 to 12.")


@strawberry.input(
    description="Apply for student status (STU-1, STU-2): the account must be verified as a person. A code goes "
    "to `email`; a new application replaces one still waiting for its code."
)
class StudentStatusApplyInput:
    school: str = strawberry.field(description="The school name: 1 to 64 characters.")
    major: str = strawberry.field(description="The major: 1 to 64 characters.")
    level: StudentLevel = strawberry.field(description="Junior college, bachelor, master or doctorate.")
    expected_graduation: YearMonthInput = strawberry.field(
        description="The expected graduation month: not in the past (the current month in Asia/Shanghai is "
        "allowed); the status lasts until its end."
    )
    email: str = strawberry.field(
        description="The school e-mail address; its domain has a label that is exactly `edu` "
        "(`name@mail.example.edu.cn`; not `name@myedu.cn`)."
    )

    def to_application(self) -> Application:
        return Application(
            school=self.school,
            major=self.major,
            level=self.level,
            graduation_year=self.expected_graduation.year,
            graduation_month=self.expected_graduation.month,
            email=self.email,
        )


@strawberry.input(description="Confirm student status with the code sent to the school e-mail address (STU-3).")
class StudentStatusConfirmInput:
    code: str = strawberry.field(
        description="The 6-digit code sent by `studentStatusApply`; valid 30 minutes, void after 5 wrong entries."
    )
    agreements: list[StudentAgreementAcceptanceInput] = strawberry.field(
        description="Both student agreements of the `agreements` query, STUDENT_VERIFICATION and "
        "STUDENT_PERSONAL_INFORMATION, in their current versions (STU-3)."
    )
