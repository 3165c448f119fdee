"""The typed error every service raises for an expected failure.

The GraphQL edge turns it into a payload error (`UserError`: `code`, `message`, `path`); the back
office into a form message. By default the edge rolls the transaction back, so a refused request
changes nothing. `persist=True` marks the few refusals whose side effect the rules require (a wrong
code counts against the code's 5 tries, a wrong password against the throttle): the edge commits
those.

`field` names what the error is about as a dotted path relative to the operation's input
(`"organisation.name"`, `"agreements.1"`); the GraphQL edge turns it into the input path
`["input", "organisation", "name"]`. None means the input as a whole.

Checks that need no state (formats, lengths, required values) collect every problem of an input
with `Problems` and report them together as one `InputErrors`, so a form can mark all its fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ServiceError(Exception):
    def __init__(
        self,
        code: Enum,
        message: str,
        field: str | None = None,
        *,
        persist: bool = False,
        retry_after: int | None = None,
        attempts_remaining: int | None = None,
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.persist = persist
        self.retry_after = retry_after
        self.attempts_remaining = attempts_remaining

    @property
    def errors(self) -> list[ServiceError]:
        """Every problem this refusal reports: itself, or the several an `InputErrors` holds."""
        return [self]


class InputErrors(ServiceError):
    """Several problems with one input, found by checks that need no state, reported together.

    It is a `ServiceError` (the first problem's code and message) so every caller that handles one
    refusal handles this too; the edges report `errors`, all of them. Nothing was counted or changed."""

    def __init__(self, errors: Sequence[ServiceError]) -> None:
        if len(errors) < 2:
            raise ValueError("InputErrors holds two problems or more; raise the one problem itself")
        first = errors[0]
        super().__init__(first.code, first.message, first.field)
        self._errors = [e for err in errors for e in err.errors]

    @property
    def errors(self) -> list[ServiceError]:
        return list(self._errors)


class Problems:
    """Collects what stateless input checks find, to report every problem at once.

    problems = Problems()
    problems.check(username_problem(cmd.username))
    problems.check(password_problem(cmd.password))
    if (refusal := problems.refusal()) is not None:
        return refusal
    """

    def __init__(self) -> None:
        self._errors: list[ServiceError] = []

    def check(self, error: ServiceError | None) -> None:
        """Note a problem found by a check that returns its refusal (or None when the value is fine)."""
        if error is not None:
            self._errors.extend(error.errors)

    def add(self, code: Enum, message: str, field: str | None = None) -> None:
        self._errors.append(ServiceError(code, message, field))

    def __bool__(self) -> bool:
        return bool(self._errors)

    def refusal(self) -> ServiceError | None:
        """None when nothing was found, the one problem, or an `InputErrors` with all of them."""
        if not self._errors:
            return None
        if len(self._errors) == 1:
            return self._errors[0]
        return InputErrors(self._errors)


def checked(problems: Problems, check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """Run a stateless check that raises its refusal: note what it finds in `problems` and answer None
    instead, so the caller goes on and reports every problem of the input at once."""
    try:
        return check(*args, **kwargs)
    except ServiceError as err:
        problems.check(err)
        return None
