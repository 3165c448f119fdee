"""The Prometheus series of the service (issue 16 item 3), defined once for the services that count
and the edge that serves `/metrics` (app.py).

prometheus_client is a metrics library, not a web framework: services may import it (the contract
`no-frameworks-below-edges` stays whole). Services count through the helpers below, which count only
once the use case's transaction has committed (`Uow.on_commit`), so a refused or rolled-back operation
counts nothing, as it records nothing (HIST-1).

Several worker processes: with PROMETHEUS_MULTIPROC_DIR set (a writable directory, emptied before the
workers start: `account-center serve` does it, or makes a private one for `--workers` above 1),
prometheus_client keeps each process's values in files there and a scrape adds them up (`render`). The
variable must be set before this module is first imported.

Label values are bounded: event kinds, code purposes and error codes come from enums; a GraphQL
operation name comes from the client, so each process keeps at most MAX_OPERATION_NAMES distinct ones
and counts the rest as "other".

Webhook deliveries (issue 16 item 2): attempts by outcome are counted by the relay once recorded; the
deliveries pending and failed are read at scrape time like the review queues (a collector in `render`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from services.uow import Uow

PREFIX = "account_center_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_OPERATION_NAMES = 100

GRAPHQL_REQUESTS = Counter(
    f"{PREFIX}graphql_requests",
    "GraphQL operations by operation name and outcome (ok, user_error: a payload error, error: a GraphQL "
    "error), with the first error code of a user_error or an error.",
    ["operation", "outcome", "code"],
)
GRAPHQL_DURATION = Histogram(
    f"{PREFIX}graphql_request_duration_seconds",
    "Time to execute a GraphQL operation (parse, validate, execute), by operation name and outcome.",
    ["operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SECURITY_EVENTS = Counter(
    f"{PREFIX}security_events",
    "Security-history events recorded (HIST-1), by kind; counted once their transaction commits.",
    ["kind"],
)
SIGN_INS = Counter(
    f"{PREFIX}sign_ins",
    "Sign-in outcomes by method (password, sms, ...): success (a session issued), wrong_password, locked "
    "(refused by or setting a lock: a lockout), challenged (a second factor asked for, AUTH-6).",
    ["outcome", "method"],
)
CODES_SENT = Counter(
    f"{PREFIX}codes_sent",
    "One-time codes sent, by purpose and channel (CODE-3); counted once their transaction commits.",
    ["purpose", "channel"],
)

WEBHOOK_ATTEMPTS = Counter(
    f"{PREFIX}webhook_delivery_attempts",
    "Webhook delivery attempts by outcome (delivered, retried: to be tried again after a backoff, failed: no "
    "more tries) and error kind (status, timeout, connection, expired, gone, secret; empty when delivered); "
    "counted by the relaying process once the outcome is recorded.",
    ["outcome", "error"],
)

# A security-history event kind -> the sign-in outcome it is (services/history EventKind values).
_SIGN_IN_OUTCOMES = {
    "signed_in": "success",
    "sign_in_failed": "wrong_password",
    "sign_in_locked": "locked",
    "sign_in_challenged": "challenged",
}


def count_event(uow: Uow, kind: str, detail: str | None) -> None:
    """A security-history event, and the sign-in outcome it is, once the transaction commits."""

    def count() -> None:
        SECURITY_EVENTS.labels(kind).inc()
        outcome = _SIGN_IN_OUTCOMES.get(kind)
        if outcome is not None:
            SIGN_INS.labels(outcome, detail or "unknown").inc()

    uow.on_commit(count)


def count_code_sent(uow: Uow, purpose: str, channel: str) -> None:
    uow.on_commit(lambda: CODES_SENT.labels(purpose, channel).inc())


def count_webhook_attempt(uow: Uow, outcome: str, error: str | None) -> None:
    uow.on_commit(lambda: WEBHOOK_ATTEMPTS.labels(outcome, error or "").inc())


_operation_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """The label of a (validated) operation name: "anonymous" without one, "other" past the cap."""
    if not name:
        return "anonymous"
    if name in _operation_names:
        return name
    if len(_operation_names) >= MAX_OPERATION_NAMES:
        return "other"
    _operation_names.add(name)
    return name


def observe_operation(name: str | None, outcome: str, code: str | None, seconds: float) -> None:
    operation = operation_label(name)
    GRAPHQL_REQUESTS.labels(operation, outcome, code or "").inc()
    GRAPHQL_DURATION.labels(operation, outcome).observe(seconds)


class _QueueCollector(Collector):
    """REV-2's queue depth and overdue items, as read at scrape time (one grouped statement)."""

    def __init__(self, queues: Sequence[int], rows: Sequence[tuple[int, int, int]] | None) -> None:
        self.queues = queues
        self.rows = rows

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            f"{PREFIX}review_queue_items",
            "Open review items (pending, claimed, waiting for the user) per queue (working days), at scrape time.",
            labels=["queue_days"],
        )
        overdue = GaugeMetricFamily(
            f"{PREFIX}review_queue_overdue_items",
            "Open review items past their due time per queue (working days), at scrape time.",
            labels=["queue_days"],
        )
        up = GaugeMetricFamily(
            f"{PREFIX}review_queue_scrape_ok",
            "1 when the review queues could be read for this scrape, 0 when the database did not answer in time.",
        )
        up.add_metric([], 0 if self.rows is None else 1)
        if self.rows is not None:
            found = {days: (open_, late) for days, open_, late in self.rows}
            for days in sorted({*self.queues, *found}):
                open_, late = found.get(days, (0, 0))
                depth.add_metric([str(days)], open_)
                overdue.add_metric([str(days)], late)
        return [depth, overdue, up]


class _WebhookCollector(Collector):
    """Webhook deliveries pending and failed, as read at scrape time (one grouped statement)."""

    def __init__(self, counts: Mapping[str, int] | None) -> None:
        self.counts = counts

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            f"{PREFIX}webhook_deliveries_pending",
            "Webhook deliveries not yet delivered (due, leased to a relay, or waiting for a retry), at scrape time.",
        )
        failed = GaugeMetricFamily(
            f"{PREFIX}webhook_deliveries_failed",
            "Webhook deliveries that failed for good (`account-center webhooks failed` lists them), at scrape time.",
        )
        if self.counts is None:
            return []
        pending.add_metric([], self.counts.get("pending", 0))
        failed.add_metric([], self.counts.get("failed", 0))
        return [pending, failed]


def render(
    queues: Sequence[int],
    queue_rows: Sequence[tuple[int, int, int]] | None,
    webhook_counts: Mapping[str, int] | None = None,
) -> bytes:
    """The exposition text: this process's series (or, with PROMETHEUS_MULTIPROC_DIR, every worker's),
    the review queues read for this scrape (`queue_rows`, None when they could not be read) and the webhook
    deliveries pending and failed (`webhook_counts`, None when they could not be read)."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # its __init__ is unannotated upstream
    else:
        registry.register(_Default())
    registry.register(_QueueCollector(queues, queue_rows))
    registry.register(_WebhookCollector(webhook_counts))
    return generate_latest(registry)


class _Default(Collector):
    """The process's own registry (the counters above, and the process and platform collectors)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()
