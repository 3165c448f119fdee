"""A cancelled account's item in a real browser (headless Debian Chromium through Playwright): the queue row
and the item page read as cancelled, and nothing of the person shows: no name, phone, ID number, material
(CAN-6, REV-2)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace

import pyotp
import pytest

from app import create_app
from models.accounts import Account
from models.appeals import Appeal, AppealDocument
from models.verification import Verification
from services.accounts.erasure import erase_personal_data
from services.appeals import service as appeals
from services.database import Database, run_write
from services.documents import service as documents
from services.review import reviewers
from services.review import service as review
from services.uow import Uow
from tests.api.test_uploads import _png
from tests.loopback import listening_socket, port_of, serve_in_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "Staff-Only-Passphrase-1"
NAME = "赵六"
PHONE = "+8613911116666"
NEW_PHONE = "+8613911117777"
ID_NUMBER = "11010519491231002X"
PERSONAL = [NAME, "13911116666", "139****6666", "13911117777", "139****7777", ID_NUMBER, "brodie77"]

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


@pytest.fixture
def served(settings, db) -> Iterator[tuple[str, object]]:
    """The app on loopback (development settings: plain-http cookies), in a thread of its own."""
    dev = replace(settings, environment="development")
    app = create_app(dev)
    sock = listening_socket()
    with serve_in_thread(app, sock):
        yield f"http://127.0.0.1:{port_of(sock)}", app


async def _seed_cancelled(uow: Uow) -> int:
    """A verified account's phone-rebind appeal with an ID photo in the 5-day queue, then the account
    cancelled and its personal data erased: the item's ID."""
    now = uow.now()
    account = Account(kind="cloud", status="active", account_number=1000000000000077, username="brodie77",
                      username_key="brodie77", phone=PHONE, created_at=now)  # fmt: skip
    uow.session.add(account)
    await uow.session.flush()
    uow.session.add(Verification(account_id=account.id, subject_type="person", status="verified", method="face",
                                 name=NAME, document_type="MAINLAND_ID_CARD", document_key="k" * 64,
                                 document_sealed="sealed", document_masked="1****************X", verified_at=now))  # fmt: skip
    document = await documents.store(uow, account.id, await documents.prepare_async("id.png", _png()))
    appeal = Appeal(kind=appeals.KIND, account_id=account.id, subject_type="person", new_phone=NEW_PHONE,
                    state="submitted", created_at=now)  # fmt: skip
    uow.session.add(appeal)
    await uow.session.flush()
    uow.session.add(
        AppealDocument(appeal_id=appeal.id, role="ID_CARD_IN_HAND", document_id=document.id, created_at=now)
    )
    item = await review.submit(uow, kind=appeals.KIND, subject_id=appeal.id, account_id=account.id, queue_days=5)
    appeal.review_item_id = item.id
    account.status = "cancelled"  # the cancellation flow's part (CAN-1..5), then its erasure (CAN-6)
    await uow.session.flush()
    await erase_personal_data(uow, account.id)
    return item.id


def _seed(settings, app) -> tuple[str, int]:
    async def main() -> tuple[str, int]:
        db = Database(settings.database_url)
        deps = app.state.deps
        try:
            created = await run_write(db, deps, reviewers.add_reviewer, username="lin", display_name="Lin",
                                      role="reviewer", password=PASSWORD)  # fmt: skip
            item_id = await run_write(db, deps, _seed_cancelled)
            assert isinstance(created, reviewers.NewReviewer), created
            assert isinstance(item_id, int), item_id
            return created.provisioning_uri, item_id
        finally:
            await db.dispose()

    return asyncio.run(main())


def test_can_6_a_cancelled_accounts_item_shows_no_personal_data_in_chromium(served, settings) -> None:
    from playwright.sync_api import sync_playwright

    base, app = served
    uri, item_id = _seed(settings, app)
    otp = pyotp.parse_uri(uri)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page()
        page.goto(f"{base}/backoffice/login")
        page.fill("input[name=username]", "lin")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=code]", otp.now())
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/backoffice/queues/2")
        page.click("text=5-day queue")
        page.wait_for_url(f"{base}/backoffice/queues/5")
        row = page.locator(f"tr:has(a[href='/backoffice/items/{item_id}'])")
        assert row.locator(".badge.cancelled").inner_text() == "Cancelled account"
        queue_text = page.inner_text("body")
        page.click(f"a[href='/backoffice/items/{item_id}']")
        page.wait_for_url(f"{base}/backoffice/items/{item_id}")
        assert page.locator(".badge.cancelled").inner_text() == "Cancelled account"
        item_text = page.inner_text("body")
        html = page.content()
        images = page.locator("img").count()
        material = page.request.get(f"{base}/backoffice/items/{item_id}/materials/1")
        browser.close()
    assert "cancelled account #" in item_text
    assert "Personal data erased on cancellation (CAN-6)" in item_text
    assert images == 0  # no material shown
    assert material.status == 410
    for text in (queue_text, item_text, html):
        assert [value for value in PERSONAL if value in text] == []
