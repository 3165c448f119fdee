"""The example console (examples/web, built by `make example`) in headless Chromium, served from an origin
of its own and calling the API on another through CORS: register with the code from the sandbox outbox,
sign in, see the account and its sessions, start a face verification and pass it, sign out (REG-2, REG-5,
AUTH-1, AUTH-4, RNP-2). Refusals of three mutations go through the one error fragment, which marks the
control at the error's path and signs the console out on AUTHENTICATION_REQUIRED. A second origin the API
does not list gets nothing."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import create_app
from tests.backoffice.test_browser import CHROMIUM
from tests.helpers import PASSWORD
from tests.loopback import listening_socket, port_of, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "examples" / "web" / "dist"
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"  # GB 11643-valid; the sandbox registry knows it for any name but 王不符
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


def _built_console() -> Path:
    """examples/web/dist: CI builds it first (`make example`), and fails here without it; a developer's run
    builds it when Node.js is installed."""
    if (DIST / "index.html").is_file() and (DIST / "app.js").is_file():
        return DIST
    if os.environ.get("CI") == "true":
        pytest.fail("examples/web/dist is missing: `make example` must run before the tests (.ci/run does)")
    make = shutil.which("make")
    if make is None or shutil.which("npm") is None:
        pytest.skip("the example console is not built and Node.js/npm is missing (`make example` builds it)")
    subprocess.run([make, "example"], cwd=ROOT, check=True, timeout=900)  # noqa: S603 - our own make target, fixed arguments
    return DIST


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@functools.cache
def _static_handler(directory: str) -> Any:
    return functools.partial(_QuietFiles, directory=directory)


@pytest.fixture
def console_origins() -> Iterator[tuple[str, str]]:
    """The built console served as static files from two loopback origins: the one the API lists, and one
    it does not."""
    directory = str(_built_console())
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _static_handler(directory)) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    listed, unlisted = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    yield listed, unlisted
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(settings, db, clock, console_origins) -> Iterator[str]:
    """The API on its own loopback port in sandbox mode, listing the console's first origin in
    CORS_ALLOWED_ORIGINS. `db` empties the PostgreSQL test database first, as for every test."""
    sock = listening_socket()
    port = port_of(sock)
    base = f"http://127.0.0.1:{port}"
    listed, _ = console_origins
    served = replace(settings, sandbox=True, port=port, public_url=base, cors_allowed_origins=(listed,))
    with serve_in_thread(create_app(served, clock=clock), sock):
        yield base


def test_the_example_console_registers_signs_in_and_starts_a_face_check_from_another_origin(
    api, console_origins
) -> None:
    from playwright.sync_api import expect, sync_playwright

    spa, unlisted = console_origins
    assert spa != api  # two origins: every call below is cross-origin
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", timezone_id="Asia/Shanghai")
        page = context.new_page()
        answers: list[dict[str, str]] = []
        page.on("response", lambda r: answers.append(r.all_headers()) if r.url == f"{api}/graphql" else None)

        # The console loads the sign-up agreements from the API
        page.goto(f"{spa}/?api={api}")
        expect(page.locator("#signup-agreements")).to_contain_text("Privacy")
        expect(page.locator("#api-url")).to_have_text(f"{api}/")

        # 1. A registration code to the phone; the code is read in the sandbox outbox, a page of the API's
        # own origin opened from the console's link (never fetched cross-origin), and typed in
        register = page.locator("#register-form")
        register.get_by_label("Username").fill("console1")
        register.get_by_label("Password").fill(PASSWORD)
        register.get_by_label("Phone").fill(PHONE)
        page.click("#send-code")
        expect(page.locator("#code-sent")).to_be_visible()
        expect(page.locator("#outbox-link")).to_have_attribute("href", f"{api}/sandbox/outbox?to={PHONE}")
        with page.expect_popup() as popup:
            page.click("#outbox-link")
        outbox = popup.value
        newest = outbox.locator("tbody tr").first.locator("td").last.inner_text()
        code = re.search(r"\b\d{6}\b", newest)
        assert code is not None
        outbox.close()
        register.get_by_label("Code").fill(code.group())

        # Without the agreements the API refuses (AccountError through the shared error fragment), and the
        # console marks the checkbox it is about
        register.get_by_role("button", name="Register").click()
        expect(register.locator("[data-errors] li")).to_have_count(1)
        expect(register.locator("[data-errors] li")).to_have_attribute("data-code", "AGREEMENTS_REQUIRED")
        expect(register.locator("[data-field=agreements]")).to_have_attribute("aria-invalid", "true")
        register.get_by_label("I accept").check()
        register.get_by_role("button", name="Register").click()
        expect(page.locator("#registered")).to_contain_text("Registered console1, account ID ")
        expect(register.locator("[data-errors] li")).to_have_count(0)

        # 2. Sign in: a wrong password is an AuthError through the same fragment, then the right one
        sign_in = page.locator("#sign-in-form")
        expect(sign_in.get_by_label("Username")).to_have_value("console1")
        sign_in.get_by_label("Password").fill("not-the-password")
        sign_in.get_by_role("button", name="Sign in").click()
        expect(sign_in.locator("[data-errors] li")).to_have_count(1)
        expect(sign_in.locator("[data-errors] li")).to_have_attribute("data-code", "INVALID_CREDENTIALS")
        sign_in.get_by_label("Password").fill(PASSWORD)
        sign_in.get_by_role("button", name="Sign in").click()

        # 3. The viewer and its one session, this one, by password
        expect(page.locator("#viewer")).to_be_visible()
        expect(page.locator("#viewer-username")).to_have_text("console1")
        expect(page.locator("#viewer-phone")).to_have_text("139****5678")
        expect(page.locator("#viewer-verification")).to_have_text("not verified")
        expect(page.locator("#session-count")).to_have_text("1")
        expect(page.locator("#sessions tr")).to_have_count(1)
        expect(page.locator("#sessions tr td").nth(0)).to_contain_text("(this one)")
        expect(page.locator("#sessions tr td").nth(1)).to_have_text("password")
        # The API exposes X-Request-ID to the console's origin
        expect(page.locator("#request-id")).to_have_text(re.compile(r"^[0-9a-f]{32}$"))

        # 4. A face verification (RNP-2); without a name it is refused, and the error's path marks the name
        face = page.locator("#face-form")
        face.get_by_label("Document number").fill(ID_NUMBER)
        face.get_by_label("I accept").check()
        face.get_by_role("button", name="Start the face check").click()
        expect(face.locator("[data-errors] li")).to_have_count(1)
        expect(face.locator("[data-errors] li")).to_have_attribute("data-code", "NAME_INVALID")
        expect(face.locator("[aria-invalid=true]")).to_have_attribute("data-field", "name")
        # With the name: the face-check link and QR code, and the pending attempt
        face.get_by_label("Name as on the document").fill("张三")
        face.get_by_role("button", name="Start the face check").click()
        expect(page.locator("#face-check")).to_be_visible()
        expect(face.locator("[aria-invalid]")).to_have_count(0)
        link = page.locator("#face-link")
        expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(api)}/sandbox/face/"))
        expect(page.locator("#face-qr")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
        expect(page.locator("#attempts tr")).to_have_count(1)
        expect(page.locator("#attempts tr td").last).to_have_text("PENDING")

        # The phone passes the check on the sandbox page; the console's Refresh shows the verified account
        with page.expect_popup() as popup:
            link.click()
        phone = popup.value
        phone.get_by_role("button", name="Pass").click()
        expect(phone.locator("body")).to_contain_text("Passed")
        phone.close()
        page.click("#refresh")
        expect(page.locator("#viewer-verification")).to_contain_text("VERIFIED")
        expect(page.locator("#attempts tr td").last).to_have_text("PASSED")
        expect(page.locator("#face")).to_be_hidden()

        # Sign out ends the session
        page.click("#sign-out")
        expect(page.locator("#viewer")).to_be_hidden()
        # A session that ended elsewhere: the API answers AUTHENTICATION_REQUIRED, and the one error handler
        # signs the console out whichever mutation it came from
        sign_in.get_by_role("button", name="Sign in").click()
        expect(page.locator("#viewer")).to_be_visible()
        expect(page.locator("#session-count")).to_have_text("1")  # the first session ended at sign-out
        token = page.evaluate("sessionStorage.getItem('account-center-example.token')")
        assert token
        ended = httpx.post(f"{api}/graphql", json={"query": "mutation { sessionDelete { errors { code } } }"},
                           headers={"authorization": f"Bearer {token}"})  # fmt: skip
        assert ended.json() == {"data": {"sessionDelete": {"errors": []}}}
        page.click("#sign-out")
        expect(page.locator("#sign-out-form [data-errors] li")).to_have_attribute(
            "data-code", "AUTHENTICATION_REQUIRED"
        )
        expect(page.locator("#viewer")).to_be_hidden()
        assert page.evaluate("sessionStorage.getItem('account-center-example.token')") is None

        # Every answer the console read carried its origin, and no credentials
        assert len(answers) >= 10
        assert {a.get("access-control-allow-origin") for a in answers} == {spa}
        assert not any("access-control-allow-credentials" in a for a in answers)
        assert page.locator("#notice").is_hidden()

        # The same console on an origin the API does not list cannot read anything
        other = context.new_page()
        other.goto(f"{unlisted}/?api={api}")
        expect(other.locator("#notice")).to_contain_text("Could not reach the API")
        expect(other.locator("#signup-agreements")).to_have_text("the sign-up agreements")
        browser.close()
