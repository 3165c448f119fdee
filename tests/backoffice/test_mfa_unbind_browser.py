"""Issue 7, end to end in a real browser (headless Debian Chromium through Playwright): a user whose
login protection asks for the virtual MFA device (TOTP only) loses the device and files an MFA-unbind
appeal with the three materials; a reviewer signs in to the back office with password + TOTP, finds the
appeal in the 5-working-day queue, claims it and approves it; the user can then sign in with the
password alone.

RULES: APL-1 MFA-6 REV-3

The app is served by uvicorn on a loopback port with the test clock (TOTP codes and due times follow
it), and the API is driven over real HTTP with the helpers of tests/api/test_mfa.py and
tests/api/test_mfa_unbind_appeal.py.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from services.clock import ManualClock
from settings import Settings
from tests.api.test_appeals import PERSON
from tests.api.test_mfa import PHONE, bind, password_sign_in, security, set_protections
from tests.api.test_mfa_unbind_appeal import _file, _materials
from tests.backoffice.test_browser import CHROMIUM, PASSWORD
from tests.backoffice.test_enterprise_browser import CHROMIUM_ARGS, _add_reviewer, _api, _viewer
from tests.backoffice.test_labels_browser import PERSON_CAPTIONS
from tests.helpers import registered_and_signed_in, step_up

MFA_UNBIND = "MFA 解绑申诉 / MFA-unbind appeal"
APPEALS = "appeals(first: 1) { edges { node { kind status dueAt } } }"


def _appeal_filed_for_a_lost_device(base: str, clock: ManualClock) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Register and sign in, bind a device, turn login protection to TOTP only, then file the appeal with
    the three materials; returns (token, the password sign-in's answer before, the filing's payload)."""

    async def call(client: httpx.AsyncClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
        token = await registered_and_signed_in(client)
        await bind(client, token, clock)
        protected = await set_protections(
            client, token, await step_up(client, token, PHONE), (False, True), (True, False)
        )
        assert protected["errors"] == [], protected
        before = await password_sign_in(client)
        filed = await _file(client, token, await _materials(client, token))
        return token, before, filed

    return _api(base, call)


def _password_sign_in(base: str) -> dict[str, Any]:
    async def call(client: httpx.AsyncClient) -> dict[str, Any]:
        return await password_sign_in(client)

    return _api(base, call)


def _security(base: str, token: str) -> dict[str, Any]:
    async def call(client: httpx.AsyncClient) -> dict[str, Any]:
        return await security(client, token)

    return _api(base, call)


def test_apl_1_mfa_6_rev_3_an_approved_mfa_unbind_appeal_lets_the_password_alone_sign_in(
    served_at: tuple[str, Starlette], settings: Settings, clock: ManualClock
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, app = served_at
    otp = _add_reviewer(settings, app)

    # 1. The account holder, over the API: login protection with TOTP only, then the device is lost
    token, before, filed = _appeal_filed_for_a_lost_device(base, clock)
    assert before["token"] is None
    assert before["challenge"]["factors"] == ["TOTP", "RECOVERY_CODE"]
    assert filed["errors"] == []
    assert (filed["appeal"]["kind"], filed["appeal"]["status"]) == ("MFA_UNBIND", "SUBMITTED")
    assert filed["appeal"]["requiredMaterials"] == list(PERSON)
    # APL-1: 5 working days, due at the end of Thursday 12-03 in Shanghai
    assert _viewer(base, token, APPEALS)["appeals"]["edges"][0]["node"] == {
        "kind": "MFA_UNBIND",
        "status": "SUBMITTED",
        "dueAt": "2026-12-03T15:59:59+00:00",
    }

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        # 2. The reviewer: password + TOTP, the 5-day queue, the appeal with its facts and material
        page = browser.new_context().new_page()
        page.goto(f"{base}/backoffice/login")
        page.get_by_label("Username").fill("lin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Authenticator code").fill(otp.at(clock.now()))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/backoffice/queues/2")
        expect(page.get_by_role("row").filter(has_text=MFA_UNBIND)).to_have_count(0)  # not the 2-day queue
        page.get_by_role("link", name="5-day queue").click()
        page.wait_for_url(f"{base}/backoffice/queues/5")
        expect(page.get_by_role("heading", name="5-working-day queue")).to_be_visible()
        row = page.get_by_role("row").filter(has_text=MFA_UNBIND)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("pending")
        expect(row).to_contain_text("2026-12-03 23:59")  # REV-1: due time in Asia/Shanghai
        row.get_by_role("link").first.click()
        page.wait_for_url(f"{base}/backoffice/items/*")
        expect(page.get_by_role("heading", name=MFA_UNBIND)).to_be_visible()
        facts = page.get_by_role("heading", name="To decide on").locator("..")
        for fact in ("MFA unbind (APL-1)", "person", "2026-11-26 10:00"):
            expect(facts).to_contain_text(fact)
        for caption in PERSON_CAPTIONS:  # each material labelled with its role (REV-2)
            expect(page.get_by_role("img", name=caption)).to_have_count(1)

        # REV-3: claim first, then approve
        page.get_by_role("button", name="Claim").click()
        expect(page.get_by_text("Held by Lin")).to_be_visible()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_text("State 已通过 / approved")).to_be_visible()
        expect(page.get_by_text("No action for you in this state.")).to_be_visible()
        trail = page.get_by_role("heading", name="Audit trail").locator("..")
        actions = trail.locator("tbody tr td:nth-child(2)").all_inner_texts()
        browser.close()
    assert actions == ["提交 / submitted", "领取 / claimed", "通过 / approved"]

    # 3. The account holder: the device is gone, the appeal approved, and the password alone signs in
    state = _security(base, token)
    assert state["mfaDeviceBoundAt"] is None
    assert state["loginProtection"] == {"enabled": False, "factors": []}
    assert _viewer(base, token, APPEALS)["appeals"]["edges"][0]["node"]["status"] == "APPROVED"
    after = _password_sign_in(base)
    assert after["errors"] == []
    assert after["challenge"] is None
    assert after["token"] is not None
    assert _viewer(base, after["token"], "username") == {"username": "alice01"}
