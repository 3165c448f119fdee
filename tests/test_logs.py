"""Logs are one JSON object per line, with the request ID, and never hold an input value: not a variable
(well- or ill-typed), not a query string, not a request body, not an exception message quoting one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import replace
from typing import Any

import httpx
import pytest

import app as app_module
import cli
import logs
from app import _sweep_forever
from services.auth import service as auth_service
from tests.helpers import AGREEMENTS
from tests.logcapture import configured_logs, record_texts

PASSWORD_SECRET = "S3cret-Passw0rd-Zq7"
CODE_SECRET = "C0de-Secret-88Kx"
ID_NUMBER_SECRET = "11010519491231002X"
ID_NUMBER_DIGITS = 11010519491231002
NAME_SECRET = "Secret-Name-Wu"
SECRETS = (PASSWORD_SECRET, CODE_SECRET, ID_NUMBER_SECRET, str(ID_NUMBER_DIGITS), NAME_SECRET)

REGISTER = "mutation Register($i: AccountRegisterInput!) { accountRegister(input: $i) { errors { code } } }"
LOOKUP = "mutation Lookup($i: AccountRecoveryLookupInput!) { accountRecoveryLookup(input: $i) { errors { code } } }"
SIGN_IN = (
    "mutation SignIn($i: SessionCreateByPasswordInput!) { sessionCreateByPassword(input: $i) { errors { code } } }"
)


@pytest.fixture
def captured(settings, caplog):
    caplog.set_level(logging.DEBUG)
    with configured_logs(settings) as c:
        yield c


def assert_no_secret(captured, caplog) -> None:
    for secret in SECRETS:
        assert secret not in captured.text
        assert all(secret not in text for text in record_texts(caplog.records))


def assert_json_lines(captured) -> list[dict[str, Any]]:
    lines = captured.lines()
    assert lines
    for line in lines:
        assert {"timestamp", "level", "logger", "event"} <= line.keys()
        assert line["timestamp"].endswith("Z")
    return lines


async def test_ill_typed_variables_with_a_password_code_and_id_number_are_not_logged(client, captured, caplog) -> None:
    # Given variables of the wrong type, each holding a secret
    register = {"i": {"password": PASSWORD_SECRET, "code": 123, "username": 7, "phone": {"x": CODE_SECRET}}}
    lookup = {
        "i": {"botToken": "sandbox-pass", "by": {"identity": {"name": NAME_SECRET, "idNumber": ID_NUMBER_DIGITS}}}
    }
    # When they are sent
    first = await client.post("/graphql", json={"query": REGISTER, "variables": register})
    second = await client.post("/graphql", json={"query": LOOKUP, "variables": lookup})
    # Then they are refused, logged by code only (at DEBUG), and no secret is in any record or line
    assert first.json()["errors"]
    assert second.json()["errors"]
    lines = assert_json_lines(captured)
    refused = [line for line in lines if line["event"] == "graphql request refused"]
    assert refused
    assert {line["level"] for line in refused} == {"debug"}
    assert {line["code"] for line in refused} == {"BAD_USER_INPUT"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    access = captured.access()
    assert [(a["graphql_operation"], a["graphql_type"], a["graphql_error_codes"]) for a in access] == [
        ("Register", "mutation", ["BAD_USER_INPUT"]),
        ("Lookup", "mutation", ["BAD_USER_INPUT"]),
    ]
    assert_no_secret(captured, caplog)


async def test_well_typed_secret_variables_are_not_logged(client, captured, caplog) -> None:
    # Given well-typed variables holding a password, a code and an ID number
    register = {
        "i": {
            "username": "loguser01",
            "password": PASSWORD_SECRET,
            "phone": "13812345678",
            "code": CODE_SECRET,
            "agreements": AGREEMENTS,
        }
    }
    lookup = {
        "i": {"botToken": "sandbox-pass", "by": {"identity": {"name": NAME_SECRET, "idNumber": ID_NUMBER_SECRET}}}
    }
    sign_in = {"i": {"loginName": "loguser01", "password": PASSWORD_SECRET}}
    # When they are sent
    for query, variables in ((REGISTER, register), (LOOKUP, lookup), (SIGN_IN, sign_in)):
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200
        assert "errors" not in response.json()
    # Then the access lines name the operations and the payload error codes, and hold no secret
    assert_json_lines(captured)
    access = captured.access()
    assert [(a["graphql_operation"], a["graphql_type"], a["status"]) for a in access] == [
        ("Register", "mutation", 200),
        ("Lookup", "mutation", 200),
        ("SignIn", "mutation", 200),
    ]
    assert "user_errors" in access[0]
    assert access[2]["user_errors"] == ["INVALID_CREDENTIALS"]
    assert_no_secret(captured, caplog)


async def test_secrets_in_a_get_query_string_are_not_logged(client, captured, caplog) -> None:
    # Given GET requests carrying secrets in the URL: variables, an inline argument, a sandbox lookup
    node = "query Node($id: ID!) { node(id: $id) { id } }"
    sign_in = 'mutation { sessionCreateByPassword(input: {loginName: "x", password: "%s"}) { errors { code } } }'
    responses = [
        await client.get("/graphql", params={"query": node, "variables": json.dumps({"id": PASSWORD_SECRET})}),
        await client.get("/graphql", params={"query": sign_in % CODE_SECRET}),
        await client.get("/graphql", params={"query": "{ viewer { id } }", "password": PASSWORD_SECRET}),
        await client.get("/sandbox/outbox", params={"to": ID_NUMBER_SECRET}),
    ]
    # Then each is answered, the access lines carry the path without its query string, and no secret
    assert [r.status_code for r in responses] == [200, 400, 200, 200]
    assert_json_lines(captured)
    access = captured.access()
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("GET", "/graphql", 200),
        ("GET", "/graphql", 400),
        ("GET", "/graphql", 200),
        ("GET", "/sandbox/outbox", 200),
    ]
    assert access[0]["graphql_operation"] == "Node"
    assert access[0]["graphql_type"] == "query"
    assert_no_secret(captured, caplog)


async def test_malformed_bodies_with_secrets_are_not_logged(client, captured, caplog) -> None:
    # Given bodies that are not valid GraphQL-over-HTTP requests, each holding a secret
    truncated = (
        f'{{"query": "mutation {{ x }}", "variables": {{"password": "{PASSWORD_SECRET}", "code": "{CODE_SECRET}"'
    )
    bodies = [
        truncated,
        json.dumps({"query": REGISTER, "variables": [PASSWORD_SECRET]}),
        json.dumps([{"query": REGISTER, "variables": {"i": {"password": PASSWORD_SECRET}}}]),
        json.dumps({"query": f'mutation {{ accountRegister(input: {{password: "{ID_NUMBER_SECRET}" '}),
    ]
    statuses = []
    for body in bodies:
        response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
        statuses.append(response.status_code)
    # Then they are refused, logged as access lines only (a parse error by code), with no secret
    assert statuses == [400, 400, 400, 200]
    assert_json_lines(captured)
    access = captured.access()
    assert [a["status"] for a in access] == statuses
    assert access[3]["graphql_error_codes"] == ["GRAPHQL_PARSE_FAILED"]
    assert_no_secret(captured, caplog)


async def test_a_bug_is_logged_at_error_with_its_traceback_but_not_the_message_quoting_input(
    app, client, captured
) -> None:
    # Given a provider that fails with a message quoting the input
    async def broken(*_args: object) -> None:
        raise RuntimeError(f"provider refused {PASSWORD_SECRET}")

    app.state.deps.bot_check.verify = broken
    # When a resolver reaches it
    body = (
        await client.post(
            "/graphql",
            json={
                "query": 'mutation { passwordResetStart(input: {loginName: "alice01", botToken: "x"}) { passwordReset { ticket } } }'
            },
        )
    ).json()
    # Then the error is logged at ERROR with the frames and the exception type, bound to the request
    assert body["errors"]
    lines = assert_json_lines(captured)
    (failure,) = [line for line in lines if line["level"] == "error"]
    assert failure["logger"] == "account_center.graphql"
    assert failure["event"] == "graphql resolver failed"
    assert failure["code"] == "INTERNAL_SERVER_ERROR"
    assert failure["path"] == "passwordResetStart"
    assert "Traceback (most recent call last)" in failure["exception"]
    assert "in broken" in failure["exception"]
    assert "RuntimeError (message withheld" in failure["exception"]
    (access,) = captured.access()
    assert failure["request_id"] == access["request_id"]
    assert access["graphql_error_codes"] == ["INTERNAL_SERVER_ERROR"]
    assert PASSWORD_SECRET not in captured.text


def test_tracebacks_keep_frames_and_causes_but_no_locals_and_messages_only_in_development() -> None:
    def parse(value: str) -> int:
        secret_local = value  # a local the traceback must not print
        return int(secret_local)

    try:
        try:
            parse(PASSWORD_SECRET)
        except ValueError as exc:
            raise LookupError("lookup failed") from exc
    except LookupError as exc:
        withheld = logs.format_exception(exc, with_messages=False)
        shown = logs.format_exception(exc, with_messages=True)
    assert "return int(secret_local)" in withheld
    assert "ValueError (message withheld" in withheld
    assert "direct cause" in withheld
    assert withheld.index("ValueError") < withheld.index("LookupError")
    assert PASSWORD_SECRET not in withheld
    assert "LookupError (message withheld" in withheld
    assert PASSWORD_SECRET in shown  # development shows the messages


async def test_library_loggers_that_print_bound_values_stay_quiet_at_debug(client, captured, caplog) -> None:
    # Given the root at DEBUG
    # When requests touch the database
    await client.post("/graphql", json={"query": SIGN_IN, "variables": {"i": {"loginName": "x", "password": "y"}}})
    # Then SQLAlchemy, aiosqlite and Strawberry's default error logger wrote nothing
    noisy = [r.name for r in caplog.records if r.name.split(".")[0] in {"sqlalchemy", "aiosqlite", "strawberry"}]
    assert noisy == []
    assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("sqlalchemy.engine.Engine").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("strawberry.execution").disabled


def test_development_may_render_for_humans_and_production_defaults_to_json(settings) -> None:
    with configured_logs(settings, level="INFO", log_format="console") as c:
        logs.get_logger("account_center.test").info("hello", answer=42)
    assert "hello" in c.text
    assert "answer=42" in c.text
    assert not c.text.startswith("{")
    assert replace(settings, environment="development").log_renderer == "console"
    assert replace(settings, environment="production").log_renderer == "json"
    assert replace(settings, environment="development", log_format="json").log_renderer == "json"


async def test_the_sweeper_logs_json_lines(settings, db, captured) -> None:
    # Given the sweeper task running (interval 0: no waiting on the clock), stopped at its first line:
    # the cancel lands on its next `sleep`, between two rounds
    task: asyncio.Task[None] | None = None

    class StopAfterFirstRound(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            assert task is not None
            task.cancel()

    stop = StopAfterFirstRound()
    logging.getLogger("account_center.sweeper").addHandler(stop)
    try:
        # When it finishes a round
        task = asyncio.create_task(_sweep_forever(db, app_module.build_deps(settings), 0))
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)
    finally:
        logging.getLogger("account_center.sweeper").removeHandler(stop)
    # Then its line is JSON with the counts
    (line,) = [line for line in captured.lines() if line["logger"] == "account_center.sweeper"]
    assert line["event"] == "sweep finished"
    assert line["level"] == "info"
    assert line["counts"]["sessions_ended"] == 0


def test_serve_replaces_uvicorns_logging_with_ours(monkeypatch, settings) -> None:
    # Given uvicorn.run replaced by a recorder
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: seen.update(kwargs))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    with configured_logs(settings):  # restores the logging set-up afterwards
        # When `account-center serve` starts
        assert cli.main(["serve", "--port", "8123"]) == 0
        root = logging.getLogger()
        ours = [h for h in root.handlers if h.get_name() == "account_center"]
        level = root.level
    # Then uvicorn configures no logging of its own and writes no access line; ours is in place
    assert seen["log_config"] is None
    assert seen["access_log"] is False
    assert seen["log_level"] == "warning"
    assert len(ours) == 1
    assert level == logging.WARNING


async def test_records_carry_only_the_library_message_not_its_extras(captured) -> None:
    # Given a library record with extras (Strawberry attaches its execution context)
    logging.getLogger("some.library").warning("refused %s", "thing", extra={"execution_context": PASSWORD_SECRET})
    # Then the line has the message and none of the extras
    (line,) = [line for line in captured.lines() if line["logger"] == "some.library"]
    assert line["event"] == "refused thing"
    assert PASSWORD_SECRET not in captured.text


@pytest.mark.parametrize("operation_name", [7, ["SignIn"], {"n": 1}, "No Such Op"])
async def test_an_operation_name_that_is_not_a_name_is_a_request_error_not_a_logged_bug(
    client, captured, operation_name
) -> None:
    # Given a request whose operationName is not a string naming an operation of the document
    response = await client.post(
        "/graphql", json={"query": "{ agreements { version } }", "operationName": operation_name}
    )
    # Then the client is told, and nothing is logged above INFO
    assert response.status_code == 400
    lines = assert_json_lines(captured)
    assert [line for line in lines if line["level"] in {"error", "critical"}] == []
    access = [line for line in lines if line.get("status") == 400]
    assert access
    assert access[0]["graphql_operation"] is None


@pytest.mark.parametrize("environment", ["test", "production"])
async def test_a_value_error_raised_by_a_resolver_is_a_logged_bug_and_masked_in_production(
    settings, clock, db, caplog, monkeypatch, environment
) -> None:
    # Given a service that fails with a ValueError quoting a secret (a bug, not a malformed request)
    async def broken(*_args: object) -> None:
        raise ValueError(f"bad state {PASSWORD_SECRET}")

    monkeypatch.setattr(auth_service, "authenticate", broken)
    configured = replace(settings, environment=environment, sandbox=environment != "production", secret_key="k" * 40)
    caplog.set_level(logging.DEBUG)
    with configured_logs(configured) as captured:
        application = app_module.create_app(configured, clock=clock, db=db)
        transport = httpx.ASGITransport(app=application, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            body = (
                await c.post("/graphql", json={"query": "{ viewer { id } }"}, headers={"authorization": "Bearer x"})
            ).json()
    # Then it is logged at ERROR with its traceback, and in production the client sees no message
    (failure,) = [line for line in captured.lines() if line["level"] == "error"]
    assert failure["code"] == "INTERNAL_SERVER_ERROR"
    assert failure["path"] == "viewer"
    assert "ValueError" in failure["exception"]
    assert PASSWORD_SECRET not in captured.text
    if environment == "production":
        assert body["errors"][0]["message"] == "Unexpected error."
