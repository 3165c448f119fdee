"""Subject changes as their owner sees them (CHG-1..7)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, Self

import strawberry
from strawberry import relay

from models.changes import SubjectChange as SubjectChangeModel
from models.review import ReviewItem
from schema.context import Context
from schema.enums import RejectReason
from schema.types.common import PageInfo, resolve_owned_nodes
from services.verification.changes import enterprise as change_forms
from services.verification.changes import service as changes
from services.verification.changes.states import ENDED_STATES, STEPS, Kind, State
from services.viewer import Viewer

Info = strawberry.Info[Context, None]


def form_path(change_id: int) -> str:
    """CHG-3: where the change application form is downloaded (resolvers/change_form.py)."""
    return f"/subject-changes/{relay.to_base64('SubjectChange', change_id)}/form"


@strawberry.enum(description="What a subject change changes (CHG-1: an enterprise never changes to a person).")
class SubjectChangeKind(Enum):
    NAME = strawberry.enum_value(
        "name",
        description="CHG-2: the same enterprise (same USCC) under a new name: the new licence and name; completes at "
        "once when the automatic check passes, else supplementary material goes to the 2-working-day review.",
    )
    ENTERPRISE = strawberry.enum_value(
        "enterprise",
        description="CHG-3: another enterprise: details, the original contact's face check, the change form stamped "
        "by both subjects, 2-working-day review, then within 9 days the acceptance agreement and the new "
        "enterprise's verification.",
    )
    PERSON_TO_ENTERPRISE = strawberry.enum_value(
        "person_to_enterprise",
        description="CHG-4: the person proves it is them (face or bank card), accepts, and the enterprise verifies "
        "by legal-representative face or corporate bank transfer (5 attempts per method inside the change).",
    )
    PERSON_TO_PERSON = strawberry.enum_value(
        "person_to_person",
        description="CHG-5: within 1 day of the start, the person proves it is them (bank card: 5 attempts inside "
        "the change), accepts, and the new person submits their verification (face or bank card).",
    )


@strawberry.enum(description="Where a subject change stands; the open states name the step that is next.")
class SubjectChangeState(Enum):
    DETAILS_PENDING = strawberry.enum_value(
        "details_pending", description="CHG-2: send the new name and licence; CHG-3: both subjects and the reason."
    )
    CONTACT_FACE_PENDING = strawberry.enum_value(
        "contact_face_pending", description="CHG-3: the original subject's contact passes a face check."
    )
    FORM_PENDING = strawberry.enum_value(
        "form_pending", description="CHG-3: download the change form and upload it stamped by both subjects."
    )
    MATERIAL_PENDING = strawberry.enum_value(
        "material_pending",
        description="CHG-2: the automatic check failed: add a registry change certificate or a change application "
        "form, or correct the name and licence.",
    )
    IN_REVIEW = strawberry.enum_value("in_review", description="In the 2-working-day review queue (see `reviewDueAt`).")
    WAITING_USER = strawberry.enum_value(
        "waiting_user", description="The reviewer asked for more material (see `moreMaterialMessage`)."
    )
    IDENTITY_PENDING = strawberry.enum_value(
        "identity_pending", description="CHG-4, CHG-5: the current person proves it is them (face or bank card)."
    )
    ACCEPTANCE_PENDING = strawberry.enum_value(
        "acceptance_pending", description="Accept the SUBJECT_CHANGE_ACCEPTANCE agreement (`subjectChangeAccept`)."
    )
    NEW_SUBJECT_PENDING = strawberry.enum_value(
        "new_subject_pending",
        description="The new subject verifies: pass this change's ID as `changeId` to a verification start of the "
        "new subject's type.",
    )
    COMPLETED = strawberry.enum_value(
        "completed", description="The new subject is the account's verified subject (see `completedAt`)."
    )
    REJECTED = strawberry.enum_value("rejected", description="Rejected in review: see `rejectReason`, `rejectText`.")
    WITHDRAWN = strawberry.enum_value(
        "withdrawn", description="Withdrawn by the user (CHG-7), or by itself when a deadline passed (`endReason`)."
    )
    LAPSED = strawberry.enum_value(
        "lapsed", description="CHG-3: the new subject did not verify within 9 days of the approval."
    )


@strawberry.enum(description="How a step of a subject change stands.")
class SubjectChangeStepStatus(Enum):
    DONE = strawberry.enum_value("DONE", description="Passed.")
    CURRENT = strawberry.enum_value("CURRENT", description="The step the change waits on.")
    PENDING = strawberry.enum_value("PENDING", description="Comes later.")
    SKIPPED = strawberry.enum_value("SKIPPED", description="Not needed (CHG-2: the automatic check passed).")
    NOT_REACHED = strawberry.enum_value("NOT_REACHED", description="The change ended before it.")


@strawberry.type(description="One step of a subject change.")
class SubjectChangeStep:
    step: SubjectChangeState = strawberry.field(description="The step, named by the state that waits on it.")
    status: SubjectChangeStepStatus = strawberry.field(description="How it stands.")


@strawberry.type(description="A verified subject as a subject change shows it (masked as the API shows it).")
class SubjectChangeSubject:
    subject_type: str = strawberry.field(description="`person` or `enterprise`.")
    name: str | None = strawberry.field(description="The person's or the organisation's name, once known.")
    document_masked: str | None = strawberry.field(
        description="The identity document number masked, or the USCC; null while not yet known."
    )
    organisation_type: str | None = strawberry.field(description="The ORG-1 type of an organisation; null otherwise.")


@strawberry.type(description="Attempts of one method inside a subject change (CHG-4, CHG-5).")
class SubjectChangeMethodAttempts:
    method: str = strawberry.field(
        description="`legal_rep_face`, `bank_transfer` (CHG-4), or `identity_bank_card` (CHG-5: the current "
        "person's bank-card check)."
    )
    limit: int = strawberry.field(description="Attempts allowed inside one change.")
    used: int = strawberry.field(description="Attempts counted so far.")
    remaining: int = strawberry.field(description="Attempts left.")


def _steps(change: SubjectChangeModel, now: datetime) -> list[SubjectChangeStep]:
    order = STEPS[Kind(change.kind)]
    shown = State(changes.shown_state(change, now))
    if shown == State.COMPLETED:
        skipped = {State.MATERIAL_PENDING, State.IN_REVIEW} if change.review_item_id is None else set()
        return [
            SubjectChangeStep(
                step=SubjectChangeState(s.value),
                status=SubjectChangeStepStatus.SKIPPED if s in skipped else SubjectChangeStepStatus.DONE,
            )
            for s in order
        ]
    ended = shown in ENDED_STATES
    # An ended change stands where it ended (a run-out step not yet swept still holds its open state).
    raw = State(change.ended_step or change.state) if ended and change.state in ENDED_STATES else State(change.state)
    at: State = State.IN_REVIEW if raw == State.WAITING_USER else raw
    index = order.index(at) if at in order else len(order)
    out = []
    for i, s in enumerate(order):
        if i < index:
            status = SubjectChangeStepStatus.DONE
        elif i == index:
            status = SubjectChangeStepStatus.NOT_REACHED if ended else SubjectChangeStepStatus.CURRENT
        else:
            status = SubjectChangeStepStatus.NOT_REACHED if ended else SubjectChangeStepStatus.PENDING
        out.append(SubjectChangeStep(step=SubjectChangeState(s.value), status=status))
    return out


@strawberry.type(
    name="SubjectChange",
    description="A change of the account's verified subject (CHG-1..7), with its steps, deadline, attempts left and "
    "outcome. Until it completes the account's verification is the original subject.",
)
class SubjectChangeType(relay.Node):
    id: relay.NodeID[int]
    kind: SubjectChangeKind = strawberry.field(description="What it changes.")
    state: SubjectChangeState = strawberry.field(
        description="Where it stands; a step whose deadline passed reads as it ends, before the sweeper runs."
    )
    steps: list[SubjectChangeStep] = strawberry.field(description="The kind's steps in order, with their status.")
    from_subject: SubjectChangeSubject = strawberry.field(description="The subject it changes from.")
    to_subject: SubjectChangeSubject | None = strawberry.field(
        description="The subject it changes to, once known (the new name, the new enterprise named, or the subject "
        "the new verification proved); null before."
    )
    deadline: datetime | None = strawberry.field(
        description="When the current step runs out, if it has a deadline: CHG-5 the new person's verification "
        "within 1 day of the start; CHG-3 the acceptance and the new enterprise's verification within 9 days of the "
        "approval. Null otherwise and once ended."
    )
    attempts: list[SubjectChangeMethodAttempts] = strawberry.field(
        description="The methods limited inside this change, with the attempts left (CHG-4, CHG-5); empty for the "
        "other kinds."
    )
    review_due_at: datetime | None = strawberry.field(
        description="When the review is due (2 working days, Asia/Shanghai), while in review; null otherwise."
    )
    more_material_message: str | None = strawberry.field(description="What the reviewer asked for, when waiting.")
    reject_reason: RejectReason | None = strawberry.field(description="The reviewer's reason (REV-4), when rejected.")
    reject_text: str | None = strawberry.field(description="The reviewer's words, when rejected.")
    end_reason: str | None = strawberry.field(
        description="Why it ended otherwise than completed: WITHDRAWN_BY_USER, NEW_PERSON_NOT_SUBMITTED (CHG-5, 1 "
        "day), NEW_SUBJECT_NOT_VERIFIED (CHG-3, 9 days), REJECTED_IN_REVIEW; null while open or completed."
    )
    started_at: datetime = strawberry.field(description="When it started (the application agreement accepted).")
    completed_at: datetime | None = strawberry.field(description="When the new subject became the account's.")
    ended_at: datetime | None = strawberry.field(description="When it ended, whatever the outcome.")
    next_change_available_at: datetime | None = strawberry.field(
        description="CHG-6: for a completed change, when the account may complete the next one (30 days later)."
    )
    form_download_url: str | None = strawberry.field(
        description="CHG-3: the change application form to print, have stamped by both subjects and upload "
        "(`subjectChangeStampedFormSubmit`): a path on this API's origin, read with the session's "
        "`Authorization: Bearer` header (a printable HTML page). Null before FORM_PENDING and for other kinds."
    )

    @classmethod
    def from_model(
        cls, change: SubjectChangeModel, item: ReviewItem | None, counted: dict[tuple[int, str], int], now: datetime
    ) -> Self:
        state = State(changes.shown_state(change, now))
        ended = state in ENDED_STATES
        to = None
        if change.to_subject_type or change.to_name:
            to = SubjectChangeSubject(
                subject_type=change.to_subject_type or "enterprise",
                name=change.to_name,
                document_masked=change.to_uscc,
                organisation_type=change.to_organisation_type,
            )
        return cls(
            id=change.id,
            kind=SubjectChangeKind(change.kind),
            state=SubjectChangeState(state.value),
            steps=_steps(change, now),
            from_subject=SubjectChangeSubject(
                subject_type=change.from_subject_type,
                name=change.from_name,
                document_masked=change.from_document_masked,
                organisation_type=change.from_organisation_type,
            ),
            to_subject=to,
            deadline=None if ended else change.expires_at,
            attempts=[
                SubjectChangeMethodAttempts(method=a.method, limit=a.limit, used=a.used, remaining=a.remaining)
                for a in changes.attempts(change, counted)
            ],
            review_due_at=item.due_at if item is not None and state == State.IN_REVIEW else None,
            more_material_message=change.more_message if state == State.WAITING_USER else None,
            reject_reason=RejectReason(change.review_reason)
            if change.review_reason and state == State.REJECTED
            else None,
            reject_text=change.reject_text if state == State.REJECTED else None,
            end_reason=changes.shown_reason(change, now) if ended and state != State.COMPLETED else None,
            started_at=change.created_at,
            completed_at=change.completed_at,
            ended_at=change.ended_at,
            next_change_available_at=changes.next_change_at(change),
            form_download_url=form_path(change.id) if change_forms.form_available(change) else None,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        rows, counted = await context.read(changes.of_account, viewer.account.id, ids)
        now = context.deps.clock.now()
        return [cls.from_model(c, i, counted, now) for c, i in rows]


@strawberry.type(description="An edge of `SubjectChangeConnection`.")
class SubjectChangeEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this change.")
    node: SubjectChangeType = strawberry.field(description="The change.")


@strawberry.type(description="The viewer's subject changes, newest first (CHG-7).")
class SubjectChangeConnection:
    edges: list[SubjectChangeEdge] = strawberry.field(description="This page of changes.")
    page_info: PageInfo = strawberry.field(description="Whether more changes follow.")
    total_count: int = strawberry.field(description="All of the viewer's changes, not only this page.")
