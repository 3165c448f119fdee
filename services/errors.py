"""The typed error every service raises for an expected failure.

The GraphQL edge turns it into a payload error (`field`, `message`, `code`); the back office into a
form message. By default the edge rolls the transaction back, so a refused request changes
nothing. `persist=True` marks the few refusals whose side effect the rules require (a wrong code
counts against the code's 5 tries, a wrong password against the throttle): the edge commits those.
"""

from __future__ import annotations

from enum import Enum


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
