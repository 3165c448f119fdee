"""The back office over HTTP (REV-2..6): TOTP sign-in, queue pages, claim and decide with CSRF tokens,
documents for reviewers only, and account holders' tokens opening nothing."""

from __future__ import annotations

import io
import re

import httpx
import pyotp
import pytest
from PIL import Image

from models.review import ReviewItem
from services.database import run_write
from services.documents import service as documents
from services.review import kinds, reviewers
from services.review import service as review
from tests.helpers import registered_and_signed_in

PASSWORD = "Staff-Only-Passphrase-1"
KIND = "page_test"


class Handler:
    label = "测试 / test item"

    def __init__(self) -> None:
        self.doc_ids: list[str] = []

    async def approved(self, uow, item) -> None:
        return None

    async def rejected(self, uow, item, reason, text) -> None:
        return None

    async def more_material_requested(self, uow, item, message) -> None:
        return None

    async def documents(self, uow, item):
        return [await documents.for_staff(uow, d) for d in self.doc_ids]

    async def facts(self, uow, item):
        return [("Subject", f"test subject {item.subject_id}")]


@pytest.fixture
def handler() -> Handler:
    h = Handler()
    kinds.register(KIND, h)
    return h


@pytest.fixture
async def staff_client(app):
    # Back-office cookies are Secure outside development: talk https to the in-process app.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        yield c


async def _call(app, db, fn, *args, **kwargs):
    result = await run_write(db, app.state.deps, fn, *args, **kwargs)
    assert not isinstance(result, Exception), result
    return result


async def _reviewer(app, db, username: str = "lin", role: str = "reviewer") -> pyotp.TOTP:
    created = await _call(app, db, reviewers.add_reviewer, username=username, display_name=username.title(),
                          role=role, password=PASSWORD)  # fmt: skip
    return pyotp.parse_uri(created.provisioning_uri)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def _sign_in(c: httpx.AsyncClient, otp: pyotp.TOTP, clock, username: str = "lin") -> httpx.Response:
    page = await c.get("/backoffice/login")
    return await c.post(
        "/backoffice/login",
        data={"csrf": _csrf(page.text), "username": username, "password": PASSWORD, "code": otp.at(clock.now())},
    )


async def test_rev_6_sign_in_with_password_and_totp_sets_a_protected_cookie(app, db, clock, staff_client) -> None:
    otp = await _reviewer(app, db)
    response = await _sign_in(staff_client, otp, clock)
    assert response.status_code == 303
    assert response.headers["location"] == "/backoffice/queues/2"
    cookie = response.headers["set-cookie"]
    assert "bo_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" in cookie
    assert "Path=/backoffice" in cookie
    assert (await staff_client.get("/backoffice/queues/2")).status_code == 200


async def test_rev_6_wrong_code_or_missing_csrf_does_not_sign_in(app, db, clock, staff_client) -> None:
    otp = await _reviewer(app, db)
    page = await staff_client.get("/backoffice/login")
    no_csrf = await staff_client.post(
        "/backoffice/login", data={"username": "lin", "password": PASSWORD, "code": otp.at(clock.now())}
    )
    assert no_csrf.status_code == 403
    wrong = await staff_client.post(
        "/backoffice/login", data={"csrf": _csrf(page.text), "username": "lin", "password": PASSWORD, "code": "000000"}
    )
    assert wrong.status_code == 401
    assert "wrong" in wrong.text
    assert "bo_session" not in staff_client.cookies
    assert (await staff_client.get("/backoffice/queues/2")).status_code == 303


async def test_rev_6_account_holders_tokens_open_nothing(app, client, staff_client) -> None:
    token = await registered_and_signed_in(client)
    headers = {"authorization": f"Bearer {token}"}
    staff_client.cookies.set("bo_session", token, path="/backoffice")
    assert (await staff_client.get("/backoffice/queues/2", headers=headers)).status_code == 303
    assert (
        await staff_client.post("/backoffice/items/1/claim", headers=headers, data={"csrf": "x"})
    ).status_code == 401


async def test_rev_2_rev_3_rev_4_queue_claim_and_decide_through_the_pages(
    app, db, clock, client, staff_client, handler
) -> None:
    # Given an item in the 2-day queue with an uploaded document, and a signed-in reviewer
    token = await registered_and_signed_in(client)
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (9, 9, 9)).save(out, format="PNG")
    uploaded = await client.post(
        "/uploads", files={"file": ("id.png", out.getvalue())}, headers={"authorization": f"Bearer {token}"}
    )
    handler.doc_ids.append(uploaded.json()["id"])
    account_id = (await _call(app, db, review.submit, kind=KIND, subject_id=1, account_id=1, queue_days=2)).account_id
    assert account_id == 1
    otp = await _reviewer(app, db)
    await _sign_in(staff_client, otp, clock)
    # The queue lists it; the item page shows the document to the reviewer
    queue_page = await staff_client.get("/backoffice/queues/2")
    assert KIND in queue_page.text
    item_page = await staff_client.get("/backoffice/items/1")
    assert f"/backoffice/documents/{handler.doc_ids[0]}" in item_page.text
    assert "test subject 1" in item_page.text  # the handler's facts: what the reviewer decides on
    assert (await staff_client.get(f"/backoffice/documents/{handler.doc_ids[0]}")).status_code == 200
    # A POST without the CSRF token is refused and changes nothing
    assert (await staff_client.post("/backoffice/items/1/claim")).status_code == 403
    async with db.read_sessions() as s:
        assert (await s.get(ReviewItem, 1)).state == "pending"
    # Claim, then approve, with the token of the page
    csrf = _csrf(item_page.text)
    assert (await staff_client.post("/backoffice/items/1/claim", data={"csrf": csrf})).status_code == 303
    assert (await staff_client.post("/backoffice/items/1/approve", data={"csrf": csrf})).status_code == 303
    final = await staff_client.get("/backoffice/items/1")
    assert "approved" in final.text
    assert re.findall(r"<td>(submit|claim|approve)</td>", final.text) == ["submit", "claim", "approve"]


async def test_rev_3_deciding_an_item_held_by_another_reviewer_is_refused_on_the_page(
    app, db, clock, staff_client, handler, client
) -> None:
    await registered_and_signed_in(client)
    await _call(app, db, review.submit, kind=KIND, subject_id=1, account_id=1, queue_days=2)
    other = await _reviewer(app, db, "wang")
    await _sign_in(staff_client, other, clock, "wang")
    page = await staff_client.get("/backoffice/items/1")
    csrf = _csrf(page.text)
    await staff_client.post("/backoffice/items/1/claim", data={"csrf": csrf})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as second:
        lin = await _reviewer(app, db, "lin")
        await _sign_in(second, lin, clock, "lin")
        csrf2 = _csrf((await second.get("/backoffice/items/1")).text)
        refused = await second.post("/backoffice/items/1/approve", data={"csrf": csrf2})
    assert refused.status_code == 409
    assert "Claim the item before deciding it." in refused.text
    async with db.read_sessions() as s:
        assert (await s.get(ReviewItem, 1)).state == "claimed"


async def test_org_3_documents_are_not_served_to_account_holders_from_the_back_office(client, staff_client) -> None:
    token = await registered_and_signed_in(client)
    response = await staff_client.get("/backoffice/documents/doc_x", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 303


# --- Malformed input never answers 500 --------------------------------------------------------------


async def _queue_with_one_item(app, db, clock, client, staff_client) -> None:
    await registered_and_signed_in(client)
    await _call(app, db, review.submit, kind=KIND, subject_id=1, account_id=1, queue_days=2)
    await _sign_in(staff_client, await _reviewer(app, db), clock)


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "~",
        "2026-01-01T00:00:00~1",  # no zone
        "2026-01-01T00:00:00+00:00~" + "9" * 30,  # an item ID beyond 64 bits
        "2026-01-01T00:00:00+00:00~１",  # full-width digit
        "2026-01-01T00:00:00+00:00~01",
        "9999-12-31T23:59:59-23:59~1",  # past the year 9999 in UTC
        "2026-13-01T00:00:00+00:00~1",
    ],
)
async def test_rev_2_a_malformed_after_shows_the_first_page(
    app, db, clock, client, staff_client, handler, after
) -> None:
    # Given an item in the 2-day queue and a signed-in reviewer
    await _queue_with_one_item(app, db, clock, client, staff_client)
    # When the queue is paged after something that is not a next-page link
    page = await staff_client.get("/backoffice/queues/2", params={"after": after})
    # Then the first page is shown
    assert page.status_code == 200
    assert "/backoffice/items/1" in page.text


@pytest.mark.parametrize("item_id", ["9" * 30, str(2**63), "0"])
async def test_rev_3_an_item_id_that_cannot_exist_is_404(
    app, db, clock, client, staff_client, handler, item_id
) -> None:
    # Given a signed-in reviewer
    await _queue_with_one_item(app, db, clock, client, staff_client)
    csrf = _csrf((await staff_client.get("/backoffice/items/1")).text)
    # When an item is opened or claimed by an ID no row can have
    opened = await staff_client.get(f"/backoffice/items/{item_id}")
    claimed = await staff_client.post(f"/backoffice/items/{item_id}/claim", data={"csrf": csrf})
    # Then both are 404 and the real item is untouched
    assert (opened.status_code, claimed.status_code) == (404, 404)
    async with db.read_sessions() as s:
        assert (await s.get(ReviewItem, 1)).state == "pending"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "9" * 30},
        {"q": "１００００００００００００００１"},
        {"q": "a\x00b"},
        {"kind": "x\x00"},
        {"state": "\x00"},
    ],
)
async def test_rev_2_odd_filters_answer_a_page(app, db, clock, client, staff_client, handler, params) -> None:
    await _queue_with_one_item(app, db, clock, client, staff_client)
    page = await staff_client.get("/backoffice/queues/2", params=params)
    assert page.status_code == 200


async def test_rev_4_a_reason_with_a_control_character_is_refused_and_changes_nothing(
    app, db, clock, client, staff_client, handler
) -> None:
    # Given an item claimed by a signed-in reviewer
    await _queue_with_one_item(app, db, clock, client, staff_client)
    csrf = _csrf((await staff_client.get("/backoffice/items/1")).text)
    assert (await staff_client.post("/backoffice/items/1/claim", data={"csrf": csrf})).status_code == 303
    # When it is rejected with details holding a NUL (PostgreSQL refuses it outright)
    refused = await staff_client.post(
        "/backoffice/items/1/reject", data={"csrf": csrf, "reason": "MATERIAL_MISMATCH", "text": "bad\x00scan"}
    )
    # Then the page says why and the item stays claimed
    assert refused.status_code == 409
    assert "Remove the control characters from the text." in refused.text
    async with db.read_sessions() as s:
        assert (await s.get(ReviewItem, 1)).state == "claimed"
    # And a reason over several lines is fine
    done = await staff_client.post(
        "/backoffice/items/1/reject", data={"csrf": csrf, "reason": "MATERIAL_MISMATCH", "text": "line 1\r\nline 2"}
    )
    assert done.status_code == 303


async def test_rev_6_a_username_with_a_control_character_signs_nobody_in(app, db, clock, staff_client) -> None:
    otp = await _reviewer(app, db)
    page = await staff_client.get("/backoffice/login")
    refused = await staff_client.post(
        "/backoffice/login",
        data={"csrf": _csrf(page.text), "username": "lin\x00", "password": PASSWORD, "code": otp.at(clock.now())},
    )
    assert refused.status_code == 401
    assert "bo_session" not in staff_client.cookies


async def test_org_3_a_document_id_with_a_control_character_is_404(app, db, clock, client, staff_client) -> None:
    await _queue_with_one_item(app, db, clock, client, staff_client)
    assert (await staff_client.get("/backoffice/documents/doc_%00x")).status_code == 404
