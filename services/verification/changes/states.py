"""The kinds of subject change, their states, and the moves between them (CHG-2..7).

The values are the ones stored in `subject_changes.kind` and `.state`. Every change of state goes through
`check_move`; a move missing from `MOVES` is a bug, never an answer to a request (`ForbiddenMove`)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Kind(StrEnum):
    NAME = "name"  # CHG-2: the same enterprise (same USCC) under a new name
    ENTERPRISE = "enterprise"  # CHG-3: another enterprise (another USCC)
    PERSON_TO_ENTERPRISE = "person_to_enterprise"  # CHG-4
    PERSON_TO_PERSON = "person_to_person"  # CHG-5


# CHG-1: which verified subject each kind starts from; an enterprise never becomes a person.
FROM_SUBJECT: dict[Kind, str] = {
    Kind.NAME: "enterprise",
    Kind.ENTERPRISE: "enterprise",
    Kind.PERSON_TO_ENTERPRISE: "person",
    Kind.PERSON_TO_PERSON: "person",
}
TO_SUBJECT: dict[Kind, str] = {
    Kind.NAME: "enterprise",
    Kind.ENTERPRISE: "enterprise",
    Kind.PERSON_TO_ENTERPRISE: "enterprise",
    Kind.PERSON_TO_PERSON: "person",
}


class State(StrEnum):
    DETAILS_PENDING = "details_pending"  # CHG-2: the new name and licence; CHG-3: both subjects and the reason
    CONTACT_FACE_PENDING = "contact_face_pending"  # CHG-3: the original subject's contact passes a face check
    FORM_PENDING = "form_pending"  # CHG-3: the generated form comes back stamped by both subjects
    MATERIAL_PENDING = "material_pending"  # CHG-2: the automatic check failed; supplementary material needed
    IN_REVIEW = "in_review"  # CHG-2, CHG-3: the 2-working-day queue
    WAITING_USER = "waiting_user"  # a reviewer asked for more material (REV-4)
    IDENTITY_PENDING = "identity_pending"  # CHG-4, CHG-5: the current person proves it is them
    ACCEPTANCE_PENDING = "acceptance_pending"  # CHG-3..5: the acceptance agreement
    NEW_SUBJECT_PENDING = "new_subject_pending"  # CHG-3..5: the new subject verifies (RNE-1, RNP)
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by the user (CHG-7) or, CHG-5, by itself after 1 day
    LAPSED = "lapsed"  # CHG-3: the new subject did not verify within 9 days of the approval


OPEN_STATES = (
    State.DETAILS_PENDING,
    State.CONTACT_FACE_PENDING,
    State.FORM_PENDING,
    State.MATERIAL_PENDING,
    State.IN_REVIEW,
    State.WAITING_USER,
    State.IDENTITY_PENDING,
    State.ACCEPTANCE_PENDING,
    State.NEW_SUBJECT_PENDING,
)
ENDED_STATES = (State.COMPLETED, State.REJECTED, State.WITHDRAWN, State.LAPSED)
# CHG-7: the user may withdraw at any open step. The moves to an end every open state shares:
_ENDS = frozenset({State.WITHDRAWN, State.LAPSED, State.COMPLETED, State.REJECTED})

MOVES: dict[State, frozenset[State]] = {
    State.DETAILS_PENDING: frozenset({State.DETAILS_PENDING, State.CONTACT_FACE_PENDING, State.MATERIAL_PENDING})
    | _ENDS,
    State.CONTACT_FACE_PENDING: frozenset({State.CONTACT_FACE_PENDING, State.FORM_PENDING}) | _ENDS,
    State.FORM_PENDING: frozenset({State.FORM_PENDING, State.IN_REVIEW}) | _ENDS,
    # CHG-2: a corrected name and licence may be checked again, completing at once when the check passes.
    State.MATERIAL_PENDING: frozenset({State.MATERIAL_PENDING, State.DETAILS_PENDING, State.IN_REVIEW}) | _ENDS,
    State.IN_REVIEW: frozenset({State.WAITING_USER, State.ACCEPTANCE_PENDING}) | _ENDS,
    State.WAITING_USER: frozenset({State.IN_REVIEW}) | _ENDS,
    State.IDENTITY_PENDING: frozenset({State.IDENTITY_PENDING, State.ACCEPTANCE_PENDING}) | _ENDS,
    State.ACCEPTANCE_PENDING: frozenset({State.NEW_SUBJECT_PENDING}) | _ENDS,
    State.NEW_SUBJECT_PENDING: frozenset({State.NEW_SUBJECT_PENDING}) | _ENDS,
    State.COMPLETED: frozenset(),
    State.REJECTED: frozenset(),
    State.WITHDRAWN: frozenset(),
    State.LAPSED: frozenset(),
}

# The first step of each kind, after the start (which records the application agreement).
FIRST_STATE: dict[Kind, State] = {
    Kind.NAME: State.DETAILS_PENDING,
    Kind.ENTERPRISE: State.DETAILS_PENDING,
    Kind.PERSON_TO_ENTERPRISE: State.IDENTITY_PENDING,
    Kind.PERSON_TO_PERSON: State.IDENTITY_PENDING,
}

CHANGE_INTERVAL = timedelta(days=30)  # CHG-6
ACCEPT_WITHIN = timedelta(days=9)  # CHG-3: after the approval
NEW_PERSON_SUBMIT_WITHIN = timedelta(days=1)  # CHG-5: after the start
ATTEMPTS_PER_METHOD = 5  # CHG-4 (legal_rep_face, bank_transfer), CHG-5 (the identity bank card)


class ForbiddenMove(RuntimeError):
    """A move `MOVES` does not allow: a bug in the service, never a user's error."""


def check_move(current: str, to: State) -> State:
    if to not in MOVES[State(current)]:
        raise ForbiddenMove(f"a subject change cannot move from {current} to {to}")
    return to


# CHG-4, CHG-5: the methods counted inside one change, with their limits. The keys are the attempt methods:
# the new subject's (`legal_rep_face`, `bank_transfer`) and the current person's identity proof
# (`identity_bank_card`).
LIMITED_METHODS: dict[Kind, dict[str, int]] = {
    Kind.PERSON_TO_ENTERPRISE: {"legal_rep_face": ATTEMPTS_PER_METHOD, "bank_transfer": ATTEMPTS_PER_METHOD},
    Kind.PERSON_TO_PERSON: {"identity_bank_card": ATTEMPTS_PER_METHOD},
}

# What a step that runs out does, per kind: from which states, to which end, with which reason (CHG-3: the new
# subject did not verify within 9 days of the approval; CHG-5: the new person did not submit within 1 day).
TIMEOUTS: dict[Kind, tuple[tuple[State, ...], State, str]] = {
    Kind.ENTERPRISE: ((State.ACCEPTANCE_PENDING, State.NEW_SUBJECT_PENDING), State.LAPSED, "NEW_SUBJECT_NOT_VERIFIED"),
    Kind.PERSON_TO_PERSON: (
        (State.IDENTITY_PENDING, State.ACCEPTANCE_PENDING, State.NEW_SUBJECT_PENDING),
        State.WITHDRAWN,
        "NEW_PERSON_NOT_SUBMITTED",
    ),
}


# The steps of each kind in order, as the API lists them (CHG-7). WAITING_USER stands at IN_REVIEW's place.
STEPS: dict[Kind, tuple[State, ...]] = {
    Kind.NAME: (State.DETAILS_PENDING, State.MATERIAL_PENDING, State.IN_REVIEW),
    Kind.ENTERPRISE: (
        State.DETAILS_PENDING,
        State.CONTACT_FACE_PENDING,
        State.FORM_PENDING,
        State.IN_REVIEW,
        State.ACCEPTANCE_PENDING,
        State.NEW_SUBJECT_PENDING,
    ),
    Kind.PERSON_TO_ENTERPRISE: (State.IDENTITY_PENDING, State.ACCEPTANCE_PENDING, State.NEW_SUBJECT_PENDING),
    Kind.PERSON_TO_PERSON: (State.IDENTITY_PENDING, State.ACCEPTANCE_PENDING, State.NEW_SUBJECT_PENDING),
}
