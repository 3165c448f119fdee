"""Issue 6, end to end in a real browser (headless Debian Chromium through Playwright): an
other-organisation verification passes the face check on the sandbox face page, a reviewer signs in to
the back office with password + TOTP, sees the authorisation letter, claims the item in the
2-working-day queue and approves it, and the account's `verification` shows the organisation as
verified with the ENT-2 entitlements of a non-general organisation (the SMS service, no special VAT
invoice).

RULES: RNE-3 REV-3 REV-4 ENT-2

The app is served by uvicorn on a loopback port and the API is driven over real HTTP (httpx against
that port), with the GraphQL helpers of tests/api/test_enterprise.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pyotp
from starlette.applications import Starlette

from services.clock import SHANGHAI, ManualClock
from services.database import Database, run_write
from services.errors import ServiceError
from services.review import reviewers
from settings import Settings
from tests.api.test_appeals import _upload
from tests.api.test_enterprise import USCC_SOCIAL_GROUP, legal_rep_face, organisation
from tests.api.test_verification import ID_2008
from tests.backoffice.test_browser import CHROMIUM, PASSWORD
from tests.helpers import gql, registered_and_signed_in

T = TypeVar("T")
THURSDAY_10_AM = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # the 2-day review is due Monday night
SOCIAL_GROUP = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
# The image's alt text: the material's role in words (services/review/labels.py)
LETTER_ALT = "法定代表人授权书（签字并盖章） / authorisation letter, signed and stamped"
ENTERPRISE = "企业实名认证 / enterprise real-name verification"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on an event loop of its own in a worker thread: Playwright's sync API keeps its
    own loop marked as running on this thread, so asyncio.run cannot be called here directly."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _api(base: str, call: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """`call` with an httpx client talking to the served app over the loopback network."""

    async def main() -> T:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            return await call(client)

    return _run(main)


def _add_reviewer(settings: Settings, app: Starlette) -> pyotp.TOTP:
    """A reviewer (not a lead), created the way `cli.py add-reviewer` does; returns their authenticator."""

    async def main() -> pyotp.TOTP:
        db = Database(settings.database_url)
        try:
            created = await run_write(db, app.state.deps, reviewers.add_reviewer, username="lin", display_name="Lin",
                                      role="reviewer", password=PASSWORD)  # fmt: skip
            assert not isinstance(created, ServiceError), created
            otp = pyotp.parse_uri(created.provisioning_uri)
            assert isinstance(otp, pyotp.TOTP)
            return otp
        finally:
            await db.dispose()

    return _run(main)


def _started_with_an_authorised_employee(base: str) -> tuple[str, dict[str, Any]]:
    """Step 1: register and sign in, upload the authorisation letter, start the face verification of a
    social group (an other organisation) by an authorised employee; returns (token, payload)."""

    async def call(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
        token = await registered_and_signed_in(client)
        letter = await _upload(client, token)
        started = await legal_rep_face(client, token, organisation=SOCIAL_GROUP, faceBy="AUTHORISED_EMPLOYEE",
                                       employeeName="李四", employeeIdNumber=ID_2008,
                                       authorisationLetterUploadId=letter)  # fmt: skip
        return token, started

    return _api(base, call)


def _viewer(base: str, token: str, selection: str) -> dict[str, Any]:
    async def call(client: httpx.AsyncClient) -> dict[str, Any]:
        return dict((await gql(client, f"{{ viewer {{ {selection} }} }}", token=token))["viewer"])

    return _api(base, call)


IN_REVIEW = "enterpriseVerifications(first: 1) { edges { node { status review { dueAt } } } }"
OUTCOME = (
    "verification { __typename status ... on EnterpriseVerification { organisationType } } "
    "entitlements { specialVatInvoice smsService invoices cloudServices }"
)


def test_rne_3_rev_3_an_other_organisation_is_approved_in_the_back_office_in_chromium(
    served_at: tuple[str, Starlette], settings: Settings, clock: ManualClock
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, app = served_at
    otp = _add_reviewer(settings, app)

    # 1. The account holder, over the API: an authorised employee of a social group starts (RNE-3)
    token, started = _started_with_an_authorised_employee(base)
    assert started["errors"] == []
    node = started["faceCheckStart"]["enterpriseVerification"]
    assert (node["status"], node["faceBy"], node["organisationType"]) == (
        "FACE_CHECK_PENDING",
        "AUTHORISED_EMPLOYEE",
        "SOCIAL_GROUP",
    )
    face_url = started["faceCheckStart"]["faceCheck"]["url"]
    assert face_url.startswith(f"{base}/sandbox/face/"), face_url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        # 2. The phone's side: the sandbox face page, Pass
        phone = browser.new_context().new_page()
        phone.goto(face_url)
        expect(phone.get_by_role("heading", name="Sandbox face check")).to_be_visible()
        expect(phone.locator("dd", has_text="*四")).to_be_visible()  # the employee, not the representative
        phone.get_by_role("button", name="Pass").click()
        expect(phone.get_by_role("status")).to_have_text("Passed. Return to the console to follow the verification.")

        # 3. Not verified yet: in the 2-working-day review, due at the end of Monday in Shanghai
        waiting = _viewer(base, token, f"{IN_REVIEW} {OUTCOME}")
        assert waiting["enterpriseVerifications"]["edges"][0]["node"] == {
            "status": "IN_REVIEW",
            "review": {"dueAt": "2026-11-30T15:59:59+00:00"},
        }
        assert waiting["entitlements"]["invoices"] is False

        # 4. The reviewer, in the back office: password + TOTP, the 2-day queue, the item, the letter
        page = browser.new_context().new_page()
        page.goto(f"{base}/backoffice/login")
        page.get_by_label("Username").fill("lin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Authenticator code").fill(otp.at(clock.now()))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/backoffice/queues/2")
        page.get_by_role("link", name="2-day queue").click()
        page.wait_for_url(f"{base}/backoffice/queues/2")
        expect(page.get_by_role("heading", name="2-working-day queue")).to_be_visible()
        row = page.get_by_role("row").filter(has_text=ENTERPRISE)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("pending")
        expect(row).to_contain_text("2026-11-30 23:59")  # REV-1: due time in Asia/Shanghai
        row.get_by_role("link").first.click()
        page.wait_for_url(f"{base}/backoffice/items/*")
        expect(page.get_by_role("heading", name=ENTERPRISE)).to_be_visible()
        facts = page.get_by_role("heading", name="To decide on").locator("..")
        for fact in ("示例市软件行业协会", USCC_SOCIAL_GROUP, "李四"):  # the organisation and the authorised employee
            expect(facts).to_contain_text(fact)
        letter = page.get_by_role("img", name=LETTER_ALT)
        expect(letter).to_be_visible()
        # The image really loaded in the reviewer's browser (ORG-3: served to reviewers only)
        assert letter.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]") == [True, 24, 24]
        src = letter.get_attribute("src")
        assert src is not None
        assert src.startswith("/backoffice/documents/")
        assert page.request.get(f"{base}{src}").headers["content-type"] == "image/png"
        assert httpx.get(f"{base}{src}", follow_redirects=False).status_code == 303  # no reviewer cookie

        # REV-3: claim first, then REV-4: approve
        page.get_by_role("button", name="Claim").click()
        expect(page.get_by_text("Held by Lin")).to_be_visible()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_text("State 已通过 / approved")).to_be_visible()
        expect(page.get_by_text("No action for you in this state.")).to_be_visible()
        trail = page.get_by_role("heading", name="Audit trail").locator("..")
        expect(trail.get_by_role("row").filter(has_text="Lin")).to_have_count(2)
        actions = trail.locator("tbody tr td:nth-child(2)").all_inner_texts()
        browser.close()
    # REV-5: the audit trail, oldest first, in words (REV-2)
    assert actions == ["提交 / submitted", "领取 / claimed", "通过 / approved"]

    # 5. The account: the organisation is verified; ENT-2: the SMS service, but special VAT invoices
    # only for general enterprises
    assert _viewer(base, token, OUTCOME) == {
        "verification": {
            "__typename": "EnterpriseVerification",
            "status": "VERIFIED",
            "organisationType": "SOCIAL_GROUP",
        },
        "entitlements": {"specialVatInvoice": False, "smsService": True, "invoices": True, "cloudServices": True},
    }
