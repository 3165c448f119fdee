"""The back office over HTTP for subject changes (CHG-2, REV-2, REV-4): the item page shows what the change is
from and to side by side, the licence and the supplementary material with its kind, no unmasked ID number; an
approval through the page completes a name change; a withdrawn change's item reads as withdrawn.
RULES: CHG-2 CHG-7 REV-2
"""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import select

from models.review import ReviewItem
from services.clock import ManualClock
from services.database import Database
from tests.api.test_enterprise import USCC_ENTERPRISE
from tests.api.test_subject_change_name import (
    FAILING_NAME,
    OLD_NAME,
    enterprise,
    in_review,
    verified_name,
)
from tests.api.test_subject_changes import withdraw
from tests.api.test_verification import ID_1949
from tests.backoffice.test_pages import _csrf, _reviewer, _sign_in


@pytest.fixture
async def staff_client(app):
    # Back-office cookies are Secure outside development: talk https to the in-process app (as test_pages does).
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        yield c


def _comparison(page: str) -> list[tuple[str, str, str]]:
    """The rows of the item page's Before / After table: (label, before, after)."""
    table = re.search(r'<table class="comparison">(.*?)</table>', page, re.S)
    assert table, page
    assert re.search(r"<th[^>]*>Before</th><th[^>]*>After</th>", table.group(1))
    rows = re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td>', table.group(1))
    return [(html.unescape(a), html.unescape(b), html.unescape(c)) for a, b, c in rows]


async def _item_id(db: Database) -> int:
    async with db.read_sessions() as s:
        return int((await s.scalars(select(ReviewItem.id).where(ReviewItem.kind == "subject_change"))).one())


async def test_chg_2_rev_2_the_item_page_shows_the_name_change_before_and_after_and_approves_it(
    app, db: Database, clock: ManualClock, client, staff_client
) -> None:
    token = await enterprise(client)
    await in_review(client, token, clock)
    item_id = await _item_id(db)
    otp = await _reviewer(app, db)
    await _sign_in(staff_client, otp, clock)
    queue = await staff_client.get("/backoffice/queues/2")
    assert "实名认证主体变更 / verified subject change" in queue.text
    page = await staff_client.get(f"/backoffice/items/{item_id}")
    assert page.status_code == 200
    assert _comparison(page.text) == [
        ("Name", OLD_NAME, FAILING_NAME),
        ("USCC / document", USCC_ENTERPRISE, USCC_ENTERPRISE),
        ("Organisation type", "1. 企业 / Enterprise", "1. 企业 / Enterprise"),
        ("Legal representative", "*三", "*三"),
    ]
    text = html.unescape(page.text)
    assert "企业名称变更 / name change of the same enterprise (CHG-2)" in text
    assert "the automatic licence check failed (CHG-2)" in text
    # The licence and the supplementary material, its kind in words.
    assert "变更后的营业执照 / new business licence" in text
    assert (
        "名称变更补充材料 / name change supplementary material: 工商变更登记证明 / registry change certificate" in text
    )
    assert ID_1949 not in text  # reviewers see no unmasked ID number
    # Claim and approve through the page: the change completes, the verification takes the new name.
    csrf = _csrf(page.text)
    assert (await staff_client.post(f"/backoffice/items/{item_id}/claim", data={"csrf": csrf})).status_code == 303
    assert (await staff_client.post(f"/backoffice/items/{item_id}/approve", data={"csrf": csrf})).status_code == 303
    assert await verified_name(client, token) == FAILING_NAME


async def test_chg_7_rev_2_a_withdrawn_changes_item_reads_as_withdrawn_and_offers_no_action(
    app, db: Database, clock: ManualClock, client, staff_client
) -> None:
    token = await enterprise(client)
    change = await in_review(client, token, clock)
    assert (await withdraw(client, token, change["id"]))["errors"] == []
    item_id = await _item_id(db)
    otp = await _reviewer(app, db)
    await _sign_in(staff_client, otp, clock)
    assert f"/backoffice/items/{item_id}" not in (await staff_client.get("/backoffice/queues/2")).text
    listed = await staff_client.get("/backoffice/queues/2", params={"state": "withdrawn"})
    assert f"/backoffice/items/{item_id}" in listed.text
    page = html.unescape((await staff_client.get(f"/backoffice/items/{item_id}")).text)
    assert "State <strong>用户已撤回 / withdrawn by the user</strong>" in page
    assert "用户撤回申请 / the user withdrew the request" in page  # the audit trail
    assert "No action for you in this state." in page
