"""Relay cursor connections: `totalCount` on every connection, and `PageInfo` with both cursors and both flags.

Every list of the viewer is read forwards, newest first (`first`, `after`). `hasPreviousPage` is true
exactly when `after` was given and the list still holds the item it names or newer ones. The rows are
written straight into the database, so the lists hold five items each whatever the API's mutations are.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models.accounts import Account
from models.appeals import Appeal
from models.enterprise import EnterpriseApplication
from models.verification import VerificationAttempt
from tests.helpers import gql, registered_and_signed_in, sign_in

CONNECTIONS = ["sessions", "appeals", "verificationAttempts", "enterpriseVerifications"]
PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }"


async def _add_rows(run: Any, clock: Any, count: int) -> None:
    """`count` appeals and `count` failed enterprise verifications (each with its attempt) of the only account."""
    now = clock.now()

    async def add(uow: Any) -> None:
        account_id = (await uow.session.scalars(select(Account.id))).one()
        for _ in range(count):
            uow.session.add(
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
            uow.session.add(attempt)
            await uow.session.flush()
            uow.session.add(
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

    await run(add)


async def _page(client: Any, token: str, field: str, first: int, after: str | None) -> dict[str, Any]:
    query = f"query($after: String) {{ viewer {{ {field}(first: {first}, after: $after) {{ {PAGE} }} }} }}"
    data = await gql(client, query, {"after": after}, token=token)
    page: dict[str, Any] = data["viewer"][field]
    return page


@pytest.mark.parametrize("field", CONNECTIONS)
async def test_a_list_of_five_read_two_at_a_time(client, run, clock, field) -> None:
    # Given five items in the list
    token = await registered_and_signed_in(client)
    for _ in range(4):
        await sign_in(client, "alice01")
    await _add_rows(run, clock, 5)
    # When it is read two at a time, then once more after its last item
    pages = [await _page(client, token, field, 2, None)]
    while pages[-1]["pageInfo"]["hasNextPage"]:
        pages.append(await _page(client, token, field, 2, pages[-1]["pageInfo"]["endCursor"]))
    past_the_end = await _page(client, token, field, 2, pages[-1]["pageInfo"]["endCursor"])
    # Then every page counts the whole list, and its cursors and flags say where it stands
    assert [len(p["edges"]) for p in pages] == [2, 2, 1]
    assert {p["totalCount"] for p in [*pages, past_the_end]} == {5}
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    for page in pages:
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
    ids = [e["node"]["id"] for p in pages for e in p["edges"]]
    assert len(set(ids)) == 5
    assert past_the_end["edges"] == []
    assert past_the_end["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": None,
    }


@pytest.mark.parametrize("field", CONNECTIONS)
async def test_an_empty_page_of_a_list_has_no_cursors(client, run, clock, field) -> None:
    # Given a list with items (sessions: the one sign-in)
    token = await registered_and_signed_in(client)
    await _add_rows(run, clock, 1)
    # When a page of none is asked for
    page = await _page(client, token, field, 0, None)
    # Then it is empty, without cursors, and says more follow
    assert page == {
        "totalCount": 1,
        "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }


async def test_counts_and_page_info_cost_a_fixed_number_of_statements(client, run, clock, sql) -> None:
    # Given each list of the viewer
    token = await registered_and_signed_in(client)
    await _add_rows(run, clock, 1)
    every_list = "{ viewer { " + " ".join(f"{field}(first: 50) {{ {PAGE} }}" for field in CONNECTIONS) + " } }"

    async def statements() -> int:
        sql.reset()
        await gql(client, every_list, token=token)
        return sql.count

    one_each = await statements()
    # When each list holds thirty items, and when the pages start after a cursor
    for _ in range(29):
        await sign_in(client, "alice01")
    await _add_rows(run, clock, 29)
    thirty_each = await statements()
    # Then the statements are the same: per list, one for the page and one for both counts
    assert one_each == thirty_each == 1 + 2 * len(CONNECTIONS)  # and one for the viewer's session
    pages = await gql(client, every_list, token=token)
    assert [pages["viewer"][f]["totalCount"] for f in CONNECTIONS] == [30, 30, 30, 30]
    cursor_of = {f: pages["viewer"][f]["edges"][0]["cursor"] for f in CONNECTIONS}
    for field in CONNECTIONS[1:]:  # each kind of list has its own cursors: one list at a time
        one_list = f"query($after: String) {{ viewer {{ {field}(first: 50, after: $after) {{ {PAGE} }} }} }}"
        sql.reset()
        page = (await gql(client, one_list, {"after": cursor_of[field]}, token=token))["viewer"][field]
        assert sql.count == 3
        assert page["totalCount"] == 30
        assert page["pageInfo"]["hasPreviousPage"] is True
        assert len(page["edges"]) == 29
