"""Hostile GraphQL documents under the 2,000-token limit: what each costs the server, old guard vs new.

    python -m bench.hostile_queries [--skip-old]

For each document (all anonymous, all at most 2,000 tokens):
- `old ms`: CPU of the validation the server ran before the cost guard: Strawberry's QueryDepthLimiter
  and MaxAliasesLimiter rules with graphql-core's (and Strawberry's) rules, on the event loop. Not run
  for the documents marked `*`: fragment chains past 20 levels (the time doubles with every level:
  hours at 30) and fragment cycles (the depth limiter follows every path through them).
- `guard ms`: CPU of the cost guard alone (schema/guards.py).
- `request ms`: CPU of the whole request through the app in this process (parse, guard, validation,
  execution, JSON; httpx's client side included), median of 5. Goal: under 50 ms for every document.
- `answer`: the error code (or the start of the message) or `data`.

Then the bystander: a hostile chain and `{ agreements { version } }` sent at the same moment; the
bystander's wall time shows whether the hostile document held the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_introspection_query,
    get_named_type,
    is_composite_type,
    is_required_argument,
    parse,
    specified_rules,
    validate,
)
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import MaxAliasesLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from app import create_app
from cli import migrate
from schema import guards
from schema.schema import TYPES, Mutation, Query, build_schema
from settings import Settings

MAX_TOKENS = 2000
GOAL_MS = 50.0
OLD_RUN_UP_TO_LEVEL = 20


def tokens(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def widest(make: Callable[[int], str], limit: int = 3000) -> str:
    """`make(n)` for the largest n that stays within the token limit."""
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tokens(make(mid)) <= MAX_TOKENS:
            lo = mid
        else:
            hi = mid - 1
    return make(lo)


def chain(levels: int, body: str = "") -> str:
    """F1 selects agreements; each next fragment spreads the previous one twice (2^levels selections)."""
    parts = ["fragment F1 on Query { agreements { version } }"]
    parts += [f"fragment F{i} on Query {{ {body.format(i=i)} ...F{i - 1} ...F{i - 1} }}" for i in range(2, levels + 1)]
    return " ".join(parts) + f" query {{ ...F{levels} }}"


def selection(schema: GraphQLSchema, named: GraphQLNamedType, seen: frozenset[str]) -> str:
    """Every field of `named` that needs no argument, and of each type under it not already on the path."""
    if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return ""
    parts = []
    for name, field in named.fields.items():
        if any(is_required_argument(a) for a in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if not is_composite_type(inner):
            parts.append(name)
            continue
        if inner.name in seen:
            continue
        under = selection(schema, inner, seen | {inner.name})
        if isinstance(inner, GraphQLInterfaceType):
            for kind in schema.get_possible_types(inner):
                if extra := selection(schema, kind, seen | {inner.name, kind.name}):
                    under = under[:-1] + f"... on {kind.name} {extra} }}"
        if under:
            parts.append(f"{name} {under}")
    return "{ " + " ".join(parts) + " }" if parts else ""


def top_fields(schema: GraphQLSchema) -> dict[str, str]:
    """Each root query field with the selection `selection` gives it."""
    query = schema.query_type
    assert query is not None
    out = {}
    for name, field in query.fields.items():
        if not any(is_required_argument(a) for a in field.args.values()):
            inner = get_named_type(field.type)
            out[name] = selection(schema, inner, frozenset({"Query", inner.name})) if is_composite_type(inner) else ""
    return out


def cases() -> list[tuple[str, str]]:
    """(name, document). A name ending in `*` is not timed with the old guard: it would run for minutes or hours."""
    everything = top_fields(build_schema(Settings(environment="test"))._schema)
    nest = 180  # the parser refuses about 190 levels of nesting ("nested too deeply")
    return [
        ("legit: largest test query", LARGEST_TEST_QUERY),
        ("legit: GraphiQL introspection", get_introspection_query(descriptions=True)),
        ("chain 20 levels", chain(20)),
        ("chain 22 levels*", chain(22)),
        ("chain 30 levels*", chain(30)),
        ("chain 30, a field per level*", chain(30, "banks")),
        ("chain 30, aliases per level*", chain(30, "a{i}: agreements {{ kind }}")),
        ("chain 16 (old guard doubling)", chain(16)),
        ("chain 18 (old guard doubling)", chain(18)),
        ("same field x many", widest(lambda n: "{ agreements { " + "version " * n + "} }")),
        ("__typename x many", widest(lambda n: "{ " + "__typename " * n + "}")),
        (
            "same nested field x many",
            widest(lambda n: "{ " + "viewer { sessions { edges { node { id } } } } " * n + "}"),
        ),
        (
            "same field, args x many",
            widest(lambda n: "{ " + "agreements(step: SIGN_UP) { version } " * n + "}"),
        ),
        (  # 5 places, each answered 19 times: 5 x 19 x 20 / 2 = 950
            "same nested field x19 (passes)",
            "{ " + "viewer { sessions { edges { node { id } } } } " * 19 + "}",
        ),
        ("every field of the schema", "{ " + " ".join(f"{k} {v}".strip() for k, v in everything.items()) + " }"),
        (
            "every viewer field, 4 aliases",
            "{ " + " ".join(f"v{i}: viewer {everything['viewer']}" for i in range(4)) + " }",
        ),
        (
            "many fragments at one place",
            widest(
                lambda n: (
                    "{ "
                    + " ".join(f"...A{i}" for i in range(n))
                    + " } "
                    + " ".join(f"fragment A{i} on Query {{ agreements {{ version }} }}" for i in range(n))
                )
            ),
        ),
        (
            "linear fragment chain",
            widest(
                lambda n: (
                    "{ ...F0 } fragment F0 on Query { banks } "
                    + " ".join(f"fragment F{i} on Query {{ banks ...F{i - 1} }}" for i in range(1, n))
                )
            ),
        ),
        (
            "linear chain, unused",
            widest(
                lambda n: (
                    "{ banks } fragment F0 on Query { banks } "
                    + " ".join(f"fragment F{i} on Query {{ banks ...F{i - 1} }}" for i in range(1, n))
                )
            ),
        ),
        (
            "many unused fragments",
            widest(lambda n: "{ banks } " + " ".join(f"fragment U{i} on Query {{ banks }}" for i in range(n))),
        ),
        (
            "fragment ring, doubling, unused*",
            "{ banks } "
            + " ".join(f"fragment R{i} on Query {{ ...R{(i + 1) % 30} ...R{(i + 1) % 30} }}" for i in range(30)),
        ),
        (
            "fragment cycles*",
            widest(
                lambda n: (
                    "{ ...F0 } "
                    + " ".join(f"fragment F{i} on Query {{ ...F{(i + 1) % n} ...F{(i + 2) % n} }}" for i in range(n))
                )
            ),
        ),
        (
            "inline fragments x many",
            widest(
                lambda n: (
                    '{ node(id: "x") { ' + "... on Session { id current } ... on Appeal { id status } " * n + "} }"
                )
            ),
        ),
        ("many operations", widest(lambda n: " ".join(f"query Q{i} {{ agreements {{ version }} }}" for i in range(n)))),
        (
            "many operations, shared fragments",
            widest(
                lambda n: (
                    " ".join(f"query Q{i} {{ ...F6 }}" for i in range(n))
                    + " fragment F0 on Query { agreements { version } } "
                    + " ".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 7))
                )
            ),
        ),
        ("aliases x many", widest(lambda n: "{ " + " ".join(f"a{i}: banks" for i in range(n)) + " }")),
        ("directives x many", widest(lambda n: "{ agreements " + "@skip(if: false) " * n + "{ version } }")),
        (
            "variables x many",
            widest(lambda n: "query(" + " ".join(f"$v{i}: Boolean" for i in range(n)) + ") { banks }"),
        ),
        (
            "used variables x many",
            widest(
                lambda n: (
                    "query("
                    + " ".join(f"$v{i}: Boolean = false" for i in range(n))
                    + ") { agreements "
                    + " ".join(f"@include(if: $v{i})" for i in range(n))
                    + " { version } }"
                )
            ),
        ),
        ("enum list literal", widest(lambda n: "{ agreements(step: [" + "SIGN_UP " * n + "]) { version } }")),
        (
            "input objects literal",
            widest(
                lambda n: (
                    "mutation { accountActivate(input: {agreements: ["
                    + '{kind: USER_SERVICE, version: "x"} ' * n
                    + "]}) { errors { code } } }"
                )
            ),
        ),
        ("nested list literal", "{ agreements(step: " + "[" * nest + "]" * nest + ") { version } }"),
        ("nested object literal", "{ agreements(step: " + "{a: " * nest + "1" + "}" * nest + ") { version } }"),
        ("nested selections", "{ agreements " + "{ a " * nest + "}" * nest + " }"),
        ("nested inline fragments", "{ " + "... on Query { " * nest + "agreements { version }" + "}" * nest + " }"),
        ("nested list type", "query($v: " + "[" * nest + "Int" + "]" * nest + ") { banks }"),
    ]


LARGEST_TEST_QUERY = """{ viewer { id accountId kind username phoneMasked email balance
  enterpriseVerifications(first: 5) { totalCount edges { cursor node { id status method verifiedAt
    organisationName uscc organisationType legalRepresentativeNameMasked failureReason
    review { dueAt moreMaterialMessage rejectReason rejectText } } } pageInfo { hasNextPage endCursor } }
  verification { __typename id subjectType status method verifiedAt
    ... on PersonalVerification { nameMasked documentType documentNumberMasked }
    ... on EnterpriseVerification { organisationName uscc } } } }"""


def old_schema() -> strawberry.Schema:
    """The schema as it was: Strawberry's depth and alias limiters as validation rules, ValidationCache."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=TYPES,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=10),
            lambda: MaxAliasesLimiter(max_alias_count=15),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )


def old_validation_ms(schema: GraphQLSchema, query: str) -> float:
    rules = [
        *QueryDepthLimiter(max_depth=10).validation_rules,
        *MaxAliasesLimiter(max_alias_count=15).validation_rules,
        *specified_rules,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
    ]
    document = parse(query, max_tokens=MAX_TOKENS)
    started = time.process_time()
    validate(schema, document, rules)
    return (time.process_time() - started) * 1000


def guard_ms(query: str, limits: guards.QueryLimits) -> float:
    document = parse(query, max_tokens=MAX_TOKENS)
    started = time.process_time()
    guards.check(document, limits)
    return (time.process_time() - started) * 1000


def answer(body: dict[str, Any]) -> str:
    errors = body.get("errors")
    if not errors:
        return "data"
    code = (errors[0].get("extensions") or {}).get("code")
    return str(code) if code else errors[0]["message"][:48]


async def request_ms(client: httpx.AsyncClient, query: str) -> tuple[float, str]:
    """Median CPU of 5 requests, each a new text (leading blanks) so that no cache answers it."""
    times = []
    body: dict[str, Any] = {}
    for i in range(5):
        started = time.process_time()
        response = await client.post("/graphql", json={"query": " " * (i + 1) + query})
        times.append((time.process_time() - started) * 1000)
        body = response.json()
    return statistics.median(times), answer(body)


async def bystander(schema: strawberry.Schema, hostile: str) -> tuple[float, float]:
    """Wall ms of the hostile document and of a bystander query sent at the same moment."""

    async def timed(query: str, sent: float) -> float:
        await schema.execute(query)
        return (time.perf_counter() - sent) * 1000

    bystander_query = "{ agreements { version } }"
    await schema.execute(bystander_query)  # warm the caches
    sent = time.perf_counter()  # both arrive now; each is timed from here
    hostile_ms, bystander_ms = await asyncio.gather(timed(hostile, sent), timed(bystander_query, sent))
    return hostile_ms, bystander_ms


async def main(tmp: str, skip_old: bool) -> None:
    if True:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(database_url=url, environment="test", sweep_interval_seconds=0)
        limits = guards.QueryLimits(settings.max_query_depth, settings.max_aliases, settings.max_query_complexity)
        app = create_app(settings)
        old = old_schema()
        transport = httpx.ASGITransport(app=app)
        print(f"max_query_complexity={settings.max_query_complexity}, max_tokens={MAX_TOKENS}; CPU ms")
        print(f"{'document':34} {'tokens':>6} {'old ms':>9} {'guard ms':>9} {'request ms':>10}  answer")
        worst = 0.0
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, query in cases():
                count = tokens(query)
                assert count <= MAX_TOKENS, (name, count)
                run_old = not skip_old and not name.endswith("*")
                old_ms = f"{old_validation_ms(old._schema, query):9.1f}" if run_old else f"{'not run':>9}"
                took, said = await request_ms(client, query)
                worst = max(worst, took)
                print(f"{name:34} {count:6d} {old_ms} {guard_ms(query, limits):9.2f} {took:10.1f}  {said}")
        print(f"worst request: {worst:.1f} ms CPU (goal: under {GOAL_MS:.0f} ms)")
        new = build_schema(settings)
        print("\nbystander `{ agreements { version } }` sent with a hostile chain (wall ms, in one event loop)")
        for label, schema, levels in [("new", new, 22), ("new", new, 30)] + (
            [] if skip_old else [("old", old, OLD_RUN_UP_TO_LEVEL)]
        ):
            hostile_ms, bystander_ms = await bystander(schema, chain(levels))
            print(
                f"{label} guard, chain {levels}: hostile answered in {hostile_ms:8.1f} ms, bystander in {bystander_ms:8.1f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-old", action="store_true", help="do not time the old guard (seconds for chain 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        migrate(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        asyncio.run(main(tmp, args.skip_old))
