"""What the logs learn from a GraphQL operation: its name and type, and its errors as codes.

Never a variable, an argument, the document or an error message: graphql-core's messages quote the
offending input ("Variable '$i' got invalid value {'password': …}").
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

import logs

log = logs.get_logger("account_center.graphql")

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


def error_code(error: GraphQLError, execution_context: ExecutionContext | None) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and _CODE.fullmatch(code):
        return code
    if is_unexpected(error):
        return "INTERNAL_SERVER_ERROR"
    if execution_context is not None and execution_context.graphql_document is None:
        return "GRAPHQL_PARSE_FAILED"
    if execution_context is not None and execution_context.result is None:
        # Strawberry hands validation errors over before any result exists.
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Log each error by its code and path: a bug at ERROR with its traceback (no locals, and no
    message outside development), a refused request at DEBUG; count them on the access line."""
    codes: list[str] = []
    for error in errors:
        code = error_code(error, execution_context)
        codes.append(code)
        path = ".".join(str(p) for p in error.path or []) or None
        if code == "INTERNAL_SERVER_ERROR":
            log.error("graphql resolver failed", code=code, path=path, exc_info=root_cause(error))
        else:
            log.debug("graphql request refused", code=code, path=path)
    logs.annotate_request(graphql_errors=len(codes), graphql_error_codes=sorted(set(codes)))


def note_user_error(code: str) -> None:
    """A payload error (an expected refusal: a wrong code, a limit) goes on the access line by code."""
    logs.append_request_field("user_errors", code)


class OperationLog(SchemaExtension):
    """Puts the operation's name and type on the request's access line."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            self._annotate(self.execution_context)

    @staticmethod
    def _annotate(ec: ExecutionContext) -> None:
        name = ec.operation_name
        fields: dict[str, object] = {
            "graphql_operation": name if isinstance(name, str) and _NAME.fullmatch(name) else None
        }
        if ec.graphql_document is not None:
            with contextlib.suppress(RuntimeError):  # no operation of that name in the document
                fields["graphql_type"] = ec.operation_type.value
        logs.annotate_request(**fields)
