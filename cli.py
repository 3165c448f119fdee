"""The `account-center` command: serve, migrate, seed-demo, sweep, reviewer add, webhooks, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def migrate(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the database to `revision` with Alembic."""
    from alembic import command
    from alembic.config import Config

    from settings import Settings

    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.attributes["database_url"] = database_url or Settings.from_env().database_url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, revision)


# `serve --workers N` (N > 1): uvicorn starts N processes that each import `cli:worker_app` and build the app
# from the environment; the one command-line choice they need travels in this variable.
_ACCESS_LOG_ENV = "ACCOUNT_CENTER_ACCESS_LOG"


def worker_app() -> Any:
    """The app factory of one `serve --workers N` process: settings and logging read from the environment."""
    from app import create_app
    from logs import configure_logging
    from settings import Settings

    settings = Settings.from_env()
    configure_logging(settings, access_log=os.environ.get(_ACCESS_LOG_ENV, "1") != "0")
    return create_app(settings)


# prometheus_client's multi-process mode (services/metrics.py): where every worker keeps its values.
MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def metrics_directory(workers: int) -> Iterator[Path | None]:
    """Ready PROMETHEUS_MULTIPROC_DIR for the workers about to start, before services.metrics is imported.

    Set: the directory is created if missing and emptied of prometheus_client's files (`*.db`; values a
    previous run left there would be added to this run's), nothing else in it is touched. Unset with
    several workers: a private directory is made for this run (so a scrape of any worker adds up every
    worker's values) and removed when serve exits. Unset with one worker: the process's own registry."""
    configured = os.environ.get(MULTIPROC_DIR_ENV)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
        yield directory
    elif workers > 1:
        private = Path(tempfile.mkdtemp(prefix="account-center-metrics-"))
        os.environ[MULTIPROC_DIR_ENV] = str(private)  # inherited by the worker processes
        try:
            yield private
        finally:
            os.environ.pop(MULTIPROC_DIR_ENV, None)
            shutil.rmtree(private, ignore_errors=True)
    else:
        yield None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from logs import configure_logging
    from settings import Settings

    if args.workers < 1:
        print("account-center serve: refused to start: --workers must be 1 or more", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a bad setting: say which, without a traceback
        print(f"account-center serve: refused to start: {exc}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(metrics_directory(args.workers))
        except OSError as exc:  # the configured directory cannot be created or emptied
            print(f"account-center serve: refused to start: {MULTIPROC_DIR_ENV}: {exc.strerror}", file=sys.stderr)
            return 2
        from app import create_app  # after metrics_directory: services.metrics reads the variable on import

        configure_logging(settings, access_log=args.access_log)
        options: dict[str, Any] = {
            "host": args.host or settings.host,
            "port": args.port or settings.port,
            # Our logging stays in place (JSON lines, no query strings): uvicorn configures none of its own,
            # and the app writes the access line (with the request ID) instead of uvicorn's.
            "log_config": None,
            "log_level": settings.log_level.lower(),
            "access_log": False,
            "proxy_headers": False,
        }
        if args.workers == 1:  # one process: the app built here
            uvicorn.run(create_app(settings), **options)
        else:  # a supervisor and N worker processes sharing the listening socket
            os.environ[_ACCESS_LOG_ENV] = "1" if args.access_log else "0"
            uvicorn.run("cli:worker_app", factory=True, workers=args.workers, **options)
    return 0


def _migrate(_: argparse.Namespace) -> int:
    migrate()
    print("database is at the latest migration")
    return 0


def _seed(_: argparse.Namespace) -> int:
    from app import build_deps
    from services.database import Database, run_write
    from services.demo import refusal, seed
    from services.errors import ServiceError
    from settings import Settings

    settings = Settings.from_env()
    if (reason := refusal(settings)) is not None:  # before the database is even opened
        print(f"seed-demo refused: {reason}", file=sys.stderr)
        return 2

    async def main() -> int:
        db = Database(settings.database_url)
        try:
            result = await run_write(db, build_deps(settings), seed)
        finally:
            await db.dispose()
        if isinstance(result, ServiceError):
            print(f"seed failed: {result.message}", file=sys.stderr)
            return 1
        print("Demo data (sandbox):")
        for line in result:
            print("  " + line)
        return 0

    return asyncio.run(main())


def _sweep(_: argparse.Namespace) -> int:
    from app import build_deps
    from logs import configure_logging, get_logger
    from services.database import Database
    from services.sweeper import SKIPPED, sweep_round
    from settings import Settings

    settings = Settings.from_env()
    configure_logging(settings)

    async def main() -> int:
        db = Database(settings.database_url)
        try:
            result = await sweep_round(db, build_deps(settings))
        finally:
            await db.dispose()
        if result == SKIPPED:  # not a failure: the instance holding the lock sweeps
            get_logger("account_center.sweeper").info("sweep skipped: another instance holds the sweeper lock")
        print(result)
        return 0

    return asyncio.run(main())


def _reviewer_add(args: argparse.Namespace) -> int:
    """Create a back-office reviewer; print the TOTP provisioning URI (REV-6)."""
    import getpass

    from app import build_deps
    from services.database import Database, run_write
    from services.errors import ServiceError
    from services.review import reviewers
    from settings import Settings

    password = os.environ.get("REVIEWER_PASSWORD") or getpass.getpass("Password (12+ characters): ")

    async def main() -> int:
        settings = Settings.from_env()
        db = Database(settings.database_url)
        try:
            result = await run_write(
                db,
                build_deps(settings),
                reviewers.add_reviewer,
                username=args.username,
                display_name=args.display_name or args.username,
                role=args.role,
                password=password,
            )
        finally:
            await db.dispose()
        if isinstance(result, ServiceError):
            print(f"refused ({result.code.value}): {result.message}", file=sys.stderr)
            return 1
        print(f"reviewer {result.reviewer.username} ({result.reviewer.role}) created")
        print("Add this to an authenticator app (TOTP, 6 digits, 30 s):")
        print(result.provisioning_uri)
        return 0

    return asyncio.run(main())


def _webhooks(args: argparse.Namespace) -> int:
    """`account-center webhooks add|list|remove|roll-secret|failed|resend|relay` (docs/webhooks.md)."""
    from app import build_deps
    from services.database import Database, run_write
    from services.errors import ServiceError
    from services.webhooks import endpoints
    from settings import Settings

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"account-center webhooks: refused: {exc}", file=sys.stderr)
        return 2
    if args.webhooks_command == "relay":
        return _webhooks_relay(settings)

    async def main() -> int:
        db = Database(settings.database_url)
        deps = build_deps(settings)
        try:
            return await _webhooks_command(args, db, deps)
        finally:
            await db.dispose()

    async def _webhooks_command(args: argparse.Namespace, db: Database, deps: Any) -> int:
        command = args.webhooks_command
        if command == "add":
            try:
                added = await run_write(db, deps, endpoints.add, args.url, args.events)
            except endpoints.EndpointRefused as exc:
                print(f"refused: {exc}", file=sys.stderr)
                return 1
            assert not isinstance(added, ServiceError)
            print(f"endpoint {added.public_id} added for {added.events} -> {added.url}")
            print("Signing secret (shown once; receivers verify Account-Center-Signature with it):")
            print(added.secret)
            return 0
        if command == "list":
            listed = await run_write(db, deps, endpoints.listed)
            assert not isinstance(listed, ServiceError)
            for endpoint in listed:
                state = "enabled" if endpoint.enabled else "disabled"
                print(f"{endpoint.public_id}\t{state}\t{endpoint.events}\t{endpoint.url}")
            return 0
        if command == "remove":
            if not await run_write(db, deps, endpoints.remove, args.id):
                print(f"no endpoint {args.id}", file=sys.stderr)
                return 1
            print(f"endpoint {args.id} removed (with its pending and failed deliveries)")
            return 0
        if command == "roll-secret":
            try:
                secret = await run_write(db, deps, endpoints.roll_secret, args.id, timedelta(hours=args.keep_old_hours))
            except endpoints.EndpointRefused as exc:
                print(f"refused: {exc}", file=sys.stderr)
                return 2
            if secret is None:
                print(f"no endpoint {args.id}", file=sys.stderr)
                return 1
            assert isinstance(secret, str)
            keep = (
                f"the previous one also signs for {args.keep_old_hours} hours"
                if args.keep_old_hours
                else "the previous one no longer signs"
            )
            print(f"endpoint {args.id}: new signing secret ({keep}); shown once:")
            print(secret)
            return 0
        if command == "failed":
            rows = await run_write(db, deps, endpoints.failed)
            assert not isinstance(rows, ServiceError)
            for row in rows:
                status = row.last_status if row.last_status is not None else "-"
                print(
                    f"{row.id}\t{row.event_public_id}\t{row.event_type}\t{row.endpoint_public_id}\t"
                    f"attempts={row.attempts}\terror={row.last_error or '-'}\tstatus={status}"
                )
            print(f"{len(rows)} failed deliveries", file=sys.stderr)
            return 0
        # resend
        if args.all_failed == (args.delivery_id is not None):
            print("give one DELIVERY_ID or --all-failed", file=sys.stderr)
            return 2
        count = await run_write(db, deps, endpoints.resend, None if args.all_failed else args.delivery_id)
        assert not isinstance(count, ServiceError)
        if count == 0 and not args.all_failed:
            print(f"no failed delivery {args.delivery_id}", file=sys.stderr)
            return 1
        print(f"{count} deliveries will be sent again")
        return 0

    return asyncio.run(main())


def _webhooks_relay(settings: Any) -> int:
    """Run only the relay loop until stopped (SIGINT/SIGTERM), e.g. as its own process."""
    from app import build_deps
    from logs import configure_logging, get_logger
    from services.database import Database
    from services.webhooks.relay import relay_forever

    configure_logging(settings)
    interval = settings.webhook_relay_interval_seconds or 1.0

    async def main() -> int:
        db = Database(settings.database_url)
        get_logger("account_center.webhooks").info("webhook relay started")
        try:
            await relay_forever(db, build_deps(settings), interval)
        finally:
            await db.dispose()
        return 0

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 0


def _export_schema(args: argparse.Namespace) -> int:
    from schema.schema import export_sdl

    sdl = export_sdl()
    if args.check:
        current = (HERE / "schema.graphql").read_text() if (HERE / "schema.graphql").exists() else ""
        if current != sdl:
            print("schema.graphql is out of date: run `make schema`", file=sys.stderr)
            return 1
        print("schema.graphql is up to date")
        return 0
    (HERE / "schema.graphql").write_text(sdl)
    print("wrote schema.graphql")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="account-center", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve /graphql and the sandbox pages")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-access-log", dest="access_log", action="store_false")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.set_defaults(func=_serve)
    sub.add_parser("migrate", help="apply the Alembic migrations").set_defaults(func=_migrate)
    sub.add_parser("seed-demo", help="create the demo accounts (idempotent)").set_defaults(func=_seed)
    sub.add_parser("sweep", help="expire what the clock has passed").set_defaults(func=_sweep)
    p = sub.add_parser("reviewer", help="manage back-office reviewers")
    reviewer_sub = p.add_subparsers(dest="reviewer_command", required=True)
    p = reviewer_sub.add_parser("add", help="add a reviewer; password from REVIEWER_PASSWORD or a prompt")
    p.add_argument("username")
    p.add_argument("--role", choices=["reviewer", "lead"], default="reviewer")
    p.add_argument("--display-name")
    p.set_defaults(func=_reviewer_add)
    p = sub.add_parser("webhooks", help="signed webhooks: endpoints, failed deliveries, the relay")
    webhooks_sub = p.add_subparsers(dest="webhooks_command", required=True)
    p = webhooks_sub.add_parser("add", help="add an endpoint; prints its ID and signing secret (once)")
    p.add_argument("--url", required=True)
    p.add_argument("--events", help="comma-separated event types (default: all)")
    p.set_defaults(func=_webhooks)
    webhooks_sub.add_parser("list", help="list the endpoints").set_defaults(func=_webhooks)
    p = webhooks_sub.add_parser("remove", help="remove an endpoint and its undelivered deliveries")
    p.add_argument("id")
    p.set_defaults(func=_webhooks)
    p = webhooks_sub.add_parser(
        "roll-secret", help="give an endpoint a new signing secret (printed once); the old one signs too for a while"
    )
    p.add_argument("id")
    p.add_argument(
        "--keep-old-hours", type=int, default=24, help="hours the previous secret keeps signing beside it (0..168)"
    )
    p.set_defaults(func=_webhooks)
    webhooks_sub.add_parser("failed", help="list the failed deliveries").set_defaults(func=_webhooks)
    p = webhooks_sub.add_parser("resend", help="send failed deliveries again")
    p.add_argument("delivery_id", nargs="?", type=int)
    p.add_argument("--all-failed", action="store_true")
    p.set_defaults(func=_webhooks)
    webhooks_sub.add_parser("relay", help="run only the relay loop").set_defaults(func=_webhooks)
    p = sub.add_parser("export-schema", help="write schema.graphql (or --check it)")
    p.add_argument("--check", action="store_true")
    p.set_defaults(func=_export_schema)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
