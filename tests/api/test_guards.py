"""Request guards: depth, aliases, tokens, introspection, suggestions, `first`, GET mutations, body size."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select

from app import create_app
from models.auth import QrLoginTicket
from tests.helpers import gql, registered_and_signed_in, sign_in


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_query_deeper_than_the_limit_is_refused(settings, clock, db) -> None:
    app = create_app(replace(settings, max_query_depth=3), clock=clock, db=db)
    async with _client(app) as c:
        body = await gql(c, "{ viewer { sessions { edges { node { id } } } } }", expect_errors=True)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert body.get("data") is None


async def test_too_many_aliases_are_refused(client) -> None:
    query = "{ " + " ".join(f"a{i}: agreements {{ version }}" for i in range(16)) + " }"
    body = await gql(client, query, expect_errors=True)
    assert "aliases" in body["errors"][0]["message"]


async def test_too_many_tokens_are_refused(client) -> None:
    query = "{ agreements { " + " ".join(["version"] * 2100) + " } }"
    body = await gql(client, query, expect_errors=True)
    assert "more than 2000 tokens" in body["errors"][0]["message"]


async def test_introspection_is_off_outside_development(client, settings, clock, db) -> None:
    body = await gql(client, "{ __schema { types { name } } }", expect_errors=True)
    assert "introspection" in body["errors"][0]["message"].lower()
    dev = create_app(replace(settings, environment="development"), clock=clock, db=db)
    async with _client(dev) as c:
        data = await gql(c, "{ __schema { queryType { name } } }")
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_no_field_suggestions_outside_development(client) -> None:
    body = await gql(client, "{ viewr { id } }", expect_errors=True)
    message = body["errors"][0]["message"]
    assert "Cannot query field 'viewr'" in message
    assert "Did you mean" not in message


async def test_first_is_capped_at_100(client) -> None:
    token = await registered_and_signed_in(client)
    body = await gql(client, "{ viewer { sessions(first: 101) { totalCount } } }", token=token, expect_errors=True)
    assert body["errors"][0]["message"] == "`first` must be between 0 and 100."


async def test_mutations_over_get_are_refused(client, db) -> None:
    response = await client.get(
        "/graphql", params={"query": "mutation { qrLoginTicketCreate { ticket { code } errors { code } } }"}
    )
    assert response.status_code == 400
    assert "mutations are not allowed" in response.text.lower()
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(QrLoginTicket)) == 0


async def test_request_body_over_the_cap_is_refused(client) -> None:
    big = "{ agreements { version } }" + " " * (65 * 1024)
    response = await client.post("/graphql", json={"query": big})
    assert response.status_code == 413


async def test_request_body_over_the_cap_is_refused_when_streamed_without_length(client) -> None:
    async def chunks():
        for _ in range(70):
            yield b" " * 1024

    response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_unknown_bearer_token_gives_a_null_viewer(client) -> None:
    data = await gql(client, "{ viewer { id } }", token="acs_not-a-token")
    assert data["viewer"] is None


@pytest.mark.parametrize("count", [2, 30])
async def test_viewer_sql_statements_do_not_grow_with_sessions(client, sql, count) -> None:
    # Given an account with `count` live sessions
    token = await registered_and_signed_in(client)
    for _ in range(count - 1):
        await sign_in(client, "alice01")
    # When the viewer reads its sessions and agreements
    sql.reset()
    data = await gql(
        client,
        "{ viewer { id accountId sessions(first: 50) { totalCount edges { node { id current expiresAt } } }"
        " agreementAcceptances { kind version } } }",
        token=token,
    )
    # Then every session is there and the statement count is the fixed one
    assert data["viewer"]["sessions"]["totalCount"] == count
    assert len(data["viewer"]["sessions"]["edges"]) == count
    assert sql.count == 4  # auth, sessions page, sessions count, acceptances


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",
        b"[" * 60000,
        b'{"query": "{ agreements { version } }", "variables": {"v": ' + b"[" * 30000 + b"}}",
    ],
    ids=["not-utf", "deeply-nested", "deeply-nested-variables"],
)
async def test_a_body_that_is_not_decodable_json_is_a_400_not_a_500(client, body: bytes) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "Unable to parse request body as JSON" in response.text


async def test_get_without_a_query_is_a_request_error_outside_development(client) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 400
    assert "No GraphQL query found" in response.text
