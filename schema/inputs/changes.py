"""Inputs of the subject-change mutations (CHG-1..7)."""

from __future__ import annotations

import strawberry

from schema.types.changes import SubjectChangeKind

CHANGE_ID = "The change, as `SubjectChange.id`."


@strawberry.input(description="A change agreement the user accepted, in the version shown (from `agreements`).")
class SubjectChangeAgreementInput:
    version: str = strawberry.field(
        description="The version shown to the user: the current one from `agreements` (an older one is "
        "AGREEMENT_VERSION_OUTDATED)."
    )


@strawberry.input(description="Start a change of the account's verified subject (CHG-1..6); a protected operation.")
class SubjectChangeStartInput:
    kind: SubjectChangeKind = strawberry.field(
        description="What to change. An enterprise-verified account cannot change to a person (CHG-1)."
    )
    application_agreement: SubjectChangeAgreementInput = strawberry.field(
        description="The SUBJECT_CHANGE_APPLICATION agreement, accepted with the start."
    )
    step_up_token: str | None = strawberry.field(
        default=None, description="From `operationChallengeVerify`, when operation protection is on (MFA-2, MFA-3)."
    )


@strawberry.input(description="Withdraw an open subject change (CHG-7).")
class SubjectChangeWithdrawInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)


@strawberry.input(description="Accept the acceptance agreement of a subject change (CHG-3..5).")
class SubjectChangeAcceptInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)
    acceptance_agreement: SubjectChangeAgreementInput = strawberry.field(
        description="The SUBJECT_CHANGE_ACCEPTANCE agreement."
    )
