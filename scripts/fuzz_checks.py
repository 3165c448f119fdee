"""schemathesis checks for `scripts/fuzz.py`: the GraphQL-over-HTTP rules every answer must keep.

Loaded by schemathesis through SCHEMATHESIS_HOOKS. A violation raises AssertionError with a reason.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

MEDIA_TYPES = {"application/json", "application/graphql-response+json"}
TOP_LEVEL_KEYS = {"data", "errors", "extensions"}
LEAKS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.", "asyncpg.", "sqlite3.")


def _problems(status: int, media_type: str, text: str) -> list[str]:
    problems: list[str] = []
    if media_type not in MEDIA_TYPES:
        return [f"media type {media_type!r} is not application/json or application/graphql-response+json"]
    try:
        body: Any = json.loads(text)
    except ValueError:
        return ["the body is not JSON"]
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    if not body.keys() <= TOP_LEVEL_KEYS:
        problems.append(f"unexpected top-level keys {sorted(body.keys() - TOP_LEVEL_KEYS)}")
    if "data" not in body and "errors" not in body:
        problems.append("neither `data` nor `errors`")
    errors = body.get("errors")
    if errors is not None:
        if not isinstance(errors, list) or not errors:
            problems.append("`errors` is present but not a non-empty list")
        else:
            for error in errors:
                if not isinstance(error, dict) or not isinstance(error.get("message"), str):
                    problems.append("an error without a string `message`")
                    continue
                extensions = error.get("extensions")
                code = extensions.get("code") if isinstance(extensions, dict) else None
                if not isinstance(code, str) or not code:
                    problems.append("an error without a string `extensions.code`")
                path = error.get("path")
                if path is not None and not all(isinstance(p, str | int) for p in path):
                    problems.append("an error `path` with entries that are neither names nor indexes")
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        problems.append("`data` is neither null nor an object")
    # GraphQL over HTTP: a response that carries `data` (execution started) is a 200; with the
    # application/graphql-response+json media type, a request error (no `data`) is a 4xx.
    if "data" in body and status != 200:
        problems.append(f"status {status} for a response with `data`")
    if media_type == "application/graphql-response+json" and "data" not in body and not 400 <= status < 500:
        problems.append(f"status {status} for a request error")
    if status >= 500:
        problems.append(f"status {status}")
    problems.extend(f"the body shows server internals ({leak!r})" for leak in LEAKS if leak in text)
    return problems


@schemathesis.check
def graphql_over_http(ctx: Any, response: Any, case: Any) -> None:
    """Every answer of /graphql is a well-formed GraphQL-over-HTTP response, free of server internals."""
    media_type = response.headers.get("content-type", [""])
    if isinstance(media_type, list):
        media_type = media_type[0] if media_type else ""
    problems = _problems(response.status_code, media_type.split(";")[0].strip().lower(), response.text)
    if problems:
        raise AssertionError("GraphQL-over-HTTP: " + "; ".join(problems))
