"""Fuzz the GraphQL endpoint with schemathesis, signed out and signed in.

    python scripts/fuzz.py [--seconds 30] [--workers 2] [--seed N]

Starts `account-center serve` on a free loopback port with a throw-away database (a SQLite file, or
a fresh database on the PostgreSQL server named by DATABASE_URL), registers and signs in one account
through the API, then lets schemathesis generate requests from `schema.graphql` for every root field:
once without credentials and once with the account's bearer token, each for `--seconds`.

The run fails on
- any 5xx answer or GraphQL error that is not a client error (schemathesis' `not_a_server_error`);
- any answer that breaks the GraphQL-over-HTTP rules (`scripts/fuzz_checks.py`): media type, a JSON
  object with only `data`, `errors` and `extensions`, well-formed errors, status codes;
- a traceback, an ERROR/CRITICAL line or a 5xx access line in the server's log.

Figures printed at the end: requests per identity, failures, log lines judged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKS = ROOT / "scripts" / "fuzz_checks.py"
PASSWORD = "Fuzz-Kettle-42!-Brass"
AGREEMENTS_QUERY = "{ agreements { kind version step } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _database(tmp: Path) -> Iterator[str]:
    """A migrated, empty database: a fresh PostgreSQL database when DATABASE_URL names a server."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}"
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    server = make_url(url)
    name = f"ac_fuzz_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(
            user=server.username,
            password=server.password,
            host=server.host or "127.0.0.1",
            port=server.port or 5432,
            database="postgres",
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit("the server did not answer /healthz within 30 s")


def _gql(base: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=10)
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"set-up request failed: {body['errors']}")
    return body["data"]


def _signed_in_token(base: str) -> str:
    """Register a cloud account through the API (code read from the sandbox outbox) and sign in."""
    phone = "137" + f"{secrets.randbelow(10**8):08d}"
    sent = _gql(
        base,
        "mutation($p: String!) { verificationCodeSend(input: {purpose: REGISTRATION, phone: $p}) "
        "{ errors { code message } } }",
        {"p": phone},
    )
    assert not sent["verificationCodeSend"]["errors"], sent
    messages = httpx.get(f"{base}/sandbox/outbox.json", params={"to": phone}, timeout=10).json()
    match = re.search(r"\b\d{6}\b", messages[0]["text"])
    if match is None:
        raise SystemExit("no code in the sandbox outbox")
    agreements = [
        {"kind": a["kind"], "version": a["version"]}
        for a in _gql(base, AGREEMENTS_QUERY)["agreements"]
        if a["step"] == "SIGN_UP"
    ]
    registered = _gql(
        base,
        "mutation($input: AccountRegisterInput!) { accountRegister(input: $input) { errors { code message } } }",
        {
            "input": {
                "username": "fuzzer01",
                "password": PASSWORD,
                "phone": phone,
                "code": match.group(),
                "agreements": agreements,
            }
        },
    )
    assert not registered["accountRegister"]["errors"], registered
    signed_in = _gql(
        base,
        "mutation($l: String!, $p: String!) { sessionCreateByPassword(input: {loginName: $l, password: $p}) "
        "{ result { ... on SignedIn { token } } errors { code message } } }",
        {"l": "fuzzer01", "p": PASSWORD},
    )
    token = (signed_in["sessionCreateByPassword"]["result"] or {}).get("token")
    if not token:
        raise SystemExit(f"sign-in failed: {signed_in}")
    return str(token)


# Requests schemathesis does not make (it sends well-formed JSON POSTs): broken bodies, other media
# types, GET, batches. Each must get a GraphQL-over-HTTP answer (or a plain 4xx/405), never a 5xx.
PROBES: list[tuple[str, dict[str, Any]]] = [
    ("POST", {"content": b"{", "headers": {"content-type": "application/json"}}),
    ("POST", {"content": b"[]", "headers": {"content-type": "application/json"}}),
    (
        "POST",
        {"content": b'[{"query": "{ agreements { version } }"}]', "headers": {"content-type": "application/json"}},
    ),
    ("POST", {"content": b'{"query": 1}', "headers": {"content-type": "application/json"}}),
    (
        "POST",
        {
            "content": b'{"query": "{ agreements { version } }", "variables": "x"}',
            "headers": {"content-type": "application/json"},
        },
    ),
    (
        "POST",
        {
            "content": b'{"query": "{ agreements { version } }", "operationName": 7}',
            "headers": {"content-type": "application/json"},
        },
    ),
    ("POST", {"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}}),
    ("POST", {"content": b"{ agreements { version } }", "headers": {"content-type": "text/plain"}}),
    ("POST", {"content": b"{ agreements { version } }", "headers": {"content-type": "application/graphql"}}),
    (
        "POST",
        {
            "content": b"query=%7Bagreements%7Bversion%7D%7D",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
    ),
    ("POST", {"content": b"--x\r\n\r\n", "headers": {"content-type": "multipart/form-data; boundary=x"}}),
    ("POST", {"content": b"", "headers": {"content-type": "multipart/form-data"}}),
    ("POST", {"content": b"[" * 60000, "headers": {"content-type": "application/json"}}),
    (
        "POST",
        {
            "content": b'{"query": "query($v: String) { agreements { version } }", "variables": {"v": '
            + b"[" * 30000
            + b"]" * 30000
            + b"}}",
            "headers": {"content-type": "application/json"},
        },
    ),
    ("GET", {"params": {}}),
    ("GET", {"params": {"query": "{ agreements { version } }", "variables": "[" * 3000}}),
    ("GET", {"params": {"query": "{ agreements { version } }", "variables": "{"}}),
    ("GET", {"params": {"query": "mutation { qrLoginTicketCreate { errors { code } } }"}}),
    ("GET", {"params": {"query": '{ node(id: "\\u0000") { id } }'}}),
    ("POST", {"json": {"query": "{ agreements { version } }", "extensions": {"persistedQuery": {"version": 1}}}}),
    ("PUT", {"json": {"query": "{ agreements { version } }"}}),
    # The same answers as application/graphql-response+json: a request error is a 4xx there.
    *[
        ("POST", {"json": body, "headers": {"accept": "application/graphql-response+json"}})
        for body in (
            {"query": "{ agreements { version } }"},
            {"query": "{ agreements { version "},
            {"query": "{ nope }"},
            {"query": "query($f: Int!) { viewer { sessions(first: $f) { totalCount } } }", "variables": {"f": "x"}},
            {"query": "query A { banks } query B { banks }"},
            {"query": '{ node(id: "x") { id } }'},
        )
    ],
]


def _probe(base: str, headers: dict[str, str]) -> list[str]:
    """Send PROBES; the problems found, one line each."""
    found: list[str] = []
    spec = importlib.util.spec_from_file_location("fuzz_checks", CHECKS)
    assert spec is not None
    assert spec.loader is not None
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        for method, kwargs in PROBES:
            response = client.request(method, "/graphql", **kwargs)
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code in (400, 405, 413, 415) and media_type not in checks.MEDIA_TYPES:
                continue  # a plain HTTP refusal of a request that is not a GraphQL request at all
            problems = checks._problems(response.status_code, media_type, response.text)
            found += [f"{method} {kwargs}: {p}" for p in problems]
    return found


def _schemathesis(base: str, seconds: int, workers: int, seed: int | None, headers: list[str], report: Path) -> int:
    command = [
        str(BIN / "schemathesis"),
        "run",
        str(ROOT / "schema.graphql"),
        "--url",
        f"{base}/graphql",
        "--max-time",
        str(seconds),
        "--workers",
        str(workers),
        "--checks",
        "not_a_server_error,response_schema_conformance,graphql_over_http",
        "--request-timeout",
        "10",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
        *headers,
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    env = dict(os.environ, SCHEMATHESIS_HOOKS=str(CHECKS))
    return subprocess.call(command, env=env, cwd=ROOT)


# A traceback, an error line, or an answer with a 5xx status: JSON lines (`"level": "error"`,
# `"status": 500`) or plain ones (`ERROR: ...`, `"POST /graphql HTTP/1.1" 500`).
SERVER_FAILURE = re.compile(
    r"Traceback|\"level\": ?\"(error|critical)\"|^(ERROR|CRITICAL)[: ]|\"status\": ?5\d\d\b|\" 5\d\d\b", re.I | re.M
)


def _log_failures(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if SERVER_FAILURE.search(line)]


def _requests_in(report: Path) -> int:
    if not report.exists():
        return 0
    text = report.read_text()
    return len(re.findall(r"<testcase ", text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "30")))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="ac-fuzz-"))
    log = tmp / "server.log"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    failures: list[str] = []
    try:
        with _database(tmp) as url:
            env = dict(
                os.environ,
                DATABASE_URL=url,
                ENVIRONMENT="test",
                SANDBOX="true",
                SECRET_KEY=secrets.token_urlsafe(48),
                SWEEP_INTERVAL_SECONDS="5",
                PORT=str(port),
            )
            subprocess.run([str(BIN / "account-center"), "migrate"], env=env, check=True, capture_output=True)
            with open(log, "wb") as out:
                server = subprocess.Popen(
                    [str(BIN / "account-center"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                _wait_ready(base, server, log)
                token = _signed_in_token(base)
                for identity, probe_headers in (
                    ("signed out", {}),
                    ("signed in", {"authorization": f"Bearer {token}"}),
                ):
                    problems = _probe(base, probe_headers)
                    print(f"== {len(PROBES)} protocol probes, {identity}: {len(problems)} problems", flush=True)
                    for problem in problems:
                        print("   " + problem[:400])
                    if problems:
                        failures.append(f"{len(problems)} protocol probes answered badly ({identity})")
                for identity, headers in (
                    ("signed out", []),
                    (
                        "signed in",
                        ["--header", f"Authorization: Bearer {token}", "--exclude-name", "Mutation.sessionDelete"],
                    ),
                ):
                    print(f"== schemathesis, {identity}, {args.seconds} s", flush=True)
                    report = tmp / f"junit-{identity.replace(' ', '-')}.xml"
                    code = _schemathesis(base, args.seconds, args.workers, args.seed, headers, report)
                    if code != 0:
                        failures.append(f"schemathesis ({identity}) exited with {code}")
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
        bad_lines = _log_failures(log)
        total = len(log.read_text(errors="replace").splitlines())
        print(f"== server log: {total} lines, {len(bad_lines)} with a traceback, an error or a 5xx")
        for line in bad_lines[:40]:
            print("   " + line[:400])
        if bad_lines:
            failures.append(f"{len(bad_lines)} server log lines with a traceback, an error or a 5xx")
    finally:
        if failures:
            kept = ROOT / "fuzz-report"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(tmp, kept, ignore=shutil.ignore_patterns("*.db*", "uploads"))
            print(f"== kept the server log and reports in {kept}")
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("FUZZ FAILED: " + "; ".join(failures))
        return 1
    print("fuzz passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
