"""Two instances on one database (issue 16): limits, claims and single-use codes hold across them.

Two real `account-center serve` processes, each on a free loopback port, share ONE database: on the PostgreSQL
run the run's PostgreSQL database, on the SQLite run one SQLite file (so this runs on both engines). Each test
seeds what it needs through the API or the service layer, then sends 20 simultaneous requests, 10 to each
instance, each from a client address of its own (the instances trust one proxy hop, so the limits shown are not
per-address ones), and checks that exactly the limit holds: in the answers and in the database.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from PIL import Image
from sqlalchemy import func, select, text

from app import build_deps
from models.accounts import Account
from models.auth import AuthSession
from models.codes import OneTimeCode, OutboxMessage
from models.documents import Document, DocumentBlob, DocumentDailyCount
from models.review import ReviewAuditEntry, ReviewItem
from services.database import Database, DbTransactions, run_write
from services.identifiers import normalize_phone
from services.review import reviewers
from settings import Settings
from tests.conftest import IS_PG, TABLES
from tests.helpers import mutate, registered_and_signed_in, sign_in_result
from tests.loopback import listening_socket, port_of
from tests.services.test_appeals import seed_rebind_appeals

ROOT = Path(__file__).resolve().parents[1]
BURST = 20  # 10 + 10
STAFF_PASSWORD = "Cross-Instance-Passphrase-1"
UPLOAD_QUOTA = 5  # the instances' UPLOAD_DAILY_QUOTA


@dataclass(frozen=True)
class Instances:
    urls: tuple[str, str]
    settings: Settings  # what both instances run with (the database URL included)


def _free_port() -> int:
    sock = listening_socket()  # bound, read, released: `serve` binds the port itself (see test_serve_workers)
    try:
        return port_of(sock)
    finally:
        sock.close()


def _serve_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("account-center")  # the installed console script
    command = [str(script)] if script.exists() else [sys.executable, str(ROOT / "cli.py")]
    return [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]


def _wait_until_serving(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited before serving"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # waits for the server process to start, not for the test clock
    raise AssertionError("serve did not start")


async def _empty(url: str) -> None:
    """The run's PostgreSQL database holds what the test before this module left: start from nothing."""
    database = Database(url)
    try:
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def instances(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instances]:
    """Two `account-center serve` processes on one database (module-wide: each start costs a second or two)."""
    if IS_PG:
        url = template_database
        asyncio.run(_empty(url))
    else:
        path = tmp_path_factory.mktemp("cross-instance") / "shared.db"
        shutil.copyfile(template_database, path)
        url = f"sqlite+aiosqlite:///{path}"
    settings = Settings(
        database_url=url,
        environment="test",
        sandbox=True,
        secret_key="cross-instance-secret-key",
        argon2_memory_kib=1024,  # argon2id still; cheap parameters keep the seeding fast
        argon2_time_cost=1,
        sweep_interval_seconds=0,
        trusted_proxy_count=1,  # each request says its client address in X-Forwarded-For
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "SANDBOX": "true",
        "SECRET_KEY": settings.secret_key,
        "ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
        "ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "SWEEP_INTERVAL_SECONDS": "0",
        "TRUSTED_PROXY_COUNT": "1",
        "UPLOAD_DAILY_QUOTA": str(UPLOAD_QUOTA),
        "WEBHOOK_RELAY_INTERVAL_SECONDS": "0",
    }
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(2):
            port = _free_port()
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                    _serve_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for base, process in zip(urls, processes, strict=True):
            _wait_until_serving(base, process)
        yield Instances((urls[0], urls[1]), settings)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


@pytest.fixture
async def shared(instances: Instances) -> AsyncIterator[Database]:
    """The instances' database, opened by the test process (seeding through the service layer, reading state)."""
    database = Database(instances.settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def clients(instances: Instances) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with (
        httpx.AsyncClient(base_url=instances.urls[0], timeout=60, limits=limits) as a,
        httpx.AsyncClient(base_url=instances.urls[1], timeout=60, limits=limits) as b,
    ):
        yield a, b


def _from(n: int) -> dict[str, str]:
    """The headers of a request from client address n (a documentation network, one address per request)."""
    return {"x-forwarded-for": f"198.51.100.{n + 1}"}


async def _burst(clients: tuple[httpx.AsyncClient, httpx.AsyncClient], send: Any) -> list[httpx.Response]:
    """`send(client, n)` for n in 0..19, all at once: the even ones to the first instance, the odd ones to the
    second."""
    return list(await asyncio.gather(*(send(clients[n % 2], n) for n in range(BURST))))


async def _gql(client: httpx.AsyncClient, n: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=_from(n))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _count(db: Database, *where: Any, model: Any) -> int:
    async with db.read_sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


SEND = (
    "mutation($input: VerificationCodeSendInput!) { verificationCodeSend(input: $input) { "
    "sentCode { sentTo } errors { code retryAfter } } }"
)


async def test_code_3_twenty_simultaneous_registration_code_sends_to_one_phone_send_exactly_one(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], shared: Database
) -> None:
    # Given a phone no code was sent to
    phone = "13700000031"
    destination = normalize_phone(phone)

    # When 20 clients ask for its registration code at once, 10 through each instance
    async def send(client: httpx.AsyncClient, n: int) -> dict[str, Any]:
        data = await _gql(client, n, SEND, {"input": {"purpose": "REGISTRATION", "phone": phone}})
        return dict(data["verificationCodeSend"])

    answers = await _burst(clients, send)
    # Then exactly one code is sent (CODE-3: one a minute per destination and purpose), and the 19 others are
    # refused with RESEND_TOO_SOON and when to try again
    sent = [a for a in answers if a["errors"] == []]
    refused = [a["errors"] for a in answers if a["errors"] != []]
    assert len(sent) == 1, answers
    assert sent[0]["sentCode"] is not None
    assert len(refused) == BURST - 1
    assert {e[0]["code"] for e in refused} == {"RESEND_TOO_SOON"}
    # (a refused request may have started before the winner's send: up to 61 s from its own start)
    assert all(0 < e[0]["retryAfter"] <= 61 for e in refused), refused
    # And the database holds one code and one message for the phone
    assert await _count(shared, OneTimeCode.destination == destination, model=OneTimeCode) == 1
    assert await _count(shared, OutboxMessage.destination == destination, model=OutboxMessage) == 1


async def test_rev_3_twenty_reviewers_claiming_one_item_at_once_through_two_instances_one_gets_it(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], shared: Database, instances: Instances
) -> None:
    # Given a pending phone-rebind appeal in the review queue, and 20 reviewers signed in to the back office
    deps = build_deps(instances.settings)
    [item_id], _ = await run_write(shared, deps, seed_rebind_appeals, count=1, already_on_phone=0, claim=False)
    staff: list[reviewers.ReviewerSignIn] = []
    for i in range(BURST):
        created = await run_write(
            shared, deps, reviewers.add_reviewer, username=f"claimer{i}", display_name=f"Claimer {i}",
            role="reviewer", password=STAFF_PASSWORD,
        )  # fmt: skip
        assert not isinstance(created, Exception), created
        code = pyotp.parse_uri(created.provisioning_uri).now()
        signed_in = await reviewers.sign_in(
            DbTransactions(shared, deps), f"claimer{i}", STAFF_PASSWORD, code, f"192.0.2.{i + 1}"
        )
        assert not isinstance(signed_in, Exception), signed_in
        staff.append(signed_in)

    # When all 20 claim it at once, 10 through each instance
    async def claim(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.post(
            f"/backoffice/items/{item_id}/claim",
            data={"csrf": staff[n].csrf_token},
            headers={**_from(n), "cookie": f"bo_session={staff[n].token}"},
        )

    answers = await _burst(clients, claim)
    # Then exactly one claim succeeds (REV-3: a conditional update), the 19 others are told someone holds it
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {303: 1, 409: BURST - 1}, statuses
    winner = next(n for n, r in enumerate(answers) if r.status_code == 303)
    assert all("Someone else holds this item." in r.text for r in answers if r.status_code == 409)
    # And the database names the one winner as the holder, with one claim in the audit
    async with shared.read_sessions() as s:
        item = await s.get(ReviewItem, item_id)
        assert item is not None
        assert (item.state, item.claimed_by) == ("claimed", staff[winner].reviewer.id)
        claims = await s.scalar(
            select(func.count())
            .select_from(ReviewAuditEntry)
            .where(ReviewAuditEntry.item_id == item_id, ReviewAuditEntry.action == "claim")
        )
    assert claims == 1


SIGN_IN = (
    "mutation($input: SessionCreateBySmsCodeInput!) { sessionCreateBySmsCode(input: $input) { "
    f"{sign_in_result('token', 'token')} errors {{ code }} }} }}"
)


async def test_code_2_one_sms_code_used_by_twenty_simultaneous_sign_ins_signs_in_once(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], shared: Database
) -> None:
    # Given a sign-in code sent to a phone (through the first instance), read from the sandbox outbox
    phone = "13700000032"
    destination = normalize_phone(phone)
    sent = await mutate(clients[0], "verificationCodeSend", {"purpose": "LOGIN", "phone": phone}, "sentCode { sentTo }")
    assert sent["errors"] == [], sent
    messages = (await clients[1].get("/sandbox/outbox.json", params={"to": phone})).json()
    match = re.search(r"\b\d{6}\b", messages[0]["text"])
    assert match is not None
    code = match.group()

    # When 20 clients sign in with it at once, 10 through each instance
    async def sign_in(client: httpx.AsyncClient, n: int) -> dict[str, Any]:
        data = await _gql(client, n, SIGN_IN, {"input": {"phone": phone, "code": code}})
        return dict(data["sessionCreateBySmsCode"])

    answers = await _burst(clients, sign_in)
    # Then exactly one signs in (CODE-2: a code is used once; REG-4 creates the phone's portal account once), and
    # the 19 others are refused with the code's documented errors: it no longer matches a live code
    # (CODE_INVALID), or a concurrent request used it up between the match and the use (CODE_ATTEMPTS_EXHAUSTED)
    signed_in = [a for a in answers if a["errors"] == []]
    refused = [a["errors"][0]["code"] for a in answers if a["errors"] != []]
    assert len(signed_in) == 1, answers
    assert signed_in[0]["result"]["__typename"] == "SignedIn"
    assert len(refused) == BURST - 1
    assert set(refused) <= {"CODE_INVALID", "CODE_ATTEMPTS_EXHAUSTED"}, Counter(refused)
    # And the database holds one used code, one portal account for the phone, and one session for it
    async with shared.read_sessions() as s:
        [(consumed_at,)] = (
            await s.execute(
                select(OneTimeCode.consumed_at).where(
                    OneTimeCode.destination == destination, OneTimeCode.purpose == "LOGIN"
                )
            )
        ).all()
        account_ids = list(
            await s.scalars(select(Account.id).where(Account.phone == destination, Account.kind == "portal"))
        )
    assert consumed_at is not None
    assert len(account_ids) == 1
    assert await _count(shared, AuthSession.account_id == account_ids[0], model=AuthSession) == 1


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


async def test_org_2_twenty_simultaneous_uploads_store_exactly_the_daily_quota_and_any_instance_serves_them(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], shared: Database
) -> None:
    # Given a signed-in account with its daily upload quota of 5 untouched
    token = await registered_and_signed_in(clients[0], "crossup1", "13700000033")
    auth = {"authorization": f"Bearer {token}"}
    async with shared.read_sessions() as s:
        account_id = await s.scalar(select(Account.id).where(Account.username == "crossup1"))

    # When it uploads 20 documents at once, 10 through each instance
    async def upload(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.post("/uploads", files={"file": ("id.png", _png())}, headers={**auth, **_from(n)})

    answers = await _burst(clients, upload)
    # Then exactly the quota is stored (ORG-2: the slot is taken atomically in the database), the others are
    # refused with UPLOAD_QUOTA_REACHED
    assert Counter(r.status_code for r in answers) == {201: UPLOAD_QUOTA, 429: BURST - UPLOAD_QUOTA}
    assert {r.json()["errors"][0]["code"] for r in answers if r.status_code == 429} == {"UPLOAD_QUOTA_REACHED"}
    # And the database holds 5 documents, each with its bytes, and a count of 5 for the day
    async with shared.read_sessions() as s:
        documents = int(await s.scalar(select(func.count()).select_from(Document)) or 0)
        blobs = int(await s.scalar(select(func.count()).select_from(DocumentBlob)) or 0)
        counted = await s.scalar(select(DocumentDailyCount.count).where(DocumentDailyCount.account_id == account_id))
    assert (documents, blobs, counted) == (UPLOAD_QUOTA, UPLOAD_QUOTA, UPLOAD_QUOTA)
    # And each document is served by the instance that did not store it (ORG-3: the bytes are in the database)
    stored = [(n, r.json()["id"]) for n, r in enumerate(answers) if r.status_code == 201]
    for n, upload_id in stored:
        other = clients[(n + 1) % 2]
        fetched = await other.get(f"/uploads/{upload_id}", headers=auth)
        assert fetched.status_code == 200, fetched.text
        assert fetched.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(fetched.content)).size == (24, 16)
