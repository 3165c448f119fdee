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
