"""Health and metrics (issue 16 item 3): `/healthz`, `/readyz` and `/metrics`.

- `/healthz`: the process answers. No database, no authentication.
- `/readyz`: the database answers within READY_TIMEOUT and its `alembic_version` is the head of
  migrations/versions (read once per process); else 503 with a short reason (never a connection string
  or a driver's message). No authentication: a load balancer asks it.
- `/metrics`: Prometheus text (services/metrics.py), only to clients in METRICS_ALLOWED_NETWORKS (the
  address as TRUSTED_PROXY_COUNT resolves it, like every edge); anyone else gets 404, as if it did not
  exist. The review queues and the webhook deliveries pending and failed are read at scrape time, one
  grouped statement each, bounded by SCRAPE_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from pathlib import Path

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from edges.client import client_ip
from services import metrics
from services.database import Database, run_read
from services.review import queues
from services.review.service import QUEUES
from services.uow import Deps
from services.webhooks import repository as webhook_repo

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
READY_TIMEOUT = 2.0  # seconds
SCRAPE_TIMEOUT = 2.0  # seconds

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def schema_heads() -> frozenset[str]:
    """The head revision(s) of migrations/versions, read once per process."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


async def _schema_revisions(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return {str(row[0]) for row in rows}


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    db: Database = request.app.state.db
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            revisions = await _schema_revisions(db)
    except Exception:  # unreachable, timed out, or no alembic_version table: not ready, whatever the cause
        return JSONResponse({"status": "unavailable", "reason": "database not reachable or not migrated"}, 503)
    if revisions != schema_heads():
        return JSONResponse({"status": "unavailable", "reason": "database schema is not at the latest migration"}, 503)
    return JSONResponse({"status": "ok"})


def allowed(address: str | None, networks: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


async def _queue_rows(db: Database, deps: Deps) -> list[tuple[int, int, int]] | None:
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT):
            counts = await run_read(db, deps, queues.counts)
    except Exception:  # the scrape still answers; review_queue_scrape_ok says the queues are missing
        return None
    return [(days, count.open, count.overdue) for days, count in counts.items()]


async def _webhook_counts(db: Database, deps: Deps) -> dict[str, int] | None:
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT):
            return await run_read(db, deps, webhook_repo.counts)
    except Exception:  # the scrape still answers, without the webhook gauges
        return None


async def metrics_page(request: Request) -> Response:
    settings = request.app.state.settings
    if not allowed(client_ip(request, settings.trusted_proxy_count), settings.metrics_networks):
        return PlainTextResponse("Not Found", status_code=404)
    rows = await _queue_rows(request.app.state.db, request.app.state.deps)
    webhooks = await _webhook_counts(request.app.state.db, request.app.state.deps)
    body = metrics.render(QUEUES, rows, webhooks)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"cache-control": "no-store"})


routes = [
    Route("/healthz", health),
    Route("/readyz", ready),
    Route("/metrics", metrics_page),
]
