"""Settings come from the environment and refuse unsafe production set-ups."""

from __future__ import annotations

import pytest

from settings import DEV_SECRET_KEY, Settings


def test_defaults_serve_sqlite_in_development_with_the_sandbox() -> None:
    s = Settings.from_env({})
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.is_development
    assert s.sandbox


def test_environment_variables_are_read() -> None:
    s = Settings.from_env(
        {"DATABASE_URL": "postgresql+asyncpg://u:p@h/db", "PORT": "9000", "CODE_DAILY_CAP": "3", "SANDBOX": "false"}
    )
    assert (s.database_url, s.port, s.code_daily_cap, s.sandbox) == ("postgresql+asyncpg://u:p@h/db", 9000, 3, False)


def test_production_needs_a_secret_key_and_no_sandbox() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings.from_env({"ENVIRONMENT": "production", "SANDBOX": "false", "SECRET_KEY": DEV_SECRET_KEY})
    with pytest.raises(ValueError, match="SANDBOX"):
        Settings.from_env({"ENVIRONMENT": "production", "SECRET_KEY": "k" * 32})
    assert Settings.from_env({"ENVIRONMENT": "production", "SANDBOX": "0", "SECRET_KEY": "k" * 32}).is_production


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="ENVIRONMENT"):
        Settings.from_env({"ENVIRONMENT": "staging"})


def test_provider_timeout_must_end_well_before_the_sweeper_gives_attempts_back() -> None:
    with pytest.raises(ValueError, match="PROVIDER_TIMEOUT_SECONDS"):
        Settings.from_env({"PROVIDER_TIMEOUT_SECONDS": "600"})
    with pytest.raises(ValueError, match="PROVIDER_TIMEOUT_SECONDS"):
        Settings.from_env({"PROVIDER_TIMEOUT_SECONDS": "0"})
    assert Settings.from_env({"PROVIDER_TIMEOUT_SECONDS": "2.5"}).provider_timeout_seconds == 2.5
    assert Settings.from_env({"PUBLIC_URL": "https://account.example/"}).base_url == "https://account.example"
    assert Settings.from_env({"PORT": "9000"}).base_url == "http://127.0.0.1:9000"


def test_query_complexity_cap_is_read_and_bounded() -> None:
    assert Settings.from_env({}).max_query_complexity == 1000
    assert Settings.from_env({"MAX_QUERY_COMPLEXITY": "300"}).max_query_complexity == 300
    for wrong in ("0", "10001"):
        with pytest.raises(ValueError, match="MAX_QUERY_COMPLEXITY"):
            Settings.from_env({"MAX_QUERY_COMPLEXITY": wrong})
