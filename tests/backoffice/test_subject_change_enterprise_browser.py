"""CHG-3 end to end with a real browser (headless Debian Chromium through Playwright) for the reviewer: an
enterprise account starts a change to another enterprise over the API, submits the details, its contact
passes the face check, the form is downloaded and comes back stamped; a reviewer signs in to the back
office, claims the item in the 2-working-day queue and approves it; the account accepts and the new
enterprise verifies with the change's ID, after which the account's verification is the new enterprise
(until then it stays the original one).

RULES: CHG-3 REV-3 REV-4

The app is served on a loopback port and the API is driven over real HTTP (httpx against that port).
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from services.clock import ManualClock
from settings import Settings
from tests.api.test_appeals import _upload
from tests.api.test_enterprise import legal_rep_face
from tests.api.test_subject_change_enterprise import (
    NEW_NAME,
    NEW_USCC,
    at_form,
    enterprise_account,
    face_pass_at,
    new_organisation,
    node,
    stamped_form,
    verification_name,
)
from tests.backoffice.test_browser import CHROMIUM, PASSWORD
from tests.backoffice.test_enterprise_browser import CHROMIUM_ARGS, _add_reviewer, _api
from tests.helpers import mutate

CHANGE = "实名认证主体变更 / verified subject change"


def test_chg_3_a_reviewer_approves_a_change_to_another_enterprise_and_the_new_one_verifies(
    served_at: tuple[str, Starlette], settings: Settings, clock: ManualClock
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, app = served_at
    otp = _add_reviewer(settings, app)

    # 1. The account holder, over the API: details, the contact's face check, the form, the stamped copy
    async def to_review(client: httpx.AsyncClient) -> tuple[str, dict[str, Any], str]:
        token = await enterprise_account(client)
        change = await at_form(client, token, clock)
        form = await client.get(change["formDownloadUrl"], headers={"authorization": f"Bearer {token}"})
        assert form.status_code == 200
        submitted = await stamped_form(client, token, change["id"], await _upload(client, token))
        assert submitted["errors"] == [], submitted
        return token, submitted["subjectChange"], form.text

    token, change, form = _api(base, to_review)
    assert change["state"] == "IN_REVIEW"
    assert NEW_NAME in form

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        # 2. The reviewer: password + TOTP, the 2-day queue, the change, both subjects side by side
        page = browser.new_context().new_page()
        page.goto(f"{base}/backoffice/login")
        page.get_by_label("Username").fill("lin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Authenticator code").fill(otp.at(clock.now()))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/backoffice/queues/2")
        row = page.get_by_role("row").filter(has_text=CHANGE)
        expect(row).to_have_count(1)
        row.get_by_role("link").first.click()
        page.wait_for_url(f"{base}/backoffice/items/*")
        expect(page.get_by_role("heading", name=CHANGE)).to_be_visible()
        for fact in ("示例科技有限公司", NEW_NAME, NEW_USCC, "业务整体转让给新公司"):
            expect(page.get_by_text(fact, exact=False).first).to_be_visible()
        page.get_by_role("button", name="Claim").click()
        expect(page.get_by_text("Held by Lin")).to_be_visible()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_text("State 已通过 / approved")).to_be_visible()
        browser.close()

    # 3. The account: acceptance, then the new enterprise verifies inside the change
    async def after_approval(client: httpx.AsyncClient) -> tuple[dict[str, Any], str, str, dict[str, Any]]:
        approved = await node(client, token)
        accepted = await mutate(
            client,
            "subjectChangeAccept",
            {"changeId": change["id"], "acceptanceAgreement": {"version": "2026-12"}},
            "subjectChange { state }",
            token,
        )
        assert accepted["errors"] == [], accepted
        started = await legal_rep_face(client, token, organisation=new_organisation(), changeId=change["id"])
        assert started["errors"] == [], started
        before = await verification_name(client, token)
        await face_pass_at(client, started)
        return approved, before, await verification_name(client, token), await node(client, token)

    approved, before, after, done = _api(base, after_approval)
    assert approved["state"] == "ACCEPTANCE_PENDING"
    assert before == "示例科技有限公司"  # until the new subject passes, the original stays verified
    assert after == NEW_NAME
    assert done["state"] == "COMPLETED"
