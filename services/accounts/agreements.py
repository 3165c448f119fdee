"""The agreements a user accepts (REG-5, REG-6, STU-3), with the versions in force."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class AgreementKind(Enum):
    USER_SERVICE = "USER_SERVICE"
    ONLINE_ORDERING = "ONLINE_ORDERING"
    PRIVACY_POLICY = "PRIVACY_POLICY"
    REAL_NAME_VERIFICATION = "REAL_NAME_VERIFICATION"
    STUDENT_VERIFICATION = "STUDENT_VERIFICATION"
    # STU-3: stored as "STUDENT_BENEFITS" ("Student offer rules") before migration 0012 renamed the rows.
    STUDENT_PERSONAL_INFORMATION = "STUDENT_PERSONAL_INFORMATION"
    SUBJECT_CHANGE_APPLICATION = "SUBJECT_CHANGE_APPLICATION"  # CHG-2..5: accepted when a change starts
    SUBJECT_CHANGE_ACCEPTANCE = "SUBJECT_CHANGE_ACCEPTANCE"  # CHG-2..5: accepted for the new subject
    ACCOUNT_CANCELLATION = "ACCOUNT_CANCELLATION"  # CAN-4: accepted when a cancellation starts


class AgreementStep(Enum):
    """Where an agreement is accepted."""

    SIGN_UP = "SIGN_UP"  # REG-5, REG-6
    REAL_NAME_VERIFICATION = "REAL_NAME_VERIFICATION"  # RN-6
    STUDENT_STATUS = "STUDENT_STATUS"  # STU-3
    SUBJECT_CHANGE = "SUBJECT_CHANGE"  # CHG-2..5
    ACCOUNT_CANCELLATION = "ACCOUNT_CANCELLATION"  # CAN-4


class AcceptanceContext(Enum):
    """Where an acceptance was recorded (kept with it, REG-5, REG-6, RN-6, STU-3)."""

    REGISTRATION = "registration"  # REG-5
    ACTIVATION = "activation"  # REG-6
    VERIFICATION = "verification"  # RN-6, when the verification is granted
    STUDENT = "student"  # STU-3
    SUBJECT_CHANGE = "subject_change"  # CHG-2..5, when the change completes
    CANCELLATION = "cancellation"  # CAN-4, when a cancellation starts


@dataclass(frozen=True, slots=True)
class Agreement:
    kind: AgreementKind
    version: str
    title: str
    step: AgreementStep = AgreementStep.SIGN_UP


CURRENT: dict[AgreementKind, Agreement] = {
    AgreementKind.USER_SERVICE: Agreement(
        AgreementKind.USER_SERVICE, "2026-06", "用户服务协议 / User service agreement"
    ),
    AgreementKind.ONLINE_ORDERING: Agreement(
        AgreementKind.ONLINE_ORDERING, "2026-06", "线上订购协议 / Online ordering agreement"
    ),
    AgreementKind.PRIVACY_POLICY: Agreement(AgreementKind.PRIVACY_POLICY, "2026-09", "隐私政策 / Privacy policy"),
    AgreementKind.REAL_NAME_VERIFICATION: Agreement(
        AgreementKind.REAL_NAME_VERIFICATION,
        "2026-06",
        "实名认证服务协议 / Real-name verification agreement",
        AgreementStep.REAL_NAME_VERIFICATION,
    ),
    AgreementKind.STUDENT_VERIFICATION: Agreement(
        AgreementKind.STUDENT_VERIFICATION,
        "2026-06",
        "学生认证服务协议 / Student verification agreement",
        AgreementStep.STUDENT_STATUS,
    ),
    # STU-3: only the title changed (it used to read "学生优惠规则 / Student offer rules"); the text and its
    # version did not, so acceptances of 2026-06 still hold.
    AgreementKind.STUDENT_PERSONAL_INFORMATION: Agreement(
        AgreementKind.STUDENT_PERSONAL_INFORMATION,
        "2026-06",
        "学生认证个人信息处理规则 / Student verification personal information processing rules",
        AgreementStep.STUDENT_STATUS,
    ),
    AgreementKind.SUBJECT_CHANGE_APPLICATION: Agreement(
        AgreementKind.SUBJECT_CHANGE_APPLICATION,
        "2026-12",
        "实名认证变更申请协议 / Verified subject change application agreement",
        AgreementStep.SUBJECT_CHANGE,
    ),
    AgreementKind.SUBJECT_CHANGE_ACCEPTANCE: Agreement(
        AgreementKind.SUBJECT_CHANGE_ACCEPTANCE,
        "2026-12",
        "实名认证变更承接协议 / Verified subject change acceptance agreement",
        AgreementStep.SUBJECT_CHANGE,
    ),
    AgreementKind.ACCOUNT_CANCELLATION: Agreement(
        AgreementKind.ACCOUNT_CANCELLATION,
        "2026-12",
        "账号注销协议 / Account cancellation agreement",
        AgreementStep.ACCOUNT_CANCELLATION,
    ),
}

# REG-5 / REG-6: the three agreements accepted at registration and at portal activation.
SIGN_UP_AGREEMENTS = (AgreementKind.USER_SERVICE, AgreementKind.ONLINE_ORDERING, AgreementKind.PRIVACY_POLICY)
# STU-3: the two student agreements accepted when confirming student status.
STUDENT_AGREEMENTS = (AgreementKind.STUDENT_VERIFICATION, AgreementKind.STUDENT_PERSONAL_INFORMATION)


@dataclass(frozen=True, slots=True)
class Acceptance:
    kind: AgreementKind
    version: str
