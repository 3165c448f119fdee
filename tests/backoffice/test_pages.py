"""The back office over HTTP (REV-2..6): TOTP sign-in, queue pages, claim and decide with CSRF tokens,
documents for reviewers only, and account holders' tokens opening nothing."""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter
from dataclasses import replace

import httpx
import pyotp
import pytest
from PIL import Image
from sqlalchemy import select

from app import create_app
from middleware import PAGE_CSP, VIEWER_CSP
from models.codes import OutboxMessage
from models.documents import Document
from models.review import ReviewItem
from services.database import run_write
from services.documents import service as documents
from services.review import kinds, reviewers
from services.review import service as review
from tests.helpers import registered_and_signed_in, watched_hasher
from tests.services.test_appeals import seed_rebind_appeals

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

    async def materials(self, uow, item):
        return [kinds.ReviewMaterial("ID_CARD_IN_HAND", await documents.for_staff(uow, d)) for d in self.doc_ids]

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


ATTACKER = ("198.51.100.66", 40000)
OFFICE = ("203.0.113.20", 40000)


def _client_at(app, address: tuple[str, int]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=address), base_url="https://testserver")


async def _post_login(c: httpx.AsyncClient, csrf: str, username: str, password: str, code: str, **kw) -> httpx.Response:
    data = {"csrf": csrf, "username": username, "password": password, "code": code}
    return await c.post("/backoffice/login", data=data, **kw)


async def test_rev_6_the_password_is_judged_with_no_write_transaction_or_connection_held(app, db, clock) -> None:
    # Given a reviewer, and a hasher that notes where it is called from
    otp = await _reviewer(app, db)
    hasher = watched_hasher(app, db)
    async with _client_at(app, OFFICE) as c:
        csrf = _csrf((await c.get("/backoffice/login")).text)
        # When they sign in with a wrong password, then with the right one
        wrong = await _post_login(c, csrf, "lin", "Wrong-Passphrase-99", otp.at(clock.now()))
        right = await _post_login(c, csrf, "lin", PASSWORD, otp.at(clock.now()))
    # Then each answer came from one hash, run outside every write transaction with no connection held
    assert (wrong.status_code, right.status_code) == (401, 303)
    assert hasher.verified == 2
    assert hasher.inside_write == 0
    assert hasher.connections_held == [0, 0]


async def test_rev_6_sixty_simultaneous_bogus_sign_ins_from_one_address_are_judged_twenty_times(app, db, clock) -> None:
    # Given a reviewer, and an attacker's address sending 60 wrong passwords at once, a third of them
    # for the reviewer's name and the rest for 40 made-up names
    otp = await _reviewer(app, db)
    hasher = watched_hasher(app, db)
    async with _client_at(app, ATTACKER) as attacker:
        csrf = _csrf((await attacker.get("/backoffice/login")).text)
        names = ["lin" if i % 3 == 0 else f"nobody{i}" for i in range(60)]
        answers = await asyncio.gather(
            *[_post_login(attacker, csrf, name, "Wrong-Passphrase-99", "000000") for name in names]
        )
        # Then the address's 20 tries were judged (one hash each); the other 40 were refused before any hash
        assert hasher.verified == 20
        assert Counter(a.status_code for a in answers) == {401: 20, 429: 40}
        assert all(int(a.headers["retry-after"]) > 0 for a in answers if a.status_code == 429)
        assert hasher.inside_write == 0
        # And the address stays locked even with the right password and code
        locked = await _post_login(attacker, csrf, "lin", PASSWORD, otp.at(clock.now()))
        assert locked.status_code == 429
    assert hasher.verified == 20
    # While the reviewer, at the office, signs in at once
    async with _client_at(app, OFFICE) as office:
        csrf = _csrf((await office.get("/backoffice/login")).text)
        assert (await _post_login(office, csrf, "lin", PASSWORD, otp.at(clock.now()))).status_code == 303


async def test_rev_6_an_attacker_elsewhere_cannot_lock_a_reviewer_out(app, db, clock) -> None:
    # Given a reviewer, and an attacker who sends wrong passwords for the reviewer's name
    otp = await _reviewer(app, db)
    hasher = watched_hasher(app, db)
    async with _client_at(app, ATTACKER) as attacker:
        csrf = _csrf((await attacker.get("/backoffice/login")).text)
        answers = [(await _post_login(attacker, csrf, "lin", f"Guess-{i}-Passphrase", "000000")) for i in range(7)]
    # Then the fifth wrong password locks the name for that address only
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 2
    assert hasher.verified == 5
    # And the reviewer signs in from the office with the right password and code
    async with _client_at(app, OFFICE) as office:
        csrf = _csrf((await office.get("/backoffice/login")).text)
        assert (await _post_login(office, csrf, "lin", PASSWORD, otp.at(clock.now()))).status_code == 303


async def test_rev_6_behind_a_trusted_proxy_the_forwarded_address_is_throttled(settings, db, clock) -> None:
    # Given the app behind one trusted proxy (TRUSTED_PROXY_COUNT=1): every request comes from the proxy
    app = create_app(replace(settings, trusted_proxy_count=1), clock=clock, db=db)
    otp = await _reviewer(app, db)
    async with _client_at(app, ("10.0.0.2", 40000)) as proxy:
        csrf = _csrf((await proxy.get("/backoffice/login")).text)
        attacker = {"x-forwarded-for": "198.51.100.66"}
        office = {"x-forwarded-for": "198.51.100.66, 203.0.113.20"}  # the proxy appends the real client
        # When the attacker's forwarded address makes five wrong tries for the reviewer's name
        for _ in range(5):
            wrong = await _post_login(proxy, csrf, "lin", "Wrong-Passphrase-99", "000000", headers=attacker)
            assert wrong.status_code == 401
        assert (
            await _post_login(proxy, csrf, "lin", PASSWORD, otp.at(clock.now()), headers=attacker)
        ).status_code == 429
        # Then the reviewer, forwarded from the office, still signs in
        right = await _post_login(proxy, csrf, "lin", PASSWORD, otp.at(clock.now()), headers=office)
        assert right.status_code == 303


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
    assert uploaded.status_code == 201
    async with db.read_sessions() as s:  # the back office names a document by its stored name, not the API's ID
        handler.doc_ids.append(await s.scalar(select(Document.public_id)))
    account_id = (await _call(app, db, review.submit, kind=KIND, subject_id=1, account_id=1, queue_days=2)).account_id
    assert account_id == 1
    otp = await _reviewer(app, db)
    await _sign_in(staff_client, otp, clock)
    # The queue lists it; the item page shows the document to the reviewer
    queue_page = await staff_client.get("/backoffice/queues/2")
    assert "<td>测试 / test item</td><td>待领取 / pending, unclaimed</td>" in queue_page.text  # REV-2: in words
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
    assert "State <strong>已通过 / approved</strong>" in final.text
    assert re.findall(r"<td>([^<]*(?:submitted|claimed|approved))</td>", final.text) == [
        "提交 / submitted",
        "领取 / claimed",
        "通过 / approved",
    ]
    # Claiming it again is refused on the page, which names the state in words
    again = await staff_client.post("/backoffice/items/1/claim", data={"csrf": csrf})
    assert again.status_code == 409
    assert "This item is 已通过 / approved." in again.text


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


async def test_reg_3_apl_2_an_approval_refused_on_reg_3_says_why_and_leaves_the_item_to_reject(
    app, db, clock, staff_client
) -> None:
    # Given a phone-rebind appeal onto a phone that has 10 cloud accounts, claimed by the reviewer
    [item_id], _ = await _call(app, db, seed_rebind_appeals, count=1, already_on_phone=10, claim=False)
    otp = await _reviewer(app, db)
    await _sign_in(staff_client, otp, clock)
    csrf = _csrf((await staff_client.get(f"/backoffice/items/{item_id}")).text)
    assert (await staff_client.post(f"/backoffice/items/{item_id}/claim", data={"csrf": csrf})).status_code == 303
    # When the reviewer approves it
    refused = await staff_client.post(f"/backoffice/items/{item_id}/approve", data={"csrf": csrf})
    # Then the item page says why, and the item is still theirs, with the reject form
    assert refused.status_code == 409
    assert (
        '<div class="flash" role="alert">This phone number already has 10 cloud accounts (REG-3).</div>' in refused.text
    )
    assert f'action="/backoffice/items/{item_id}/reject"' in refused.text
    async with db.read_sessions() as s:
        assert (await s.get(ReviewItem, item_id)).state == "claimed"
    # And the reviewer rejects it with a reason instead
    reject = {"csrf": csrf, "reason": "NOT_ELIGIBLE", "text": "The new phone already has 10 cloud accounts."}
    assert (await staff_client.post(f"/backoffice/items/{item_id}/reject", data=reject)).status_code == 303
    async with db.read_sessions() as s:
        assert (await s.get(ReviewItem, item_id, populate_existing=True)).state == "rejected"


async def test_rev_5_a_rejection_notice_names_the_reason_from_the_list_in_chinese_then_english(
    app, db, clock, staff_client
) -> None:
    # Given two phone-rebind appeals and a signed-in reviewer
    [rejected_id, approved_id], _ = await _call(app, db, seed_rebind_appeals, count=2, already_on_phone=0, claim=False)
    otp = await _reviewer(app, db)
    await _sign_in(staff_client, otp, clock)
    page = await staff_client.get(f"/backoffice/items/{rejected_id}")
    csrf = _csrf(page.text)
    assert (await staff_client.post(f"/backoffice/items/{rejected_id}/claim", data={"csrf": csrf})).status_code == 303
    # The reject form lists each reason in both languages, from the one table the notice uses
    form = (await staff_client.get(f"/backoffice/items/{rejected_id}")).text
    for reason in kinds.RejectReason:
        assert f'<option value="{reason.value}">{reason.zh} / {reason.en}</option>' in form
    # When the reviewer rejects one with a reason from the list and their own words
    reject = {"csrf": csrf, "reason": "MATERIAL_UNCLEAR", "text": "ID photo of 13900000009 is blurred"}
    assert (await staff_client.post(f"/backoffice/items/{rejected_id}/reject", data=reject)).status_code == 303
    # And approves the other
    assert (await staff_client.post(f"/backoffice/items/{approved_id}/claim", data={"csrf": csrf})).status_code == 303
    assert (await staff_client.post(f"/backoffice/items/{approved_id}/approve", data={"csrf": csrf})).status_code == 303
    async with db.read_sessions() as s:
        notices = {
            m.destination: m.text
            for m in await s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "REVIEW_PHONE_REBIND"))
        }
    # Then the rejection notice names the reason, Chinese first, English second, and no entered value
    assert notices["+8613700000001"] == (
        "【账号中心 Account center】您的手机号换绑申诉未通过审核，原因：材料无法辨认。"
        " Your phone-rebind appeal was rejected. Reason: a material cannot be read."
    )
    # And the approval notice, sent to the newly bound phone, is as before
    assert notices["+8613900000009"] == (
        "【账号中心 Account center】您的手机号换绑申诉已通过审核。 Your phone-rebind appeal was approved."
    )


async def test_rev_2_a_material_is_captioned_and_opens_full_size_on_a_page_of_its_own(
    app, db, clock, client, staff_client, handler
) -> None:
    # Given an item with one uploaded material and a signed-in reviewer
    token = await registered_and_signed_in(client)
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (9, 9, 9)).save(out, format="PNG")
    uploaded = await client.post(
        "/uploads", files={"file": ("id.png", out.getvalue())}, headers={"authorization": f"Bearer {token}"}
    )
    assert uploaded.status_code == 201
    async with db.read_sessions() as s:
        handler.doc_ids.append(await s.scalar(select(Document.public_id)))
    await _call(app, db, review.submit, kind=KIND, subject_id=1, account_id=1, queue_days=2)
    await _sign_in(staff_client, await _reviewer(app, db), clock)
    caption = "手持身份证照片（正反面） / ID card held in hand, both sides"
    # The item page: the material's role as its caption and alt text, linked to its viewer; no script here
    item_page = await staff_client.get("/backoffice/items/1")
    assert item_page.headers["content-security-policy"] == PAGE_CSP
    assert 'href="/backoffice/items/1/materials/1"' in item_page.text
    assert f'alt="{caption}"' in item_page.text
    assert f"<figcaption>{caption} " in item_page.text
    assert "<script" not in item_page.text
    # The viewer: the image full size, its controls, one script file from this origin and nothing inline
    viewer = await staff_client.get("/backoffice/items/1/materials/1")
    assert viewer.status_code == 200
    assert viewer.headers["content-security-policy"] == VIEWER_CSP
    assert "script-src 'self'" in VIEWER_CSP
    assert re.findall(r"<script[^>]*>", viewer.text) == ['<script src="/backoffice/static/viewer.js">']
    assert not re.search(r"<script[^>]*>[^<]+</script>|\sstyle=|\son[a-z]+=", viewer.text)
    for control in ("Zoom in", "Zoom out", "Rotate", "Reset", "Back to the item"):
        assert control in viewer.text
    assert f'src="/backoffice/documents/{handler.doc_ids[0]}"' in viewer.text
    script = await staff_client.get("/backoffice/static/viewer.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    # Out of range, or signed out: nothing shown
    for n in ("0", "2", "9" * 30):
        assert (await staff_client.get(f"/backoffice/items/1/materials/{n}")).status_code == 404, n
    assert (await staff_client.get("/backoffice/items/99/materials/1")).status_code == 404
    assert (await client.get("/backoffice/items/1/materials/1")).status_code == 303


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


async def test_rev_6_an_ipv6_attacker_is_one_address_for_its_whole_slash_64(app, db, clock) -> None:
    # Given a reviewer, and an attacker who rotates addresses inside one IPv6 /64 for each wrong password
    otp = await _reviewer(app, db)
    statuses = []
    for i in range(7):
        async with _client_at(app, (f"2001:db8:66:1:{i:x}::1", 40000)) as attacker:
            csrf = _csrf((await attacker.get("/backoffice/login")).text)
            statuses.append((await _post_login(attacker, csrf, "lin", f"Guess-{i}-Passphrase", "000000")).status_code)
    # Then the /64 counts as one address: the fifth wrong password locks the name for all of it
    assert statuses == [401] * 5 + [429] * 2
    # And the reviewer still signs in from another network
    async with _client_at(app, ("2001:db8:67:1::1", 40000)) as office:
        csrf = _csrf((await office.get("/backoffice/login")).text)
        assert (await _post_login(office, csrf, "lin", PASSWORD, otp.at(clock.now()))).status_code == 303
