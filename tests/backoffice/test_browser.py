"""The back office in a real browser (headless Debian Chromium through Playwright): a reviewer signs
in with password + TOTP, opens the 5-day queue, claims a phone-rebind appeal and approves it
(REV-2, REV-3, REV-4, REV-6, APL-2)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace

import pyotp
import pytest
from sqlalchemy import select

from app import create_app
from models.accounts import Account
from models.auth import AuthSession
from services.appeals import service as appeals
from services.database import Database, run_write
from services.review import reviewers
from services.review import service as review
from services.security import new_token, token_hash
from tests.loopback import listening_socket, port_of, serve_in_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "Staff-Only-Passphrase-1"

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


@pytest.fixture
def served(settings, db) -> Iterator[tuple[str, object]]:
    """The app on loopback (development settings: plain-http cookies), in a thread of its own.

    `db` empties the PostgreSQL test database first, as for every test."""
    dev = replace(settings, environment="development")
    app = create_app(dev)
    sock = listening_socket()
    with serve_in_thread(app, sock):
        yield f"http://127.0.0.1:{port_of(sock)}", app


def _seed(settings, app) -> tuple[str, int, str]:
    """A reviewer, and a phone-rebind appeal waiting in the 5-day queue of an account holder who is
    signed in; returns (TOTP URI, item ID, the account holder's bearer token)."""

    async def main() -> tuple[str, int, str]:
        db = Database(settings.database_url)
        deps = app.state.deps
        try:
            created = await run_write(db, deps, reviewers.add_reviewer, username="lin", display_name="Lin",
                                      role="reviewer", password=PASSWORD)  # fmt: skip
            async with db.write_sessions() as s:
                account = Account(kind="cloud", status="active", account_number=1000000000000099,
                                  phone="+8613700000001", idle_timeout_minutes=60, op_protection_sms=True,
                                  op_protection_totp=False, login_protection_sms=False,
                                  login_protection_totp=False, created_at=deps.clock.now())  # fmt: skip
                s.add(account)
                await s.commit()
                from models.appeals import Appeal

                appeal = Appeal(kind=appeals.KIND, account_id=account.id, subject_type="person",
                                new_phone="+8613900000009", state="submitted", created_at=deps.clock.now())  # fmt: skip
                s.add(appeal)
                await s.commit()
                appeal_id, account_id = appeal.id, account.id
            item = await run_write(db, deps, review.submit, kind=appeals.KIND, subject_id=appeal_id,
                                   account_id=account_id, queue_days=5)  # fmt: skip
            token = new_token("acs")
            async with db.write_sessions() as s:
                now = deps.clock.now()
                s.add(AuthSession(account_id=account_id, token_hash=token_hash(token), method="sms",
                                  created_at=now, last_seen_at=now))  # fmt: skip
                await s.commit()
            return created.provisioning_uri, item.id, token
        finally:
            await db.dispose()

    return asyncio.run(main())


def test_rev_6_rev_3_a_reviewer_signs_in_claims_and_approves_in_chromium(served, settings) -> None:
    from playwright.sync_api import sync_playwright

    base, app = served
    uri, item_id, account_token = _seed(settings, app)
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
        assert "手机号换绑申诉 / phone-rebind appeal" in page.content()  # REV-2: the kind in words
        page.click(f"a[href='/backoffice/items/{item_id}']")
        page.click("button:has-text('Claim')")
        page.wait_for_selector("button:has-text('Approve')")
        page.click("button:has-text('Approve')")
        page.wait_for_selector("text=approved")
        trail = page.inner_text("body")
        # A POST without the CSRF token is refused, even with the reviewer's cookie
        assert page.request.post(f"{base}/backoffice/items/{item_id}/release").status == 403
        # An account holder's bearer token opens nothing (a fresh context has no back-office cookie)
        holder = browser.new_context()
        headers = {"authorization": f"Bearer {account_token}"}
        assert holder.request.get(f"{base}/backoffice/queues/5", headers=headers, max_redirects=0).status == 303
        assert holder.request.post(f"{base}/backoffice/items/{item_id}/claim", headers=headers).status == 401
        browser.close()
    assert "领取 / claimed" in trail
    assert "通过 / approved" in trail
    assert "The account's other reviews" in trail

    async def phone() -> str:
        db = Database(settings.database_url)
        try:
            async with db.read_sessions() as s:
                account = await s.scalar(select(Account))
                assert account is not None
                return account.phone
        finally:
            await db.dispose()

    assert asyncio.run(phone()) == "+8613900000009"
