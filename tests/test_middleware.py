"""The request context (request ID, access line) and the security headers, on every route."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from html.parser import HTMLParser

import httpx
import pyotp
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import create_app
from middleware import HSTS, IDE_CSP, PAGE_CSP
from services.demo import DEMO_REVIEWER_PASSWORD, seed
from tests.logcapture import configured_logs

SECRET = "S3cret-In-Path-Query-91"


@pytest.fixture
def captured(settings, caplog):
    caplog.set_level(logging.DEBUG)
    with configured_logs(settings) as c:
        yield c


# --- request ID -------------------------------------------------------------------------------------


async def test_a_sane_request_id_is_echoed_and_bound_to_every_line_of_the_request(client, captured) -> None:
    # Given a request ID from the client (or a proxy) and a request that logs more than its access line
    response = await client.post(
        "/graphql", json={"query": "{ node(id: 1) { id } }"}, headers={"x-request-id": "req-2026.11:abc_DEF+/="}
    )
    # Then the response carries it, and so does every line the request wrote
    assert response.headers["x-request-id"] == "req-2026.11:abc_DEF+/="
    lines = captured.lines()
    assert len(lines) >= 2
    assert {line.get("request_id") for line in lines} == {"req-2026.11:abc_DEF+/="}


async def test_a_request_without_an_id_gets_a_new_one_per_request(client, captured) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert ids[0] != ids[1]
    assert [a["request_id"] for a in captured.access()] == ids


@pytest.mark.parametrize(
    "sent",
    [
        'x", "level": "critical',  # quotes and spaces: an attempt to write into the line
        "a" * 129,  # too long
        "-starts-with-a-dash",
        "tab\there",
        "caf\u00e9",  # not ASCII
        "",
    ],
)
async def test_an_insane_request_id_is_replaced_by_a_generated_one(client, captured, sent) -> None:
    response = await client.get("/healthz", headers={"x-request-id": sent.encode("utf-8")})
    replaced = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    (access,) = captured.access()
    assert access["request_id"] == replaced
    assert access["level"] == "info"
    assert sent not in captured.text or sent == ""


async def test_the_request_id_does_not_outlive_its_request(client, captured) -> None:
    await client.get("/healthz", headers={"x-request-id": "first-request"})
    logging.getLogger("account_center.test").info("after the request")
    (after,) = [line for line in captured.lines() if line["event"] == "after the request"]
    assert "request_id" not in after


# --- access line ------------------------------------------------------------------------------------


async def test_the_access_line_has_method_path_status_duration_and_client(client, captured) -> None:
    # When a request with a query string and a path parameter is answered
    await client.get(f"/sandbox/face/{SECRET}", params={"token": SECRET})
    # Then its access line names the route template, not the ticket, and no query string
    (access,) = captured.access()
    assert access["event"] == "request"
    assert access["method"] == "GET"
    assert access["path"] == "/sandbox/face/{ticket}"
    assert isinstance(access["status"], int)
    assert isinstance(access["duration_ms"], float)
    assert access["client"] == "203.0.113.7"
    assert SECRET not in captured.text


async def test_an_unrouted_path_is_logged_as_received_percent_encoded_and_capped(client, captured) -> None:
    await client.get("/no%0Awhere%22x")
    await client.get("/" + "a" * 1000)
    first, second = captured.access()
    assert (first["path"], first["status"]) == ("/no%0Awhere%22x", 404)
    assert second["path"] == "/" + "a" * 255 + "..."
    assert len(captured.text.splitlines()) == 2  # one line per record


async def test_a_refused_oversized_body_is_logged_with_its_id(client, settings, captured) -> None:
    body = '{"query": "' + SECRET * (settings.max_body_bytes // len(SECRET) + 1) + '"}'
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"
    (access,) = captured.access()
    assert (access["status"], access["request_id"]) == (413, response.headers["x-request-id"])
    assert SECRET not in captured.text


async def test_an_exception_escaping_a_route_is_logged_in_its_request_and_answered_500(app, client, captured) -> None:
    # Given a route that fails with a message quoting its input
    async def boom(request: Request) -> Response:
        raise KeyError(request.query_params["token"])

    app.router.routes.append(Route("/boom", boom))
    # When it is called
    response = await client.get("/boom", params={"token": SECRET})
    # Then the client gets a plain 500 with the request ID and nosniff
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["x-content-type-options"] == "nosniff"
    request_id = response.headers["x-request-id"]
    # And the log has the traceback (no message) and the access line, both with the request ID
    (failure,) = [line for line in captured.lines() if line["level"] == "error"]
    assert failure["event"] == "unhandled exception"
    assert failure["request_id"] == request_id
    assert "in boom" in failure["exception"]
    assert "KeyError (message withheld" in failure["exception"]
    (access,) = captured.access()
    assert (access["status"], access["request_id"], access["path"]) == (500, request_id, "/boom")
    assert SECRET not in captured.text


# --- security headers -------------------------------------------------------------------------------


async def test_every_response_is_nosniff_and_hsts_only_in_production(settings, clock, db, client) -> None:
    # In test (and development) settings: nosniff everywhere, no HSTS
    for path in ("/healthz", "/graphql?query={__typename}", "/uploads/x", "/nowhere", "/backoffice/login"):
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert "strict-transport-security" not in response.headers, path
    # In production: HSTS too, unless a TLS proxy is left to send it (HSTS=0)
    for hsts, expected in ((True, HSTS), (False, None)):
        prod = replace(settings, environment="production", sandbox=False, hsts=hsts)
        app = create_app(prod, clock=clock, db=db)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://t") as c:
            for path in ("/healthz", "/graphql?query={__typename}", "/backoffice/login"):
                response = await c.get(path)
                assert response.headers["x-content-type-options"] == "nosniff"
                assert response.headers.get("strict-transport-security") == expected


async def test_back_office_and_sandbox_pages_get_a_strict_csp_graphiql_its_own(settings, clock, db, client) -> None:
    for path in ("/backoffice/login", "/sandbox/outbox", "/sandbox/face/unknown", "/backoffice/static/backoffice.css"):
        response = await client.get(path)
        assert response.headers["content-security-policy"] == PAGE_CSP, path
        assert "frame-ancestors 'none'" in PAGE_CSP
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
    api = await client.get("/graphql?query={__typename}")
    assert "content-security-policy" not in api.headers
    # GraphiQL (development only) runs its own same-origin scripts: a policy of its own (tests/test_graphiql.py)
    dev = create_app(replace(settings, environment="development"), clock=clock, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=dev), base_url="http://t") as c:
        graphiql = await c.get("/graphql", headers={"accept": "text/html"})
    assert graphiql.status_code == 200
    assert "graphiql" in graphiql.text.lower()
    assert graphiql.headers["content-security-policy"] == IDE_CSP
    assert graphiql.headers["x-frame-options"] == "DENY"
    assert graphiql.headers["x-content-type-options"] == "nosniff"


# --- the pages still render under the CSP ------------------------------------------------------------


class _Page(HTMLParser):
    """What a page asks the browser to load or run."""

    def __init__(self) -> None:
        super().__init__()
        self.stylesheets: list[str] = []
        self.images: list[str] = []
        self.form_actions: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in {"style", "script"}:
            self.inline.append(tag)
        self.inline.extend(f"{tag}[{name}]" for name in a if name == "style" or name.startswith("on"))
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a.get("href") or "")
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "form" and a.get("action"):
            self.form_actions.append(a["action"] or "")


async def _check_page(c: httpx.AsyncClient, response: httpx.Response, status: int = 200) -> _Page:
    """The page is HTML under the strict CSP, needs nothing the CSP blocks, and what it loads is served."""
    assert response.status_code == status, response.url
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == PAGE_CSP
    page = _Page()
    page.feed(response.text)
    assert page.inline == [], (response.url, page.inline)
    assert page.stylesheets, response.url
    for url in page.stylesheets + page.images:
        assert url.startswith("/"), url  # same origin: 'self'
        assert not url.startswith("//"), url
        loaded = await c.get(url)
        assert loaded.status_code == 200, url
    for url in page.stylesheets:
        assert (await c.get(url)).headers["content-type"].startswith("text/css")
    assert all(a.startswith("/") and not a.startswith("//") for a in page.form_actions)
    return page


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, pattern
    return match.group(1)


async def test_back_office_pages_render_under_the_csp(app, run, clock) -> None:
    # Given the demo data: a reviewer, and an appeal with three images in the 5-day queue
    lines = await run(seed)
    totp = pyotp.parse_uri(_find(r"(otpauth://\S+)", next(line for line in lines if "demo-reviewer" in line)))
    # Back-office cookies are Secure outside development: talk https to the in-process app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        # When the reviewer signs in and opens the queue and the item
        login = await c.get("/backoffice/login")
        await _check_page(c, login)
        form = {"username": "demo-reviewer", "password": DEMO_REVIEWER_PASSWORD, "code": totp.at(clock.now())}
        signed_in = await c.post(
            "/backoffice/login", data={"csrf": _find(r'name="csrf" value="([^"]+)"', login.text), **form}
        )
        assert signed_in.status_code == 303
        queue = await c.get("/backoffice/queues/5")
        await _check_page(c, queue)
        item = await _check_page(c, await c.get(_find(r'href="(/backoffice/items/\d+)"', queue.text)))
    # Then the item page shows the appeal's three documents, all loadable under img-src 'self'
    assert len(item.images) == 3


async def test_sandbox_pages_render_under_the_csp(client) -> None:
    for path, status in (
        ("/sandbox/outbox?to=13800000000", 200),
        ("/sandbox/bank/6222020200112233445", 200),
        ("/sandbox/face/unknown", 404),  # the page says the check is unknown
    ):
        await _check_page(client, await client.get(path), status)
