"""Capture what the configured logging writes (the JSON lines) and put the logging set-up back afterwards."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import logs
from settings import Settings

_TOUCHED = ("", *logs.CONFIGURED_LOGGERS)


@dataclass
class Captured:
    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every line written, each parsed as one JSON object (a line that is not fails the test)."""
        return [json.loads(line) for line in self.text.splitlines()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == logs.ACCESS_LOGGER]


@contextmanager
def configured_logs(settings: Settings, *, level: str = "DEBUG", log_format: str = "json") -> Iterator[Captured]:
    saved = {
        name: (lg.level, lg.disabled, lg.propagate, list(lg.handlers))
        for name in _TOUCHED
        for lg in [logging.getLogger(name)]
    }
    switches = (logging._srcfile, logging.logThreads, logging.logProcesses, logging.logMultiprocessing)
    captured = Captured()
    logs.configure_logging(replace(settings, log_level=level, log_format=log_format), stream=captured.stream)
    try:
        yield captured
    finally:
        logging._srcfile, logging.logThreads, logging.logProcesses, logging.logMultiprocessing = switches
        for name, (level_, disabled, propagate, handlers) in saved.items():
            lg = logging.getLogger(name)
            lg.setLevel(level_)
            lg.disabled = disabled
            lg.propagate = propagate
            lg.handlers = handlers


def record_texts(records: list[logging.LogRecord]) -> list[str]:
    """Everything a log record holds as text: message, arguments, traceback, and any extra attribute."""
    plain = logging.Formatter()
    texts = []
    for r in records:
        texts.append(r.getMessage())
        texts.append(repr(r.args))
        if r.exc_info:
            texts.append(plain.formatException(r.exc_info))
        texts.append(repr({k: v for k, v in vars(r).items() if k not in {"msg", "args", "exc_info"}}))
    return texts
