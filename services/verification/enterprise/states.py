"""The states of an enterprise verification application and the moves between them (RNE-2..8, REV-4).

The values are the ones stored in `enterprise_applications.state`. Every change of state goes through
`check_move` (the conditional UPDATE of `applications.move`, and the decision of `applications.verify`);
a move missing from `MOVES` is a bug, never an answer to a request, so it raises `ForbiddenMove`."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    FACE_PENDING = "face_pending"  # the face check's ticket is open (RNE-2, RNE-3, RNE-4)
    PAYOUT_PENDING = "payout_pending"  # the handler passed; the payout is requested or its outcome unknown (RNE-4)
    AMOUNT_PENDING = "amount_pending"  # paid; waiting for the amount, 8 days from its arrival (RNE-4, RNE-5)
    REMITTANCE_PENDING = "remittance_pending"  # waiting for the payment into the remittance account (RNE-8)
    IN_REVIEW = "in_review"  # in the 2-working-day review queue (RNE-3, RNE-7)
    WAITING_USER = "waiting_user"  # a reviewer asked for more material (REV-4)
    DECIDING = "deciding"  # taken by one caller, which verifies the account now
    VERIFIED = "verified"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"


# Where each state may go. A state that may go to itself takes new step values there (a new ticket, the
# remittance amount) without changing state.
MOVES: dict[State, frozenset[State]] = {
    State.FACE_PENDING: frozenset(
        {State.FACE_PENDING, State.PAYOUT_PENDING, State.DECIDING, State.IN_REVIEW, State.FAILED, State.EXPIRED}
    ),
    State.PAYOUT_PENDING: frozenset({State.AMOUNT_PENDING, State.FAILED}),
    State.AMOUNT_PENDING: frozenset({State.DECIDING, State.IN_REVIEW, State.FAILED, State.EXPIRED}),
    State.REMITTANCE_PENDING: frozenset(
        {State.REMITTANCE_PENDING, State.DECIDING, State.REJECTED, State.FAILED, State.EXPIRED}
    ),
    State.IN_REVIEW: frozenset({State.DECIDING, State.REJECTED, State.WAITING_USER}),
    State.WAITING_USER: frozenset({State.IN_REVIEW}),
    State.DECIDING: frozenset({State.VERIFIED, State.FAILED}),
    # RNE-8: a payment that arrives late rejects the application, also when the sweeper expired it first.
    State.EXPIRED: frozenset({State.REJECTED}),
    State.VERIFIED: frozenset(),
    State.FAILED: frozenset(),
    State.REJECTED: frozenset(),
}
# An application in one of these is in progress: the account cannot start another (RNE-2..8) nor a
# personal verification once past its face check (RN-1).
OPEN_STATES = (
    State.FACE_PENDING,
    State.PAYOUT_PENDING,
    State.AMOUNT_PENDING,
    State.IN_REVIEW,
    State.WAITING_USER,
    State.REMITTANCE_PENDING,
    State.DECIDING,
)


class ForbiddenMove(RuntimeError):
    """A move `MOVES` does not allow: a bug in the service, never a user's error."""


def check_move(current: str, to: State) -> State:
    """`to`, when an application in `current` may move there; `ForbiddenMove` otherwise."""
    if to not in MOVES[State(current)]:
        raise ForbiddenMove(f"an enterprise application cannot move from {current} to {to}")
    return to
