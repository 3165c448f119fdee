"""What the logs and the client learn of a GraphQL operation: its name and type, and its errors as codes.

Never a variable, an argument, the document or an error message: graphql-core's messages quote the
offending input ("Variable '$i' got invalid value {'password': …}").
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

import logs
from services import metrics

log = logs.get_logger("account_center.graphql")

# The `extensions.code` of a top-level error (the cost guard adds QUERY_TOO_COMPLEX, QUERY_TOO_DEEP and
# TOO_MANY_ALIASES, all validation failures).
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
MASKED_MESSAGE = "Unexpected error."

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def root_cause(error: GraphQLError) -> BaseException | None:
    cause = error.original_error
    while isinstance(cause, GraphQLError) and cause.original_error is not None:
        cause = cause.original_error
    return cause


def is_unexpected(error: GraphQLError) -> bool:
    """A bug (an exception a resolver or extension did not mean to raise), not a malformed request. The
    one test for both masking (production) and logging at ERROR, so a bug is never hidden from both.

    Parsing, validation and variable coercion fail with GraphQLErrors, or with a ValueError from a
    scalar that cannot be parsed: those have no path. An exception raised while a field resolved (it
    has a path) is a bug unless it is a GraphQLError the resolver raised on purpose (BAD_USER_INPUT)."""
    cause = root_cause(error)
    if cause is None or isinstance(cause, GraphQLError):
        return False
    return error.path is not None or not isinstance(cause, ValueError)


def error_code(error: GraphQLError) -> str:
    """The `extensions.code` of an error: its own (a validation rule, the cost guard, a resolver's
    BAD_USER_INPUT), else INTERNAL_SERVER_ERROR for a bug, GRAPHQL_PARSE_FAILED for a document that does
    not parse, and BAD_USER_INPUT for the rest (variables that do not coerce to their types)."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and _CODE.fullmatch(code):
        return code
    if is_unexpected(error):
        return INTERNAL_SERVER_ERROR
    if isinstance(error, GraphQLSyntaxError) or isinstance(root_cause(error), GraphQLSyntaxError):
        return GRAPHQL_PARSE_FAILED
    return BAD_USER_INPUT


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """`error` with `extensions.code` set (a copy, unless it has that code already)."""
    if (error.extensions or {}).get("code") == code:
        return error
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        {**(error.extensions or {}), "code": code},
    )


def public_error(error: GraphQLError, *, mask: bool) -> GraphQLError:
    """The error as a client sees it: always with its `extensions.code`; with `mask` (production) a bug
    keeps only its place (path, locations) and the code INTERNAL_SERVER_ERROR, not its message. A
    client's mistake keeps its message in every environment."""
    code = error_code(error)
    if mask and code == INTERNAL_SERVER_ERROR:
        return GraphQLError(
            MASKED_MESSAGE, error.nodes, error.source, error.positions, error.path, extensions={"code": code}
        )
    return with_code(error, code)


def log_errors(errors: list[GraphQLError]) -> None:
    """Log each error by its code and path: a bug at ERROR with its traceback (no locals, and no
    message outside development), a refused request at DEBUG; count them on the access line."""
    codes: list[str] = []
    for error in errors:
        code = error_code(error)
        codes.append(code)
        path = ".".join(str(p) for p in error.path or []) or None
        if code == INTERNAL_SERVER_ERROR:
            log.error("graphql resolver failed", code=code, path=path, exc_info=root_cause(error))
        else:
            log.debug("graphql request refused", code=code, path=path)
    logs.annotate_request(graphql_errors=len(codes), graphql_error_codes=sorted(set(codes)))


# The payload errors of the operation running in this task, for its metrics (OperationLog).
_user_errors: ContextVar[list[str] | None] = ContextVar("graphql_user_errors", default=None)


def note_user_error(code: str) -> None:
    """A payload error (an expected refusal: a wrong code, a limit) goes on the access line by code, and
    makes the operation's outcome `user_error` in the metrics."""
    logs.append_request_field("user_errors", code)
    seen = _user_errors.get()
    if seen is not None:
        seen.append(code)


class OperationLog(SchemaExtension):
    """Puts the operation's name and type on the request's access line, and counts the operation by name
    and outcome with its duration (services/metrics.py, issue 16 item 3)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        token = _user_errors.set([])
        try:
            yield
        finally:
            user_errors = _user_errors.get() or []
            _user_errors.reset(token)
            name = self._annotate(self.execution_context)
            self._observe(self.execution_context, name, user_errors, time.perf_counter() - started)

    @staticmethod
    def _observe(ec: ExecutionContext, name: str | None, user_errors: list[str], seconds: float) -> None:
        errors = ec.result.errors if ec.result is not None else ec.pre_execution_errors
        if errors:
            outcome, code = "error", error_code(errors[0])
        elif user_errors:
            outcome, code = "user_error", user_errors[0]
        else:
            outcome, code = "ok", None
        metrics.observe_operation(name, outcome, code, seconds)

    @staticmethod
    def _annotate(ec: ExecutionContext) -> str | None:
        name = ec.operation_name
        valid = name if isinstance(name, str) and _NAME.fullmatch(name) else None
        fields: dict[str, object] = {"graphql_operation": valid}
        if ec.graphql_document is not None:
            with contextlib.suppress(RuntimeError):  # no operation of that name in the document
                fields["graphql_type"] = ec.operation_type.value
        logs.annotate_request(**fields)
        return valid
