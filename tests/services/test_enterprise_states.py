"""The state machine of an enterprise verification application: the table of allowed moves, every move
the code makes is in it, and a move outside it raises before anything is written.

RULES: RNE-2 RNE-3 RNE-4 RNE-5 RNE-7 RNE-8 REV-4
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, cast

import pytest

from services.uow import Uow
from services.verification.enterprise import applications
from services.verification.enterprise.states import MOVES, OPEN_STATES, ForbiddenMove, State, check_move

PACKAGE = Path(applications.__file__).parent
S = State

# The table, written out: a change to MOVES must change this too.
EXPECTED = {
    S.FACE_PENDING: {S.FACE_PENDING, S.PAYOUT_PENDING, S.DECIDING, S.IN_REVIEW, S.FAILED, S.EXPIRED},
    S.PAYOUT_PENDING: {S.AMOUNT_PENDING, S.FAILED},
    S.AMOUNT_PENDING: {S.DECIDING, S.IN_REVIEW, S.FAILED, S.EXPIRED},
    S.REMITTANCE_PENDING: {S.REMITTANCE_PENDING, S.DECIDING, S.REJECTED, S.FAILED, S.EXPIRED},
    S.IN_REVIEW: {S.DECIDING, S.REJECTED, S.WAITING_USER},
    S.WAITING_USER: {S.IN_REVIEW},
    S.DECIDING: {S.VERIFIED, S.FAILED},
    S.EXPIRED: {S.REJECTED},
    S.VERIFIED: set(),
    S.FAILED: set(),
    S.REJECTED: set(),
}


def _state(node: ast.expr) -> State | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "State":
        return State[node.attr]
    return None


def _states(node: ast.expr) -> list[State] | None:
    if isinstance(node, ast.Tuple):
        found = [_state(e) for e in node.elts]
        if found and all(s is not None for s in found):
            return cast(list[State], found)
    return None


def moves_in_the_code() -> set[tuple[State, State]]:
    """Every (from, to) the enterprise modules write with literal states: `move`/`end` calls, the refusals
    and provider failures (which end in FAILED), and `check_move` in `verify` (from DECIDING)."""
    pairs: set[tuple[State, State]] = set()
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            args: list[Any] = list(node.args)
            if name in {"move", "end"} and len(args) >= 4:
                sources, to = _states(args[2]), _state(args[3])
                if sources is not None and to is not None:
                    pairs |= {(s, to) for s in sources}
            elif name == "check_move" and len(args) == 2 and (to := _state(args[1])) is not None:
                pairs.add((State.DECIDING, to))  # `verify` decides an application its caller moved to DECIDING
            # tx.write(refuse, id, reason, (State.X,)) / tx.write(provider_failed, id, (State.X,))
            names = [a.id for a in args if isinstance(a, ast.Name)]
            if {"refuse", "provider_failed"} & set(names):
                for arg in args:
                    if (sources := _states(arg)) is not None:
                        pairs |= {(s, State.FAILED) for s in sources}
            # _check_registry(tx, id, claim, State.X) refuses or fails from that state
            if name == "_check_registry" and args and (source := _state(args[-1])) is not None:
                pairs.add((source, State.FAILED))
    # The moves computed from tables: a step that runs out, and a remittance the registry never answered.
    pairs |= {(source, to) for source, (to, _) in applications.TIMED_STEPS.items()}
    pairs.add((State.REMITTANCE_PENDING, State.FAILED))
    return pairs


def test_rne_the_table_of_allowed_moves() -> None:
    # Given the state machine, then its table is the one written out above, for every state
    assert {s: set(to) for s, to in MOVES.items()} == EXPECTED
    assert set(MOVES) == set(State)
    # and an application in progress is one that can still move on (EXPIRED only to a late rejection, RNE-8).
    assert set(OPEN_STATES) == {s for s, to in MOVES.items() if to and s is not State.EXPIRED}


def test_rne_every_move_the_code_makes_is_in_the_table() -> None:
    # Given every move the enterprise modules make
    pairs = moves_in_the_code()
    assert len(pairs) >= 20  # the scan found the moves (face, payout, amount, remittance, review, sweeper)
    # Then each is allowed, and every allowed move is made somewhere (the table has no dead entries).
    assert sorted(p for p in pairs if p[1] not in MOVES[p[0]]) == []
    assert {(s, to) for s, tos in MOVES.items() for to in tos} == pairs


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (State.VERIFIED, State.IN_REVIEW),
        (State.FAILED, State.DECIDING),
        (State.IN_REVIEW, State.VERIFIED),  # only through DECIDING
        (State.AMOUNT_PENDING, State.PAYOUT_PENDING),
        (State.EXPIRED, State.DECIDING),
    ],
)
async def test_rne_a_disallowed_move_raises_before_anything_is_written(current: State, to: State) -> None:
    # Given a move the table does not allow, when it is checked, then it raises an internal error
    with pytest.raises(ForbiddenMove):
        check_move(current, to)
    # and `move` refuses it before touching the database (it has none here).
    with pytest.raises(ForbiddenMove):
        await applications.move(cast(Uow, None), 1, (current,), to)


def test_rne_stored_values_are_unchanged() -> None:
    # The enum's values are the strings stored in enterprise_applications.state (no migration).
    assert [s.value for s in State] == [
        "face_pending",
        "payout_pending",
        "amount_pending",
        "remittance_pending",
        "in_review",
        "waiting_user",
        "deciding",
        "verified",
        "failed",
        "rejected",
        "expired",
    ]
