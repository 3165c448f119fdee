"""GraphiQL (development only) is served from the project: its page names only same-origin assets, each
answers with its media type, and its Content-Security-Policy lets only those run."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

import ide
from app import create_app
from middleware import IDE_CSP

HTML = {"accept": "text/html"}
ROOT = Path(__file__).resolve().parent.parent


class _Page(HTMLParser):
    """The URLs a page makes the browser load, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str, str | None]] = []  # (tag, URL, integrity)
        self.inline_scripts = 0
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.handlers += [name for name in a if name.startswith("on")]
        if tag == "script":
            if a.get("src"):
                self.assets.append((tag, str(a["src"]), a.get("integrity")))
            else:
                self.inline_scripts += 1
        elif tag == "link" and a.get("href"):
            self.assets.append((tag, str(a["href"]), a.get("integrity")))
        elif tag in {"img", "iframe"} and a.get("src"):
            self.assets.append((tag, str(a["src"]), None))


@pytest.fixture
async def development(settings, clock, db) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(replace(settings, environment="development"), clock=clock, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as c:
        yield c


async def test_the_ide_page_loads_only_same_origin_assets(development) -> None:
    # When a browser opens /graphql in development
    response = await development.get("/graphql", headers=HTML)
    # Then it gets the project's GraphiQL page under a policy that allows scripts from this origin only
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == IDE_CSP
    assert "script-src 'self';" in IDE_CSP
    assert "unsafe" not in IDE_CSP
    assert response.headers["x-frame-options"] == "DENY"
    page = _Page()
    page.feed(response.text)
    assert page.inline_scripts == 0
    assert page.handlers == []
    assert "http://" not in response.text
    assert "https://" not in response.text
    # and each asset is a path on this server (or the empty data: favicon), not another host
    urls = [url for _tag, url, _integrity in page.assets]
    assert "data:," in urls
    local = [url for url in urls if url != "data:,"]
    assert all(url.startswith(ide.PREFIX + "/") for url in local), urls
    assert len(local) == 6


async def test_each_asset_of_the_ide_answers_with_its_media_type_and_pinned_hash(development) -> None:
    page = _Page()
    page.feed((await development.get("/graphql", headers=HTML)).text)
    media_types = {".js": {"text/javascript", "application/javascript"}, ".css": {"text/css"}}
    pinned = 0
    for _tag, url, integrity in page.assets:
        if url == "data:,":
            continue
        response = await development.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].split(";")[0] in media_types[Path(url).suffix], url
        assert response.headers["x-content-type-options"] == "nosniff"
        if integrity is not None:  # the vendored files: byte for byte the npm releases' (see their README)
            digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
            assert integrity == f"sha384-{digest}", url
            pinned += 1
    assert pinned == 4


async def test_outside_development_there_is_no_ide_and_no_asset(client) -> None:
    # In test settings (as in production) /graphql answers no page, and the assets are not served
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 400
    assert "content-security-policy" not in page.headers
    for path in ("/graphiql/ide.js", "/graphiql/vendor/graphiql-3.8.3/graphiql.min.js"):
        assert (await client.get(path)).status_code == 404


async def test_the_api_itself_gets_no_page_policy_in_development(development) -> None:
    response = await development.post("/graphql", json={"query": "{ banks }"})
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers


def test_the_vendored_files_are_listed_with_versions_and_licences() -> None:
    vendor = ide.STATIC / "vendor"
    readme = (vendor / "README.md").read_text()
    for folder in sorted(p for p in vendor.iterdir() if p.is_dir()):
        assert f"`{folder.name}/" in readme
        assert (folder / "LICENSE").read_text().startswith("MIT License")
        package, _, version = folder.name.rpartition("-")
        assert f"| {package} | {version} | MIT" in readme
    size = sum(f.stat().st_size for f in vendor.rglob("*") if f.is_file())
    assert size < 4_500_000  # about 4.1 MB; keep it that way
