"""Logging: one JSON object per line (a console rendering in development), and never an input value.

`configure_logging(settings)` is called once by the process's entry point (`account-center serve`,
`account-center sweep`). Our code logs through structlog (`get_logger`), whose events are handed to the
standard library; one `ProcessorFormatter` then renders our events and the libraries' records
(uvicorn, Strawberry, SQLAlchemy, ...) alike:

    {"timestamp": "2026-03-05T08:00:00.123456Z", "level": "info", "logger": "account_center.access",
     "event": "request", "request_id": "…", "method": "POST", "path": "/graphql", "status": 200, ...}

What keeps secrets out:
- our events carry names, codes, counts and paths, never a variable, a query string or a body;
- a library record keeps only its message: the `extra` a library attaches (Strawberry attaches its
  whole execution context, variables included) is dropped;
- a traceback keeps its frames and exception types but no local variables, and, outside development,
  no exception messages (`int("…")`, a `KeyError`, a coercion error all quote the offending value);
- the libraries that would print bound values at INFO/DEBUG (SQLAlchemy's engine log, aiosqlite's
  per-statement debug lines, httpx) are held at WARNING whatever LOG_LEVEL says.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextvars import ContextVar, Token
from typing import Any

import structlog
from structlog.types import EventDict, Processor

from settings import Settings

ACCESS_LOGGER = "account_center.access"

# Library loggers that would log bound values (SQL parameters, request URLs) below WARNING.
_QUIET = {
    "sqlalchemy": logging.WARNING,
    # Alembic announces each of its plugins at INFO when loaded (/readyz reads the migration head): noise.
    "alembic.runtime.plugins": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "PIL": logging.INFO,
    "python_multipart": logging.INFO,
    "multipart": logging.INFO,
}
# Strawberry's default error logger prints each error with the document's variables; Schema.process_errors
# replaces it, and it stays off in case a code path still reaches it.
_SILENCED = ("strawberry.execution",)
# Uvicorn's access log prints the query string; the RequestContext middleware writes the access line.
_REPLACED = ("uvicorn.access",)
_HANDLER_NAME = "account_center"
# Every logger configure_logging sets (levels, handlers, switches), besides the root.
CONFIGURED_LOGGERS = (*_QUIET, *_SILENCED, *_REPLACED, "uvicorn", "uvicorn.error", ACCESS_LOGGER)

# The fields of the current request's access line, filled in by the layers that know them (the GraphQL
# extension adds the operation); None outside a request.
_request_fields: ContextVar[dict[str, Any] | None] = ContextVar("account_center_request_fields", default=None)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger whose events go through the standard library (and so through our formatter)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def annotate_request(**fields: Any) -> None:
    """Add fields to the current request's access line (ignored outside a request)."""
    current = _request_fields.get()
    if current is not None:
        current.update(fields)


def append_request_field(key: str, value: Any) -> None:
    """Append to a list field of the current request's access line (ignored outside a request)."""
    current = _request_fields.get()
    if current is not None:
        current.setdefault(key, []).append(value)


def start_request_fields() -> tuple[dict[str, Any], Token[dict[str, Any] | None]]:
    """Open the current request's access-line fields (the RequestContext middleware does)."""
    fields: dict[str, Any] = {}
    return fields, _request_fields.set(fields)


def end_request_fields(token: Token[dict[str, Any] | None]) -> None:
    _request_fields.reset(token)


# --- rendering ------------------------------------------------------------------------------------


def _frames(exc: BaseException) -> Iterator[str]:
    yield from traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), capture_locals=False).format()


def format_exception(exc: BaseException, *, with_messages: bool) -> str:
    """A traceback (frames, source lines, exception types, the cause chain) without locals; the
    exception messages only when asked (development)."""
    chain: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link: str | None = None  # how the exception before this one in `chain` follows from it
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception, another exception occurred:"
        else:
            current = None
    lines: list[str] = []
    for item, leads_on in reversed(chain):  # the oldest first, as Python prints it
        lines.append("Traceback (most recent call last):\n")
        lines.extend(_frames(item))
        name = f"{type(item).__module__}.{type(item).__qualname__}".removeprefix("builtins.")
        if with_messages:
            lines.extend(traceback.format_exception_only(type(item), item))
        else:
            lines.append(f"{name} (message withheld: it may quote input)\n")
        if leads_on:
            lines.append(f"\n{leads_on}\n\n")
    return "".join(lines).rstrip("\n")


class _Exceptions:
    """Turn `exc_info` into an `exception` string rendered by `format_exception`."""

    def __init__(self, with_messages: bool) -> None:
        self.with_messages = with_messages

    def __call__(self, _logger: Any, _name: str, event: EventDict) -> EventDict:
        exc_info = event.pop("exc_info", None)
        event.pop("stack_info", None)
        exc: BaseException | None = None
        if isinstance(exc_info, BaseException):
            exc = exc_info
        elif isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
            exc = exc_info[1]
        elif exc_info is True:
            exc = sys.exc_info()[1]
        if exc is not None:
            event["exception"] = format_exception(exc, with_messages=self.with_messages)
        return event


def _drop_meta(_logger: Any, _name: str, event: EventDict) -> EventDict:
    for key in ("_record", "_from_structlog", "positional_args"):
        event.pop(key, None)
    return event


_FIRST = ("timestamp", "level", "logger", "event", "request_id")


def _ordered(_logger: Any, _name: str, event: EventDict) -> EventDict:
    head = {k: event.pop(k) for k in _FIRST if k in event}
    head.update(event)
    return head


def build_formatter(*, json: bool, with_messages: bool) -> logging.Formatter:
    """The formatter for every handler: JSON lines, or structlog's console rendering."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()  # ASCII: no character a reader could take for a line end
        if json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _Exceptions(with_messages),
            _drop_meta,
            _ordered,
            renderer,
        ],
    )


structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    context_class=dict,
    cache_logger_on_first_use=True,
)


def configure_logging(settings: Settings, *, access_log: bool = True, stream: Any = None) -> logging.Handler:
    """Route every logger to one handler on stderr (or `stream`) with our formatter; set the levels.

    Idempotent: a second call replaces the handler the first installed, and leaves other handlers
    (a test's log capture) alone.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(build_formatter(json=settings.log_renderer == "json", with_messages=settings.is_development))
    # The lines carry none of the caller's file and line, thread or process: skip collecting them
    # (the standard library's documented optimisations).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(max(level, logging.getLevelName(settings.log_level)))
    for name in _SILENCED:
        logging.getLogger(name).disabled = True
    for name in _REPLACED:
        replaced = logging.getLogger(name)
        replaced.handlers = []
        replaced.propagate = False
    # Uvicorn installs its own handlers when given a log config; ours is the only one.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access_log else logging.WARNING)
    return handler


def bound_request_id(request_id: str) -> Mapping[str, Any]:
    return structlog.contextvars.bind_contextvars(request_id=request_id)


def unbind(tokens: Mapping[str, Any]) -> None:
    structlog.contextvars.reset_contextvars(**tokens)
