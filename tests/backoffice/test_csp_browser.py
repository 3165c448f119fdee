"""The back office and sandbox pages in Chromium under their Content-Security-Policy: the stylesheet
applies and the browser reports no violation."""

from __future__ import annotations

from middleware import PAGE_CSP
from tests.backoffice.test_browser import CHROMIUM

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]  # fmt: skip


def test_pages_are_styled_and_break_no_csp_rule_in_chromium(served_at) -> None:
    from playwright.sync_api import sync_playwright

    base, _app = served_at
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        # A violation is reported to the page as an event; collect them on the window
        page.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));"
        )
        checks = {
            "/backoffice/login": ("body", "background-color", "rgb(246, 247, 251)"),
            "/sandbox/outbox": ("input[name=to]", "width", "288px"),
            "/sandbox/face/unknown": ("body", "max-width", "448px"),
        }
        for path, (selector, prop, expected) in checks.items():
            response = page.goto(f"{base}{path}")
            assert response is not None
            assert response.headers["content-security-policy"] == PAGE_CSP
            styled = page.eval_on_selector(selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')")
            assert styled == expected, path
            assert page.evaluate("window.__violations") == [], path
        browser.close()
    assert not [text for text in console if "Content Security Policy" in text]
