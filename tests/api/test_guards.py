"""Request guards: cost (complexity, depth, aliases), tokens, introspection, suggestions, `first`, GET mutations,
body size."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from graphql import DocumentNode, FieldNode, FragmentSpreadNode, InlineFragmentNode, Visitor, parse, visit
from sqlalchemy import func, select

from app import create_app
from models.auth import QrLoginTicket
from schema import guards
from tests.helpers import gql, registered_and_signed_in, sign_in


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { sessions { edges { node { id } } } } }",
        "{ viewer { ...S } } fragment S on Account { sessions { ...E } } fragment E on SessionConnection { edges { node { id } } }",
    ],
)
async def test_query_deeper_than_the_limit_is_refused(settings, clock, db, query) -> None:
    app = create_app(replace(settings, max_query_depth=3), clock=clock, db=db)
    async with _client(app) as c:
        body = await gql(c, query, expect_errors=True)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert body.get("data") is None


@pytest.mark.parametrize(
    "query",
    [
        "{ " + " ".join(f"a{i}: agreements {{ version }}" for i in range(16)) + " }",
        # 8 aliases in a fragment spread twice: counted at each spread
        "{ ...A ... on Query { ...A } } fragment A on Query { " + " ".join(f"a{i}: banks" for i in range(8)) + " }",
    ],
)
async def test_too_many_aliases_are_refused(client, query) -> None:
    body = await gql(client, query, expect_errors=True)
    assert body["errors"][0]["message"] == "16 aliases found. Allowed: 15"
    assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"


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
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


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


# --- The cost guard (schema/guards.py): a short document must not stall the server ---------------------


def _chain(levels: int, per_level: str = "") -> str:
    """~10 tokens a level: F1 selects agreements, each next fragment spreads the previous one twice."""
    fragments = ["fragment F1 on Query { agreements { version } }"]
    fragments += [
        f"fragment F{i} on Query {{ {per_level.format(i=i)} ...F{i - 1} ...F{i - 1} }}" for i in range(2, levels + 1)
    ]
    return " ".join(fragments) + f" query {{ ...F{levels} }}"


class _CountSelections(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter(self, node: object, *_: object) -> None:
        self.count += isinstance(node, FieldNode | FragmentSpreadNode | InlineFragmentNode)


def _selections(query: str) -> int:
    """Selection nodes written in the document (fields, spreads, inline fragments), not spread."""
    counter = _CountSelections()
    visit(parse(query), counter)
    return counter.count


@pytest.fixture
def standard_rules(monkeypatch) -> list[DocumentNode]:
    """The documents graphql-core's validation rules (and Strawberry's) were run on, from now on."""
    validated: list[DocumentNode] = []
    real = guards.validate_document

    def spy(schema, document, rules):
        validated.append(document)
        return real(schema, document, rules)

    monkeypatch.setattr(guards, "validate_document", spy)
    guards.validate.cache_clear()  # a cached answer would skip the spy
    return validated


@pytest.mark.parametrize("levels", [20, 22, 30])
@pytest.mark.parametrize("per_level", ["", "banks", "a{i}: agreements {{ kind }}"], ids=["bare", "field", "alias"])
async def test_fragment_chain_is_refused_before_graphql_core_validates_it(
    client, standard_rules, levels, per_level
) -> None:
    # Given a short anonymous document (~10 tokens a level) that expands to 2^levels selections
    query = _chain(levels, per_level)
    # When it is sent
    body = await gql(client, query, expect_errors=True)
    # Then it is refused as too complex, nothing runs, and graphql-core's rules never saw it
    assert body.get("data") is None
    error = body["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert error["message"].startswith("The query is too complex: once fragments are spread it costs ")
    assert error["message"].endswith("The limit is 1000.")
    assert standard_rules == []


@pytest.mark.parametrize("levels", [10, 20, 30])
def test_the_guard_looks_at_each_selection_of_a_fragment_chain_once(levels) -> None:
    # Given a chain of fragments that expands to 2^levels selections
    query = _chain(levels, "a{i}: agreements {{ kind }}")
    # When the guard measures it
    cost = guards.measure(parse(query), max_complexity=1000)
    # Then it knows the full expansion, having looked at each written selection exactly once
    assert cost.selections == 3 * 2**levels - 3  # S(1) = 2, S(i) = 4 + 2 S(i - 1), plus the operation's spread
    assert cost.aliases == 2 ** (levels - 1) - 1
    assert cost.complexity is None  # past the cap: the walk of the expanded selections never started
    assert cost.visited == _selections(query) == 4 * levels - 1


def test_the_walk_of_the_expanded_selections_stops_at_the_cap() -> None:
    # Given a document of 20 inline fragments at one place, each selecting the same field
    query = "{ " + "... on Query { banks } " * 20 + "}"
    # When the guard measures it with a cap of 100
    cost = guards.measure(parse(query), max_complexity=100)
    # Then the 20 `banks` cost 1 + 2 + ... + 20 = 210 and the walk of the expanded selections stopped at
    # the cap: besides the 40 written selections it looked at fewer than 100
    assert cost.selections == 40
    assert cost.complexity is None
    assert cost.visited < 40 + 100


async def test_fields_repeated_at_the_same_place_cost_more_each_time(client, standard_rules) -> None:
    # Given a field repeated 40 times at one place (10 + 1 + 40 * 41 / 2 = 831) and 44 times (1001)
    fine = "{ agreements { " + "version " * 40 + "} }"
    too_many = "{ agreements { " + "version " * 44 + "} }"
    # When both are sent
    data = await gql(client, fine)
    body = await gql(client, too_many, expect_errors=True)
    # Then the first is answered and the second refused before graphql-core compares its 946 pairs
    assert data["agreements"][0]["version"]
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "repeats fields at the same place" in body["errors"][0]["message"]
    assert standard_rules == [parse(fine)]


@pytest.mark.parametrize(
    "query",
    [
        " ".join(f"query Q{i} {{ banks }}" for i in range(91)),  # 91 * (10 + 1) = 1001
        "query Q0 { banks } " + " ".join(f"fragment U{i} on Query {{ banks }}" for i in range(90)),  # the same
    ],
    ids=["operations", "fragments"],
)
async def test_every_operation_and_fragment_of_a_document_counts(client, query) -> None:
    # Given a document of 91 one-field definitions: graphql-core's rules do work for each
    # When the document is sent
    response = await client.post("/graphql", json={"query": query, "operationName": "Q0"})
    # Then it is refused as too complex
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_deep_narrow_query_with_fragments_passes_the_guard(client, standard_rules) -> None:
    # Given a signed-in account and a query four fragments deep, each spread once
    token = await registered_and_signed_in(client)
    query = (
        "{ viewer { ...A } } fragment A on Account { id sessions(first: 5) { ...C } } "
        "fragment C on SessionConnection { totalCount edges { ...E } } "
        "fragment E on SessionEdge { cursor node { ...S } } fragment S on Session { id current method }"
    )
    # When it is sent
    data = await gql(client, query, token=token)
    # Then it is answered, after graphql-core's validation
    assert data["viewer"]["sessions"]["totalCount"] == 1
    assert data["viewer"]["sessions"]["edges"][0]["node"]["current"] is True
    assert standard_rules[-1] == parse(query)


async def test_refusals_are_shown_in_production(settings, clock, db) -> None:
    # Given the production app (which masks unexpected errors)
    production = replace(settings, environment="production", sandbox=False, secret_key="k" * 32)
    app = create_app(production, clock=clock, db=db)
    # When a fragment chain is sent
    async with _client(app) as c:
        body = await gql(c, _chain(22), expect_errors=True)
    # Then the refusal says what is wrong, with its code
    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert "too complex" in body["errors"][0]["message"]


async def test_the_complexity_cap_is_a_setting(settings, clock, db) -> None:
    # Given an app whose cap is 20
    app = create_app(replace(settings, max_query_complexity=20), clock=clock, db=db)
    # When a query costing 10 + 12 is sent
    async with _client(app) as c:
        body = await gql(
            c,
            "{ agreements { kind version title step } organisationTypes { type number name "
            "certificateName isEnterprise bankTransferOffered } }",
            expect_errors=True,
        )
    # Then it is refused
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_fragment_name_defined_twice_is_refused_before_graphql_core_validates_it(
    client, standard_rules
) -> None:
    # Given a document whose first definition of F holds 1,900 fields and whose second is tiny
    query = "{ __typename } fragment F on Query { " + "banks " * 1900 + "} fragment F on Query { __typename }"
    # When it is sent
    body = await gql(client, query, expect_errors=True)
    # Then the guard refuses it (it measures fragments by name) and graphql-core's rules never see it
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "defined only once" in body["errors"][0]["message"]
    assert standard_rules == []
