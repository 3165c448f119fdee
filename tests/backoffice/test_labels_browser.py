"""Issue 13 item 11, in headless Chromium: the back office shows kinds, states, audit actions and reasons in
words, labels every submitted material with its role (an other organisation's certificate named for its
type, ORG-4, and authorisation letter; a phone-rebind appeal's three materials), opens each full size with
keyboard-operable zoom and rotate controls under the page's CSP, and shows each queue's open and overdue
counts beside its link, the access key a title hint rather than a number.

RULES: REV-2 REV-4 ORG-4

The app is served by uvicorn on a loopback port (tests/backoffice/conftest.py), the API driven over real
HTTP with the helpers of tests/api.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import httpx
from PIL import Image
from starlette.applications import Starlette

from middleware import VIEWER_CSP
from services.clock import SHANGHAI, ManualClock
from services.review.kinds import REASON_LABELS, RejectReason
from settings import Settings
from tests.api.test_appeals import _file as file_rebind
from tests.api.test_appeals import _materials, _upload
from tests.api.test_enterprise import USCC_SOCIAL_GROUP, legal_rep_face, organisation
from tests.api.test_verification import ID_2008
from tests.backoffice.test_browser import CHROMIUM, PASSWORD
from tests.backoffice.test_enterprise_browser import CHROMIUM_ARGS, _add_reviewer, _api
from tests.helpers import registered_and_signed_in

ENTERPRISE = "企业实名认证 / enterprise real-name verification"
REBIND = "手机号换绑申诉 / phone-rebind appeal"
PENDING = "待领取 / pending, unclaimed"
CERTIFICATE = (
    "组织证照 / organisation's certificate: 社会团体法人登记证书 / Social-group legal-person registration certificate"
)
LETTER = "法定代表人授权书（签字并盖章） / authorisation letter, signed and stamped"
PERSON_CAPTIONS = [
    "手持身份证照片（正反面） / ID card held in hand, both sides",
    "签字的申请函 / signed application letter",
    "付款凭证（发票或付款确认） / payment proof (invoice or payment confirmation)",
]
TRANSFORM = "i => getComputedStyle(i).transform"
TUESDAY_10_AM = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # the 2-day item (due Monday) is overdue


def _seed(base: str) -> None:
    """An other organisation's verification in the 2-day review (certificate and authorisation letter), and a
    phone-rebind appeal of another account in the 5-day queue (the person's three materials)."""

    async def call(client: httpx.AsyncClient) -> None:
        token = await registered_and_signed_in(client)
        landscape = io.BytesIO()
        Image.new("RGB", (40, 20), (200, 30, 30)).save(landscape, format="PNG")  # a certificate, landscape
        uploaded = await client.post("/uploads", files={"file": ("licence.png", landscape.getvalue())},
                                     headers={"authorization": f"Bearer {token}"})  # fmt: skip
        assert uploaded.status_code == 201
        org = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
        started = await legal_rep_face(
            client, token, organisation={**org, "certificateUploadId": uploaded.json()["id"]},
            faceBy="AUTHORISED_EMPLOYEE", employeeName="李四", employeeIdNumber=ID_2008,
            authorisationLetterUploadId=await _upload(client, token),
        )  # fmt: skip
        assert started["errors"] == [], started
        passed = await client.post(started["faceCheckStart"]["faceCheck"]["url"], data={"outcome": "pass"})
        assert passed.status_code == 200, passed.text
        bob = await registered_and_signed_in(client, "bob0001", "13700000002")
        filed = await file_rebind(client, bob, await _materials(client, bob))
        assert filed["errors"] == [], filed

    _api(base, call)


def test_rev_2_rev_4_org_4_labels_words_counts_and_the_zoom_and_rotate_viewer_in_chromium(
    served_at: tuple[str, Starlette], settings: Settings, clock: ManualClock
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, app = served_at
    otp = _add_reviewer(settings, app)
    _seed(base)
    clock.set(TUESDAY_10_AM)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{base}/backoffice/login")
        page.get_by_label("Username").fill("lin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Authenticator code").fill(otp.at(clock.now()))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/backoffice/queues/2")

        # REV-2: each queue's open and overdue counts beside its link; the access key is a title hint
        nav = page.get_by_role("navigation", name="Queues")
        two, five = nav.get_by_role("link", name="2-day queue"), nav.get_by_role("link", name="5-day queue")
        expect(two).to_have_text("2-day queue")  # no bare number beside the name
        expect(two).to_have_attribute("accesskey", "2")
        expect(two).to_have_attribute("title", "Access key 2 (Alt+Shift+2)")
        expect(nav.locator("[data-queue='2']")).to_have_text("1 open · 1 overdue")
        expect(nav.locator("[data-queue='5']")).to_have_text("1 open · 0 overdue")
        expect(five).to_have_attribute("title", "Access key 5 (Alt+Shift+5)")

        # Kinds and states in words in the queue and its filters
        row = page.get_by_role("row").filter(has_text=ENTERPRISE)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(PENDING)
        expect(row).to_contain_text("overdue")
        expect(page.get_by_role("row").filter(has_text="enterprise_verification")).to_have_count(0)
        expect(page.get_by_label("Kind").locator("option", has_text=REBIND)).to_have_count(1)
        expect(
            page.get_by_label("State").locator("option", has_text="待用户补充材料 / waiting for the user's material")
        ).to_have_count(1)

        # ORG-4: the item page shows the certificate named for the type beside the application, labelled
        row.get_by_role("link").first.click()
        page.wait_for_url(f"{base}/backoffice/items/*")
        item_url = page.url
        expect(page.get_by_role("heading", name=ENTERPRISE)).to_be_visible()
        expect(page.get_by_text(f"State {PENDING}")).to_be_visible()
        captions = page.locator("figure.material figcaption")
        expect(captions).to_have_count(2)
        expect(captions.nth(0)).to_contain_text(CERTIFICATE)
        expect(captions.nth(1)).to_contain_text(LETTER)
        expect(page.get_by_role("img", name=CERTIFICATE)).to_be_visible()
        expect(page.get_by_role("img", name=LETTER)).to_be_visible()

        # The viewer, by keyboard: focus the certificate, Enter opens it full size
        page.get_by_role("link", name=CERTIFICATE).focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{item_url}/materials/1")
        expect(page.get_by_role("heading", name=f"Material 1 of 2: {CERTIFICATE}")).to_be_visible()
        image, frame = page.locator("#viewer-image"), page.locator("#viewer-frame")
        status = page.get_by_role("status")
        expect(status).to_have_text("100 % · 0°")
        size = "e => [e.offsetWidth, e.offsetHeight]"
        assert image.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]") == [True, 40, 20]
        assert image.evaluate(size) == [40, 20]
        page.keyboard.type("+")
        expect(status).to_have_text("150 % · 0°")
        assert (image.evaluate(size), frame.evaluate(size)) == ([60, 30], [60, 30])
        page.keyboard.type("r")  # a quarter turn: the frame stands upright around the image
        expect(status).to_have_text("150 % · 90°")
        assert (image.evaluate(size), frame.evaluate(size)) == ([60, 30], [30, 60])
        assert not image.evaluate(TRANSFORM).startswith("matrix(1, 0, 0, 1,")
        page.keyboard.type("--")
        expect(status).to_have_text("75 % · 90°")
        assert frame.evaluate(size) == [15, 30]
        page.get_by_role("button", name="Rotate").click()  # the same by pointer
        page.get_by_role("button", name="Zoom in").click()
        expect(status).to_have_text("100 % · 180°")
        assert frame.evaluate(size) == [40, 20]
        page.keyboard.type("0")
        expect(status).to_have_text("100 % · 0°")
        assert image.evaluate(TRANSFORM).startswith("matrix(1, 0, 0, 1,")  # upright again
        # n: the next material; Escape: back to the item
        page.keyboard.type("n")
        page.wait_for_url(f"{item_url}/materials/2")
        expect(page.get_by_role("heading", name=f"Material 2 of 2: {LETTER}")).to_be_visible()
        viewer_csp = page.request.get(page.url).headers["content-security-policy"]
        page.keyboard.press("Escape")
        page.wait_for_url(item_url)

        # REV-4: the reasons in words, the ORG-4 ones named; reject for one and read the trail in words
        page.get_by_role("button", name="Claim").click()
        reasons = page.get_by_label("Reason")
        for reason in (RejectReason.CERTIFICATE_NOT_ORIGINAL, RejectReason.CERTIFICATE_NOT_LEGIBLE,
                       RejectReason.CERTIFICATE_ALTERED, RejectReason.CERTIFICATE_WRONG_TYPE):  # fmt: skip
            expect(reasons.locator(f"option[value={reason.value}]")).to_have_text(reason.label)
        reasons.select_option(RejectReason.CERTIFICATE_NOT_LEGIBLE.value)
        page.get_by_role("button", name="Reject").click()
        expect(page.get_by_text("State 已驳回 / rejected")).to_be_visible()
        trail = page.get_by_role("heading", name="Audit trail").locator("..")
        actions = trail.locator("tbody tr td:nth-child(2)").all_inner_texts()
        reason_cells = trail.locator("tbody tr td:nth-child(4)").all_inner_texts()
        expect(nav.locator("[data-queue='2']")).to_have_text("0 open · 0 overdue")

        # The appeal in the 5-day queue: its three materials labelled, in the order sent
        five.click()
        page.wait_for_url(f"{base}/backoffice/queues/5")
        page.get_by_role("row").filter(has_text=REBIND).get_by_role("link").first.click()
        page.wait_for_url(f"{base}/backoffice/items/*")
        expect(page.get_by_role("heading", name=REBIND)).to_be_visible()
        shown: list[Any] = page.locator("figure.material img").evaluate_all("imgs => imgs.map(i => i.alt)")
        browser.close()

    assert viewer_csp == VIEWER_CSP
    # No page, the viewer and its script included, broke its CSP
    assert not [text for text in console if "Content Security Policy" in text]
    assert actions == ["提交 / submitted", "领取 / claimed", "驳回 / rejected"]
    assert reason_cells[-1] == " / ".join(REASON_LABELS[RejectReason.CERTIFICATE_NOT_LEGIBLE])
    assert shown == PERSON_CAPTIONS
