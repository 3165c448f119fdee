"""GraphQL over HTTP: every top-level error's `extensions.code`, masking in production, the operation to
run, and the two response media types with their status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

import app as app_module
from schema import guards
from services.auth import service as auth_service

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
SECRET = "sekrit-Detail-42"
ENVIRONMENTS = ["development", "production"]
ACCEPTS = [None, "application/json", GRAPHQL_RESPONSE_JSON]


@pytest.fixture(params=ENVIRONMENTS)
async def api(request, settings, clock, db) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    environment = request.param
    configured = replace(
        settings,
        environment=environment,
        sandbox=environment != "production",
        secret_key="k" * 40,
        max_query_depth=3,
    )
    application = app_module.create_app(configured, clock=clock, db=db)
    transport = httpx.ASGITransport(app=application, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield environment, client


async def _post(client: httpx.AsyncClient, accept: str | None, body: dict[str, Any], **headers: str) -> httpx.Response:
    if accept is not None:
        headers["accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


def _media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


# Requests that fail before anything is executed: GraphQL request errors.
REQUEST_ERRORS = [
    ("syntax", {"query": "{ agreements { version "}, "GRAPHQL_PARSE_FAILED"),
    ("unknown field", {"query": "{ agreements { nope } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("unknown argument", {"query": "{ banks(x: 1) }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("undefined variable", {"query": "{ node(id: $id) { id } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("cost guard: depth", {"query": "{ viewer { sessions { edges { node { id } } } } }"}, guards.QUERY_TOO_DEEP),
    (
        "variable of the wrong type",
        {"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": {"x": SECRET}}},
        "BAD_USER_INPUT",
    ),
    ("missing variable", {"query": "query($id: ID!) { node(id: $id) { id } }"}, "BAD_USER_INPUT"),
]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(("case", "body", "code"), REQUEST_ERRORS, ids=[c for c, _, _ in REQUEST_ERRORS])
async def test_a_request_error_has_its_code_its_message_and_no_data(api, accept, case, body, code) -> None:
    _environment, client = api
    # When a request fails before execution
    response = await _post(client, accept, body)
    # Then it has no `data` entry, one code, and keeps its message in every environment
    answer = response.json()
    assert "data" not in answer
    assert _codes(response) == [code]
    assert all(e["message"] and e["message"] != "Unexpected error." for e in answer["errors"])
    # and with application/graphql-response+json it is a 400, with application/json (the default) a 200
    if accept == GRAPHQL_RESPONSE_JSON:
        assert (response.status_code, _media_type(response)) == (400, GRAPHQL_RESPONSE_JSON)
    else:
        assert (response.status_code, _media_type(response)) == (200, "application/json")


@pytest.mark.parametrize("accept", ACCEPTS)
async def test_introspection_outside_development_is_a_validation_failure(api, accept) -> None:
    environment, client = api
    response = await _post(client, accept, {"query": "{ __schema { queryType { name } } }"})
    if environment == "development":
        assert response.status_code == 200
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    else:
        assert set(_codes(response)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "data" not in response.json()
        assert response.status_code == (400 if accept == GRAPHQL_RESPONSE_JSON else 200)


@pytest.mark.parametrize("accept", ACCEPTS)
async def test_a_malformed_id_is_a_field_error_with_data(api, accept) -> None:
    _environment, client = api
    # When a field's argument is refused while executing
    response = await _post(client, accept, {"query": '{ banks node(id: "not-an-id") { id } }'})
    # Then the rest of the response stands: a 200 with `data`, the error at its path with BAD_USER_INPUT
    answer = response.json()
    assert response.status_code == 200
    assert answer["data"]["node"] is None
    assert answer["data"]["banks"]
    (error,) = answer["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["node"], "BAD_USER_INPUT")
    assert error["message"] == "`id` is not a global ID of this API."
    assert _media_type(response) == (GRAPHQL_RESPONSE_JSON if accept == GRAPHQL_RESPONSE_JSON else "application/json")


OPERATIONS = "query Agreements { agreements { version } } query Banks { banks }"


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(
    "body",
    [
        {"query": OPERATIONS},
        {"query": OPERATIONS, "operationName": "Nope"},
        {"query": "query Banks { banks }", "operationName": "Nope"},
        {"query": "fragment F on Query { banks }"},
    ],
    ids=["several operations, no name", "several operations, unknown name", "unknown name", "no operation"],
)
async def test_no_operation_to_run_is_a_400_with_its_code(api, accept, body) -> None:
    _environment, client = api
    # When the request does not say which of the document's operations to run, or names none of them
    response = await _post(client, accept, body)
    # Then nothing runs (Strawberry would run the first), and it is a 400 with either media type
    assert response.status_code == 400
    answer = response.json()
    assert "data" not in answer
    assert _codes(response) == ["OPERATION_RESOLUTION_FAILURE"]
    assert "Nope" not in response.text


async def test_several_operations_run_the_one_named(api) -> None:
    _environment, client = api
    response = await _post(client, GRAPHQL_RESPONSE_JSON, {"query": OPERATIONS, "operationName": "Banks"})
    assert response.status_code == 200
    assert list(response.json()["data"]) == ["banks"]


@pytest.mark.parametrize("accept", ACCEPTS)
async def test_a_bug_in_a_resolver_is_internal_and_masked_in_production(api, accept, monkeypatch) -> None:
    environment, client = api

    async def broken(*_args: object) -> None:
        raise RuntimeError(f"bug quoting {SECRET}")

    monkeypatch.setattr(auth_service, "authenticate", broken)
    # When a resolver fails unexpectedly
    response = await _post(client, accept, {"query": "{ banks viewer { id } }"}, authorization="Bearer acs_x")
    # Then it is a field error: a 200 with the rest of the data, code INTERNAL_SERVER_ERROR
    answer = response.json()
    assert response.status_code == 200
    assert answer["data"] == {"banks": answer["data"]["banks"], "viewer": None}
    (error,) = answer["errors"]
    assert (error["path"], error["extensions"]) == (["viewer"], {"code": "INTERNAL_SERVER_ERROR"})
    # and only in production is its message withheld
    if environment == "production":
        assert error["message"] == "Unexpected error."
        assert SECRET not in response.text
    else:
        assert SECRET in error["message"]


@pytest.mark.parametrize("accept", ACCEPTS)
async def test_a_bug_before_execution_is_internal_masked_in_production_and_a_500_for_the_new_media_type(
    api, accept, monkeypatch
) -> None:
    environment, client = api

    def broken(*_args: object) -> None:
        raise RuntimeError(f"bug quoting {SECRET}")

    monkeypatch.setattr(guards, "validate", broken)
    # When the server fails while validating (outside any resolver)
    response = await _post(client, accept, {"query": "{ banks }"})
    # Then nothing ran: no data, code INTERNAL_SERVER_ERROR, masked in production
    answer = response.json()
    assert "data" not in answer
    assert _codes(response) == ["INTERNAL_SERVER_ERROR"]
    assert (SECRET in response.text) is (environment != "production")
    # and it is a 500 with application/graphql-response+json, a 200 with application/json
    assert response.status_code == (500 if accept == GRAPHQL_RESPONSE_JSON else 200)


@pytest.mark.parametrize(
    ("accept", "modern"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/*", False),
        (GRAPHQL_RESPONSE_JSON, True),
        ("Application/GraphQL-Response+JSON", True),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", True),  # what the spec advises clients to send
        (f"application/json, {GRAPHQL_RESPONSE_JSON}", True),
        (f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.5", False),
        (f"{GRAPHQL_RESPONSE_JSON};q=0", False),
        (f"{GRAPHQL_RESPONSE_JSON};q=zero", False),
        (f"text/html, {GRAPHQL_RESPONSE_JSON} ; charset=utf-8 ; q=0.8", True),
    ],
)
def test_the_media_type_follows_accept(accept, modern) -> None:
    assert app_module.wants_graphql_response_json(accept) is modern


async def test_a_successful_response_is_a_200_with_either_media_type(client) -> None:
    for accept, media_type in [(None, "application/json"), (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON)]:
        response = await _post(client, accept, {"query": "{ banks }"})
        assert (response.status_code, _media_type(response)) == (200, media_type)
        assert list(response.json()) == ["data"]
    get = await client.get("/graphql", params={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE_JSON})
    assert (get.status_code, _media_type(get), _codes(get)) == (
        400,
        GRAPHQL_RESPONSE_JSON,
        ["GRAPHQL_VALIDATION_FAILED"],
    )
