"""Payloads of the person-side subject-change steps (CHG-4, CHG-5)."""

from __future__ import annotations

import strawberry

from schema.errors import UserError
from schema.types.account import AccountType
from schema.types.changes import SubjectChangeType
from schema.types.payloads import ERRORS, VERIFICATION_ACCOUNT, PersonalFaceCheckStart


@strawberry.type(description="Result of `subjectChangeIdentityFaceStart`.")
class SubjectChangeIdentityFaceStartPayload:
    subject_change: SubjectChangeType | None = strawberry.field(
        default=None, description="The change, still at IDENTITY_PENDING; null exactly when `errors` is not empty."
    )
    face_check_start: PersonalFaceCheckStart | None = strawberry.field(
        default=None,
        description="The started face check (the attempt, method IDENTITY_FACE, and its URL); when it passes the "
        "change moves to ACCEPTANCE_PENDING. Null exactly when `errors` is not empty.",
    )
    account: AccountType | None = strawberry.field(default=None, description=VERIFICATION_ACCOUNT)
    errors: list[UserError] = strawberry.field(description=ERRORS)
