"""Payloads of the CHG-3 steps (a change to another enterprise)."""

from __future__ import annotations

import strawberry

from schema.errors import UserError
from schema.types.account import AccountType
from schema.types.changes import SubjectChangeType
from schema.types.payloads import ERRORS, VERIFICATION_ACCOUNT, PersonalFaceCheckStart


@strawberry.type(description="Result of `subjectChangeContactFaceStart`.")
class SubjectChangeContactFaceStartPayload:
    subject_change: SubjectChangeType | None = strawberry.field(
        default=None, description="The change, still at CONTACT_FACE_PENDING; null exactly when `errors` is not empty."
    )
    face_check_start: PersonalFaceCheckStart | None = strawberry.field(
        default=None,
        description="The started face check of the original subject's contact (the attempt, method CONTACT_FACE, and "
        "its URL); when it passes the change moves to FORM_PENDING with its form. Null exactly when `errors` is not "
        "empty.",
    )
    account: AccountType | None = strawberry.field(default=None, description=VERIFICATION_ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)
