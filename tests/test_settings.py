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


def test_rec_1_bot_check_settings_are_read_and_refused_when_half_set_or_unsafe() -> None:
    prod = {"ENVIRONMENT": "production", "SANDBOX": "false", "SECRET_KEY": "k" * 32}
    # A verifier URL and its secret are read together, with the call's timeout
    s = Settings.from_env(
        {
            **prod,
            "BOT_CHECK_VERIFY_URL": "https://challenges.example/siteverify",
            "BOT_CHECK_SECRET": "0x-secret",
            "BOT_CHECK_TIMEOUT_SECONDS": "3",
        }
    )
    assert (s.bot_check_verify_url, s.bot_check_secret, s.bot_check_timeout_seconds) == (
        "https://challenges.example/siteverify",
        "0x-secret",
        3.0,
    )
    # One without the other is a mistake
    with pytest.raises(ValueError, match="together"):
        Settings.from_env({**prod, "BOT_CHECK_VERIFY_URL": "https://challenges.example/siteverify"})
    with pytest.raises(ValueError, match="together"):
        Settings.from_env({**prod, "BOT_CHECK_SECRET": "0x-secret"})
    # The secret is never posted in clear in production; outside it a loopback http URL is fine
    plain = {"BOT_CHECK_VERIFY_URL": "http://127.0.0.1:9/siteverify", "BOT_CHECK_SECRET": "0x-secret"}
    with pytest.raises(ValueError, match="https"):
        Settings.from_env({**prod, **plain})
    assert Settings.from_env({"ENVIRONMENT": "test", **plain}).bot_check_verify_url == plain["BOT_CHECK_VERIFY_URL"]
    with pytest.raises(ValueError, match="http"):
        Settings.from_env({"BOT_CHECK_VERIFY_URL": "ftp://x/siteverify", "BOT_CHECK_SECRET": "s"})
    with pytest.raises(ValueError, match="BOT_CHECK_TIMEOUT_SECONDS"):
        Settings.from_env({"BOT_CHECK_TIMEOUT_SECONDS": "0"})
    # None at all still starts: every bot check then fails closed (BOT_CHECK_UNAVAILABLE)
    assert Settings.from_env(prod).bot_check_verify_url == ""
