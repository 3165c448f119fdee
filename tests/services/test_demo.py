"""`account-center seed-demo` creates the demo accounts, reviewers and a queued appeal, once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

import cli
from app import build_deps
from models.accounts import Account
from models.review import Reviewer, ReviewItem
from services.database import run_write
from services.demo import DemoErrorCode, seed
from services.errors import ServiceError


async def test_seed_demo_is_idempotent_and_fills_the_back_office(run, db) -> None:
    first = await run(seed)
    second = await run(seed)
    assert any("back office lead" in line for line in first)
    assert any("5-day queue" in line for line in first)
    assert not any("5-day queue" in line for line in second)
    async with db.read_sessions() as s:
        counts = [await s.scalar(select(func.count()).select_from(m)) for m in (Account, Reviewer, ReviewItem)]
    assert counts == [2, 2, 1]


@pytest.mark.parametrize(
    "changes",
    [{"sandbox": False}, {"environment": "production", "sandbox": False, "secret_key": "k" * 32}],
    ids=["sandbox-off", "production"],
)
async def test_seed_demo_is_refused_outside_a_sandbox_and_creates_nothing(settings, db, changes) -> None:
    # Given settings without the sandbox (or production)
    deps = build_deps(replace(settings, **changes))
    # When the demo data is seeded
    result = await run_write(db, deps, seed)
    # Then it is refused with the reason, and no account or reviewer exists
    assert isinstance(result, ServiceError)
    assert result.code is DemoErrorCode.NOT_SANDBOX
    assert "published passwords" in result.message
    async with db.read_sessions() as s:
        counts = [await s.scalar(select(func.count()).select_from(m)) for m in (Account, Reviewer, ReviewItem)]
    assert counts == [0, 0, 0]


def test_the_seed_demo_command_refuses_outside_a_sandbox_before_opening_the_database(
    monkeypatch, capsys, tmp_path
) -> None:
    # Given a production-like environment whose database does not even exist
    missing = tmp_path / "absent.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{missing}")
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("SANDBOX", "0")
    # When `account-center seed-demo` runs
    code = cli.main(["seed-demo"])
    # Then it exits non-zero with a clear message, and touched nothing
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("seed-demo refused: ")
    assert "SANDBOX=1" in err
    assert not missing.exists()


def test_the_seed_demo_command_works_in_development_with_the_sandbox(monkeypatch, capsys, database_url, db) -> None:
    # Given `make run`'s settings: development, the sandbox on by default
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.delenv("SANDBOX", raising=False)
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("ARGON2_TIME_COST", "1")
    # When `account-center seed-demo` runs
    code = cli.main(["seed-demo"])
    # Then the demo accounts are printed
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("Demo data (sandbox):")
    assert "demo-cloud" in out
