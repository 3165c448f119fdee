"""`node(id:)` (Relay global object identification): every Node type reads the viewer's own objects by ID.

Sessions, appeals and enterprise verifications used to be picked from the viewer's 100 newest, so an
older one's ID answered null. Now each type reads by ID (`schema/types/common.py: resolve_owned_nodes`),
one statement per type per request however many `node` fields name it; another account's ID answers
null like an unknown one. The rows are written straight into the database: 105 of each list cost far
less than 105 sign-ins and filings.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from models.accounts import Account
from models.appeals import Appeal
from models.auth import AuthSession
from models.enterprise import EnterpriseApplication
from models.verification import VerificationAttempt
from schema.types.common import resolve_owned_nodes
from tests.helpers import gql, registered_and_signed_in

MANY = 105  # more than the 100 newest the old resolvers looked at
TYPES = ["Session", "Appeal", "EnterpriseVerification", "VerificationAttempt"]


def global_id(kind: str, row_id: int) -> str:
    return base64.b64encode(f"{kind}:{row_id}".encode()).decode()


async def _add_rows(run: Any, clock: Any, username: str, count: int) -> dict[str, list[int]]:
    """`count` live sessions, appeals and enterprise verifications (each with its attempt) of the account,
    oldest first; their row IDs by Node type."""
    now = clock.now()

    async def add(uow: Any) -> dict[str, list[int]]:
        account_id = (await uow.session.scalars(select(Account.id).where(Account.username == username))).one()
        made: dict[str, list[Any]] = {kind: [] for kind in TYPES}
        for n in range(count):
            made["Session"].append(
                AuthSession(
                    account_id=account_id,
                    token_hash=f"{username}-{n:06d}".ljust(64, "x"),
                    method="password",
                    created_at=now,
                    last_seen_at=now,
                )
            )
            made["Appeal"].append(
                Appeal(
                    kind="mfa_unbind", account_id=account_id, subject_type="person", state="rejected", created_at=now
                )
            )
            attempt = VerificationAttempt(
                account_id=account_id,
                subject_type="enterprise",
                method="legal_rep_face",
                outcome="failed",
                name="张三",
                document_type="organisation",
                document_key="k",
                document_masked="9131********0001",
                agreement_version="2026-06",
                created_at=now,
            )
            made["VerificationAttempt"].append(attempt)
            uow.session.add_all([made["Session"][-1], made["Appeal"][-1], attempt])
            await uow.session.flush()
            made["EnterpriseVerification"].append(
                EnterpriseApplication(
                    account_id=account_id,
                    attempt_id=attempt.id,
                    method="legal_rep_face",
                    state="failed",
                    organisation_name="示例科技有限公司",
                    uscc="91310000000000001X",
                    organisation_type="ENTERPRISE",
                    legal_rep_name="张三",
                    created_at=now,
                )
            )
            uow.session.add(made["EnterpriseVerification"][-1])
        await uow.session.flush()
        return {kind: [row.id for row in rows] for kind, rows in made.items()}

    ids: dict[str, list[int]] = await run(add)
    return ids


def _nodes_query(ids: list[str]) -> str:
    fields = " ".join(f'n{i}: node(id: "{gid}") {{ id __typename }}' for i, gid in enumerate(ids))
    return "{ " + fields + " }"


async def _read(client: Any, token: str, ids: list[str]) -> list[str | None]:
    data = await gql(client, _nodes_query(ids), token=token)
    return [None if data[f"n{i}"] is None else data[f"n{i}"]["id"] for i in range(len(ids))]


@pytest.mark.parametrize("kind", TYPES)
async def test_an_item_older_than_the_hundred_newest_reads_by_id(client, run, clock, kind) -> None:
    # Given more than a hundred items of the type, the oldest first
    token = await registered_and_signed_in(client)
    rows = (await _add_rows(run, clock, "alice01", MANY))[kind]
    oldest, newest = global_id(kind, rows[0]), global_id(kind, rows[-1])
    # When the oldest and the newest are read by global ID
    data = await gql(client, _nodes_query([oldest, newest]), token=token)
    # Then both are found, the oldest included
    assert data["n0"] == {"id": oldest, "__typename": kind}
    assert data["n1"] == {"id": newest, "__typename": kind}


async def test_node_fields_cost_one_statement_per_type_whatever_the_number_of_ids(client, run, clock, sql) -> None:
    # Given many items of each type
    token = await registered_and_signed_in(client)
    rows = await _add_rows(run, clock, "alice01", MANY)

    async def statements(ids: list[str]) -> int:
        await gql(client, "{ viewer { id } }", token=token)  # the session is touched outside the count
        sql.reset()
        found = await _read(client, token, ids)
        assert found == ids  # every one found, the old ones too
        return sql.count

    # When one item, then fourteen items of one type (the oldest, well past the 100 newest) are read
    one = await statements([global_id("Appeal", rows["Appeal"][0])])
    fourteen = await statements([global_id("Appeal", r) for r in rows["Appeal"][:14]])
    # And three of each of the four types in one request
    mixed = await statements([global_id(kind, r) for kind in TYPES for r in rows[kind][:3]])
    # Then the cost is the viewer's session plus one statement per type, not per ID
    assert one == fourteen == 2
    assert mixed == 1 + len(TYPES)


@pytest.mark.parametrize("kind", TYPES)
async def test_another_accounts_id_reads_as_unknown(client, run, clock, kind) -> None:
    # Given two accounts with items of the type
    await registered_and_signed_in(client, "bob01", "13700000002")
    bobs = (await _add_rows(run, clock, "bob01", 1))[kind]
    token = await registered_and_signed_in(client)
    alices = (await _add_rows(run, clock, "alice01", 1))[kind]
    unknown = max(bobs + alices) + 1000
    # When alice reads bob's item, an ID no row has, and her own
    body = await gql(
        client,
        _nodes_query([global_id(kind, bobs[0]), global_id(kind, unknown), global_id(kind, alices[0])]),
        token=token,
    )
    # Then bob's reads exactly as the unknown one: null, without an error
    assert body["n0"] is None
    assert body["n1"] is None
    assert body["n2"]["id"] == global_id(kind, alices[0])


async def test_order_duplicates_and_nulls_are_kept(client, run, clock) -> None:
    # Given alice's and bob's appeals
    await registered_and_signed_in(client, "bob01", "13700000002")
    bobs = (await _add_rows(run, clock, "bob01", 1))["Appeal"]
    token = await registered_and_signed_in(client)
    mine = (await _add_rows(run, clock, "alice01", 3))["Appeal"]
    asked = [mine[2], bobs[0], mine[0], mine[2], 10**12, mine[1]]
    # When they are read in one request, one twice
    found = await _read(client, token, [global_id("Appeal", r) for r in asked])
    # Then the answers follow the order asked, with null for bob's and the unknown one
    expected = [mine[2], None, mine[0], mine[2], None, mine[1]]
    assert found == [None if r is None else global_id("Appeal", r) for r in expected]


async def test_resolve_owned_nodes_reads_each_id_once_and_answers_in_order() -> None:
    # Given a load that knows rows 1 and 3, and records what it is asked
    asked: list[list[int]] = []

    async def load(context: Any, viewer: Any, ids: list[int]) -> list[Any]:
        asked.append(ids)
        return [SimpleNamespace(id=i) for i in ids if i in (1, 3)]

    async def auth() -> Any:
        return SimpleNamespace(account=SimpleNamespace(id=7))

    info: Any = SimpleNamespace(context=SimpleNamespace(node_loaders={}, auth=auth))
    # When IDs are resolved with a duplicate, an unknown one, and strings that are no canonical row ID
    node_ids = ["3", "1", "007", "3", "2", "x", "-1", ""]
    found = await resolve_owned_nodes(info, node_ids, SimpleNamespace, load)
    # Then each row ID is loaded once, in one call, and the answers follow the IDs asked, null where unknown
    assert asked == [[3, 1, 2]]
    assert [None if n is None else n.id for n in found] == [3, 1, None, 3, None, None, None, None]


async def test_signed_out_every_node_is_null(client, run, clock) -> None:
    # Given an account's appeal
    await registered_and_signed_in(client)
    rows = (await _add_rows(run, clock, "alice01", 1))["Appeal"]
    # When it is read without a session
    data = await gql(client, _nodes_query([global_id("Appeal", rows[0])]))
    # Then it is null
    assert data == {"n0": None}
