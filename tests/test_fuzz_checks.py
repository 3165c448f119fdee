"""The GraphQL-over-HTTP check the fuzz run (`scripts/fuzz.py`) applies to every answer."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

CHECKS = Path(__file__).resolve().parent.parent / "scripts" / "fuzz_checks.py"


@pytest.fixture(scope="module")
def checks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_checks_under_test", CHECKS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JSON = "application/json"


@pytest.mark.parametrize(
    ("status", "media_type", "body"),
    [
        (200, JSON, {"data": {"viewer": None}}),
        (200, JSON, {"data": None, "errors": [{"message": "m", "path": ["a", 0], "extensions": {"code": "X"}}]}),
        (400, JSON, {"errors": [{"message": "Syntax Error", "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]}),
        (
            400,
            "application/graphql-response+json",
            {"errors": [{"message": "Syntax Error", "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]},
        ),
    ],
)
def test_well_formed_answers_pass(checks: ModuleType, status: int, media_type: str, body: object) -> None:
    assert checks._problems(status, media_type, json.dumps(body)) == []


@pytest.mark.parametrize(
    ("status", "media_type", "text", "problem"),
    [
        (500, "text/plain", "Internal Server Error", "media type"),
        (500, JSON, '{"errors": [{"message": "boom"}]}', "status 500"),
        (200, JSON, "[]", "not a JSON object"),
        (200, JSON, "{", "not JSON"),
        (200, JSON, '{"result": 1}', "neither `data` nor `errors`"),
        (200, JSON, '{"data": {}, "trace": 1}', "unexpected top-level keys"),
        (200, JSON, '{"errors": []}', "not a non-empty list"),
        (200, JSON, '{"errors": [{"msg": "x"}]}', "without a string `message`"),
        (200, JSON, '{"errors": [{"message": "x"}]}', "without a string `extensions.code`"),
        (200, JSON, '{"errors": [{"message": "x", "extensions": {"code": 7}}]}', "without a string `extensions.code`"),
        (400, JSON, '{"data": null, "errors": [{"message": "x"}]}', "status 400 for a response with `data`"),
        (200, "application/graphql-response+json", '{"errors": [{"message": "x"}]}', "for a request error"),
        (
            200,
            JSON,
            '{"data": null, "errors": [{"message": "Traceback (most recent call last): File \\"/app/x.py\\""}]}',
            "server internals",
        ),
    ],
)
def test_broken_answers_are_reported(checks: ModuleType, status: int, media_type: str, text: str, problem: str) -> None:
    problems = checks._problems(status, media_type, text)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("line", "failure"),
    [
        ('{"level": "info", "logger": "account_center.access", "status": 200}', False),
        ('{"level": "info", "logger": "account_center.access", "status": 500}', True),
        ('{"level": "error", "event": "graphql resolver failed"}', True),
        ('{"level": "info", "exception": "Traceback (most recent call last):"}', True),
        ('INFO:     127.0.0.1:5000 - "POST /graphql HTTP/1.1" 502', True),
        ("ERROR:    Exception in ASGI application", True),
    ],
)
def test_the_fuzz_run_judges_server_log_lines(line: str, failure: bool) -> None:
    spec = importlib.util.spec_from_file_location("fuzz_under_test", CHECKS.with_name("fuzz.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert bool(module.SERVER_FAILURE.search(line)) is failure
