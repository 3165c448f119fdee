"""GraphiQL in Chromium with no network but loopback: the page renders its editor from the project's own
files, runs a query against /graphql, makes no request to another origin, and breaks no CSP rule."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.backoffice.test_browser import CHROMIUM

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]  # fmt: skip


def test_graphiql_renders_and_runs_a_query_offline_in_chromium(served_at) -> None:
    from playwright.sync_api import Request, Response, sync_playwright

    base, _app = served_at
    origin = urlsplit(base).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        context = browser.new_context()
        requested: list[str] = []
        failed: list[str] = []
        errors: list[str] = []
        # Nothing leaves loopback: a request to any other origin is aborted (and reported below)
        context.route(
            "**/*",
            lambda route: route.continue_() if urlsplit(route.request.url).netloc == origin else route.abort(),
        )
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("requestfailed", lambda request: failed.append(f"{request.url} {request.failure}"))

        def on_response(response: Response) -> None:
            if response.status >= 400:
                failed.append(f"{response.url} {response.status}")

        page.on("response", on_response)
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));"
        )

        # When the IDE is opened
        response = page.goto(f"{base}/graphql", wait_until="networkidle")
        assert response is not None
        assert response.status == 200
        # Then GraphiQL renders its query editor with the example query
        editor = page.locator(".graphiql-query-editor .CodeMirror")
        editor.wait_for(state="visible", timeout=15_000)
        assert "agreements" in editor.inner_text()
        # and runs it against /graphql
        with page.expect_request(lambda r: r.method == "POST" and r.url == f"{base}/graphql") as posted:
            page.locator(".graphiql-execute-button").click()
        request: Request = posted.value
        assert (request.response() or response).status == 200
        page.locator(".graphiql-response .CodeMirror").get_by_text('"agreements"').wait_for(timeout=15_000)
        violations = page.evaluate("window.__violations")
        browser.close()
    assert failed == []
    assert [url for url in requested if urlsplit(url).netloc != origin] == []
    assert violations == []
    assert errors == []
