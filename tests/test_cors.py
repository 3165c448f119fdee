"""CORS for single-page apps on other origins (CORS_ALLOWED_ORIGINS): POST /graphql and POST /uploads only,
exact origins only, no credentials; the back office and the sandbox are never cross-origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import cli
from app import create_app
from settings import Settings, origin_problem

SPA = "https://console.example.com"
OTHER = "https://evil.example.net"
QUERY = {"query": "{ __typename }"}


def _preflight(origin: str, method: str = "POST", headers: str = "authorization, content-type") -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": method, "access-control-request-headers": headers}


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def _vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()}


@pytest.fixture
def cors_app(settings, clock, db):
    return create_app(replace(settings, cors_allowed_origins=(SPA, "http://127.0.0.1:5173")), clock=clock, db=db)


@pytest.fixture
async def cors_client(cors_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cors_app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


# --- the setting --------------------------------------------------------------------------------------


def test_cors_allowed_origins_is_empty_by_default_and_read_as_a_comma_separated_list() -> None:
    assert Settings.from_env({}).cors_allowed_origins == ()
    assert Settings.from_env({"CORS_ALLOWED_ORIGINS": " "}).cors_allowed_origins == ()
    value = " https://console.example.com, http://127.0.0.1:5173,,http://[::1]:8080 ,https://console.example.com"
    assert Settings.from_env({"CORS_ALLOWED_ORIGINS": value}).cors_allowed_origins == (
        "https://console.example.com",
        "http://127.0.0.1:5173",
        "http://[::1]:8080",
    )
    for good in (
        "http://localhost:3000",
        "https://xn--fiqs8s.example",
        "https://a-b.c.example:8443",
        "http://10.0.0.1",
    ):
        assert origin_problem(good) is None, good


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("*", "wildcards are not allowed"),
        ("https://*.example.com", "wildcards are not allowed"),
        ("null", "'null' origin"),
        ("console.example.com", "starts with https:// or http://"),
        ("ftp://console.example.com", "starts with https:// or http://"),
        ("https://console.example.com/", "no path"),
        ("https://console.example.com/app", "no path"),
        ("https://console.example.com?x=1", "no path, query"),
        ("https://user@console.example.com", "no user name"),
        ("https://Console.example.com", "lowercase"),
        ("https://console.example.com:443", "default port :443"),
        ("http://console.example.com:80", "default port :80"),
        ("https://console.example.com:0", "from 1 to 65535"),
        ("https://console.example.com:65536", "from 1 to 65535"),
        ("https://console.example.com:08443", "without leading zeros"),
        ("https://console.example.com:", "scheme://host[:port]"),
        ("https://console..example.com", "DNS name"),
        ("https://-console.example.com", "DNS name"),
        ("https://300.1.1.1", "not an IPv4 address"),
        ("https://[fe80::1::2]", "IPv6"),
        ("https://[fe80::zz]", "scheme://host[:port]"),
        ("https://控制台.example.com", "scheme://host[:port]"),
    ],
)
def test_a_bad_cors_origin_is_refused_with_the_reason(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match="CORS_ALLOWED_ORIGINS") as refused:
        Settings.from_env({"CORS_ALLOWED_ORIGINS": f"{SPA},{value}"})
    assert reason in str(refused.value)


def test_serve_refuses_to_start_with_a_bad_cors_origin_and_says_why(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://console.example.com/")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "refused to start: CORS_ALLOWED_ORIGINS: 'https://console.example.com/' is not an origin" in err
    assert "Traceback" not in err


# --- preflights ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/graphql", "/uploads"])
async def test_a_preflight_from_a_listed_origin_is_allowed_for_post_with_a_bearer_token(cors_client, path) -> None:
    response = await cors_client.options(path, headers=_preflight(SPA))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA
    assert response.headers["access-control-allow-methods"] == "POST"
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert int(response.headers["access-control-max-age"]) > 0
    # Bearer tokens, not cookies: a browser never sends credentials on these requests
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in _vary(response)
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "headers",
    [
        _preflight(OTHER),  # an origin not listed
        _preflight(SPA + ":8443"),  # a listed host on another port is another origin
        _preflight("http://console.example.com"),  # ... and so is another scheme
        _preflight("null"),
    ],
)
async def test_a_preflight_from_another_origin_is_refused_without_an_allow_origin(cors_client, headers) -> None:
    response = await cors_client.options("/graphql", headers=headers)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert "origin" in _vary(response)


@pytest.mark.parametrize(
    "headers",
    [
        _preflight(SPA, method="PUT"),
        _preflight(SPA, method="DELETE"),
        _preflight(SPA, headers="authorization, x-custom"),
        _preflight(SPA, headers="cookie"),
    ],
)
async def test_a_preflight_for_another_method_or_header_is_refused(cors_client, headers) -> None:
    response = await cors_client.options("/graphql", headers=headers)
    assert response.status_code == 400
    assert response.text.startswith("Disallowed CORS")


# --- actual requests ----------------------------------------------------------------------------------


async def test_a_post_from_a_listed_origin_may_be_read_with_its_request_id(cors_client) -> None:
    response = await cors_client.post("/graphql", json=QUERY, headers={"origin": SPA})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["access-control-allow-origin"] == SPA
    assert response.headers["access-control-expose-headers"] == "x-request-id"
    assert response.headers["x-request-id"]
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in _vary(response)


async def test_a_post_from_another_origin_or_none_gets_no_cors_header_but_varies_by_origin(cors_client) -> None:
    for headers in ({"origin": OTHER}, {"origin": "null"}, {}):
        response = await cors_client.post("/graphql", json=QUERY, headers=headers)
        # Served (a server cannot stop a request; the browser keeps the answer from the other origin's script)
        assert response.status_code == 200, headers
        assert _cors_headers(response) == {}, headers
        assert "origin" in _vary(response), headers


async def test_an_upload_refusal_is_readable_by_a_listed_origin(cors_client) -> None:
    files = {"file": ("a.png", b"not an image", "image/png")}
    response = await cors_client.post("/uploads", files=files, headers={"origin": SPA, "authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "AUTHENTICATION_REQUIRED"
    assert response.headers["access-control-allow-origin"] == SPA
    refused = await cors_client.post("/uploads", files=files, headers={"origin": OTHER})
    assert (refused.status_code, _cors_headers(refused)) == (401, {})


async def test_an_unexpected_500_is_readable_by_a_listed_origin_with_its_request_id(cors_app, cors_client) -> None:
    async def boom(_: Request) -> Response:
        raise RuntimeError("boom")

    cors_app.router.routes.insert(0, Route("/graphql", boom, methods=["POST"]))
    response = await cors_client.post("/graphql", json=QUERY, headers={"origin": SPA})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == SPA
    assert response.headers["access-control-expose-headers"] == "x-request-id"
    assert response.headers["x-request-id"]


# --- never cross-origin -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/backoffice/login",
        "/backoffice/",
        "/backoffice/static/backoffice.css",
        "/sandbox/outbox?to=13800138000",
        "/sandbox/outbox.json?to=13800138000",
        "/sandbox/face/unknown",
        "/uploads/some-id",
        "/healthz",
    ],
)
async def test_the_back_office_sandbox_and_gets_are_never_cross_origin(cors_client, path) -> None:
    for method in ("GET", "POST"):
        preflight = await cors_client.options(path, headers=_preflight(SPA, method=method))
        assert _cors_headers(preflight) == {}, (path, method)
    response = await cors_client.get(path, headers={"origin": SPA})
    assert _cors_headers(response) == {}, path
    posted = await cors_client.post(path, data={"username": "x"}, headers={"origin": SPA})
    assert _cors_headers(posted) == {}, path


async def test_get_graphql_stays_same_origin(cors_client) -> None:
    # GET (queries over GET, GraphiQL in development) is not offered: its preflight fails ...
    preflight = await cors_client.options("/graphql", headers=_preflight(SPA, method="GET"))
    assert preflight.status_code == 400
    # ... and a simple GET gets no CORS header
    response = await cors_client.get("/graphql", params=QUERY, headers={"origin": SPA})
    assert response.status_code == 200
    assert _cors_headers(response) == {}


async def test_without_listed_origins_nothing_is_cross_origin(client) -> None:
    preflight = await client.options("/graphql", headers=_preflight(SPA))
    assert preflight.status_code == 405
    assert _cors_headers(preflight) == {}
    response = await client.post("/graphql", json=QUERY, headers={"origin": SPA})
    assert response.status_code == 200
    assert _cors_headers(response) == {}
