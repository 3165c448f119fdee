"""Issue 16 item 3: /healthz, /readyz (database reachable, schema at the latest migration) and /metrics
(Prometheus, loopback only unless METRICS_ALLOWED_NETWORKS says otherwise)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app import create_app
from edges.health import schema_heads
from models.accounts import Account
from services.database import Database
from services.review import kinds
from services.review import service as review
from services.uow import Uow
from settings import Settings
from tests.conftest import IS_PG
from tests.helpers import PASSWORD, gql, mutate, register, send_code, sign_in, sign_in_result

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def local_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client on loopback, where /metrics answers by default."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def scrape(client: httpx.AsyncClient) -> Series:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    series: Series = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            series[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return series


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


# --- /healthz and /readyz -------------------------------------------------------------------------


async def test_healthz_and_readyz_answer_200_on_a_migrated_database(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


async def test_readyz_is_503_when_the_schema_is_behind_the_latest_migration(client, db) -> None:
    # Given a database one migration behind the code (its alembic_version names an older revision)
    (head,) = schema_heads()
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :old"), {"old": f"{int(head) - 1:04d}"})
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "reason": "database schema is not at the latest migration"}
    # (restored for the PostgreSQL run, where the test databases share one schema)
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert (await client.get("/readyz")).status_code == 200


async def test_readyz_is_503_for_a_database_never_migrated(settings, clock, tmp_path: Path) -> None:
    # A throw-away SQLite file stands for a database without the schema, whichever engine the suite runs on
    # (readiness reads `alembic_version` the same way on both).
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        app = create_app(settings, clock=clock, db=database)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            ready = await c.get("/readyz")
        assert (ready.status_code, ready.json()["reason"]) == (503, "database not reachable or not migrated")
    finally:
        await database.dispose()


async def test_readyz_is_503_without_secrets_when_the_database_is_unreachable(settings, clock, tmp_path) -> None:
    if IS_PG:
        url = "postgresql+asyncpg://nobody:s3cret-pw@127.0.0.1:1/none"  # nothing listens on port 1
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/no-such-dir/s3cret-pw.db"
    database = Database(url)
    try:
        app = create_app(dataclasses.replace(settings, database_url=url), clock=clock, db=database)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            ready = await c.get("/readyz")
            health = await c.get("/healthz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "reason": "database not reachable or not migrated"}
        assert "s3cret" not in ready.text
        assert "127.0.0.1" not in ready.text
        assert health.status_code == 200  # the process is alive all the same
    finally:
        await database.dispose()


# --- who may read /metrics ------------------------------------------------------------------------


async def test_metrics_is_404_for_a_client_outside_the_allowed_networks(client, local_client) -> None:
    # The default client is 203.0.113.7: not loopback
    outside = await client.get("/metrics")
    assert (outside.status_code, outside.text) == (404, "Not Found")
    assert "account_center_" in (await local_client.get("/metrics")).text


async def test_metrics_allowed_networks_setting_opens_and_closes_it(settings, clock, db) -> None:
    opened = create_app(dataclasses.replace(settings, metrics_allowed_networks=("203.0.113.0/24",)), clock=clock, db=db)
    closed = create_app(dataclasses.replace(settings, metrics_allowed_networks=()), clock=clock, db=db)
    for app, peer, status in (
        (opened, "203.0.113.7", 200),
        (opened, "127.0.0.1", 404),  # the list replaces loopback
        (closed, "127.0.0.1", 404),  # `none`: off for everyone
    ):
        transport = httpx.ASGITransport(app=app, client=(peer, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/metrics")).status_code == status, (peer, status)


async def test_metrics_behind_a_trusted_proxy_uses_the_forwarded_client(settings, clock, db) -> None:
    # Behind one trusted proxy on loopback, an outside client is not loopback
    app = create_app(dataclasses.replace(settings, trusted_proxy_count=1), clock=clock, db=db)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/metrics", headers={"x-forwarded-for": "198.51.100.9"})).status_code == 404
        assert (await c.get("/metrics", headers={"x-forwarded-for": "127.0.0.1"})).status_code == 200


def test_metrics_allowed_networks_is_read_and_checked() -> None:
    assert Settings.from_env({}).metrics_allowed_networks == ("127.0.0.0/8", "::1/128")
    read = Settings.from_env({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, fd00::/8"})
    assert read.metrics_allowed_networks == ("10.0.0.0/8", "fd00::/8")
    assert Settings.from_env({"METRICS_ALLOWED_NETWORKS": "none"}).metrics_allowed_networks == ()
    with pytest.raises(ValueError, match="METRICS_ALLOWED_NETWORKS: 'intranet' is not an IP network"):
        Settings.from_env({"METRICS_ALLOWED_NETWORKS": "intranet"})


# --- the series -----------------------------------------------------------------------------------


async def test_metrics_have_help_texts_and_the_prefix(local_client) -> None:
    body = (await local_client.get("/metrics")).text
    for name in (
        "account_center_graphql_requests_total",
        "account_center_graphql_request_duration_seconds",
        "account_center_security_events_total",
        "account_center_sign_ins_total",
        "account_center_codes_sent_total",
        "account_center_review_queue_items",
        "account_center_review_queue_overdue_items",
    ):
        assert f"# HELP {name} " in body, name


async def test_graphql_requests_are_counted_by_operation_and_outcome(client, local_client) -> None:
    before = await scrape(local_client)
    # an operation that answers, one refused with a payload error, and one with a GraphQL error
    await gql(client, "query Ping { __typename }")
    refused = await client.post(
        "/graphql",
        json={
            "query": f"mutation WrongPassword($input: SessionCreateByPasswordInput!) {{ sessionCreateByPassword("
            f"input: $input) {{ {sign_in_result()} errors {{ code }} }} }}",
            "variables": {"input": {"loginName": "nobody01", "password": "Wrong-Password-1"}},
        },
    )
    assert refused.json()["data"]["sessionCreateByPassword"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    await gql(client, "query Broken { noSuchField }", expect_errors=True)
    after = await scrape(local_client)

    name = "account_center_graphql_requests_total"
    for labels in (
        {"operation": "Ping", "outcome": "ok", "code": ""},
        {"operation": "WrongPassword", "outcome": "user_error", "code": "INVALID_CREDENTIALS"},
        {"operation": "Broken", "outcome": "error", "code": "GRAPHQL_VALIDATION_FAILED"},
    ):
        assert value(after, name, **labels) - value(before, name, **labels) == 1, labels
    count = "account_center_graphql_request_duration_seconds_count"
    assert (
        value(after, count, operation="Ping", outcome="ok") - value(before, count, operation="Ping", outcome="ok") == 1
    )


async def test_sign_ins_and_codes_sent_are_counted_once_committed(client, local_client) -> None:
    before = await scrape(local_client)
    assert (await register(client, "metrics01", "13700000051"))["errors"] == []
    await sign_in(client, "metrics01")
    wrong = await mutate(
        client, "sessionCreateByPassword", {"loginName": "metrics01", "password": PASSWORD + "x"}, sign_in_result()
    )
    assert wrong["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # a refused send (the 60 s gap) is rolled back and counts nothing
    assert (await send_code(client, "REGISTRATION", phone="13700000051"))["errors"][0]["code"] == "RESEND_TOO_SOON"
    after = await scrape(local_client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("account_center_codes_sent_total", purpose="REGISTRATION", channel="sms") == 1
    assert delta("account_center_sign_ins_total", outcome="success", method="password") == 1
    assert delta("account_center_sign_ins_total", outcome="wrong_password", method="password") == 1
    assert delta("account_center_security_events_total", kind="sign_in_failed") == 1
    assert delta("account_center_security_events_total", kind="signed_in") == 1


async def test_sign_in_lockout_is_counted_as_locked(client, local_client) -> None:
    assert (await register(client, "metrics02", "13700000052"))["errors"] == []
    before = await scrape(local_client)
    codes = []
    for _ in range(6):
        wrong = await mutate(
            client, "sessionCreateByPassword", {"loginName": "metrics02", "password": "Not-The-One-9"}, sign_in_result()
        )
        codes.append(wrong["errors"][0]["code"])
    after = await scrape(local_client)
    assert codes[-1] != "INVALID_CREDENTIALS"  # the lock answers
    locked = value(after, "account_center_sign_ins_total", outcome="locked", method="password") - value(
        before, "account_center_sign_ins_total", outcome="locked", method="password"
    )
    assert locked >= 1


class _Handler:
    label = "metrics test"


async def test_review_queue_gauges_show_a_submitted_item(db, clock, run, local_client) -> None:
    kinds.register("metrics_test_subject", _Handler())  # type: ignore[arg-type]  # submit needs the kind only
    before = await scrape(local_client)
    assert value(before, "account_center_review_queue_scrape_ok") == 1
    # the known queues are always there, at 0 when empty
    assert ("account_center_review_queue_items", frozenset({("queue_days", "5")})) in before
    async with db.write_sessions() as s:
        account = Account(
            kind="cloud", status="active", phone="+8613700000053", idle_timeout_minutes=60,
            op_protection_sms=True, op_protection_totp=False, login_protection_sms=False,
            login_protection_totp=False, created_at=clock.now(),
        )  # fmt: skip
        s.add(account)
        await s.commit()
        account_id = account.id

    async def submit(uow: Uow) -> None:
        await review.submit(uow, kind="metrics_test_subject", subject_id=1, account_id=account_id, queue_days=2)

    await run(submit)
    during = await scrape(local_client)
    assert value(during, "account_center_review_queue_items", queue_days="2") == 1
    assert value(during, "account_center_review_queue_overdue_items", queue_days="2") == 0
    clock.advance(days=30)  # long past its due time
    late = await scrape(local_client)
    assert value(late, "account_center_review_queue_overdue_items", queue_days="2") == 1


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, each worker writes its values there and a scrape in any worker adds
    them up (two processes here, each sending one code)."""
    import os
    import subprocess
    import sys

    script = (
        "from services import metrics\n"
        "metrics.CODES_SENT.labels('LOGIN', 'sms').inc()\n"
        "print(metrics.render((2, 5), None).decode())\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parent.parent
    outputs = [
        subprocess.run(  # noqa: S603 - this interpreter with a fixed script
            [sys.executable, "-c", script], env=env, cwd=root, capture_output=True, text=True, check=True
        )
        for _ in range(2)
    ]
    assert 'account_center_codes_sent_total{channel="sms",purpose="LOGIN"} 2.0' in outputs[1].stdout
    assert "account_center_review_queue_scrape_ok 0.0" in outputs[1].stdout
