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


def test_code_3_sending_caps_and_outbox_retention_are_read_and_must_be_positive() -> None:
    env = {
        "CODE_DAILY_CAP_RECOVERY": "3",
        "CODE_DAILY_CAP_SIGNED_IN": "4",
        "CODE_DAILY_CAP_OWNER": "5",
        "CODE_ADDRESS_HOURLY_CAP": "6",
        "CODE_ADDRESS_DAILY_CAP": "7",
        "OUTBOX_RETENTION_DAYS": "8",
        "CODE_DAILY_CAP_LOGIN": "9",
        "CODE_DAILY_CAP_LOGIN_PER_NETWORK": "2",
        "CODE_DAILY_CAP_RESET": "11",
        "CODE_DAILY_CAP_RESET_PER_NETWORK": "1",
    }
    s = Settings.from_env(env)
    assert (
        s.code_daily_cap_recovery,
        s.code_daily_cap_signed_in,
        s.code_daily_cap_owner,
        s.code_address_hourly_cap,
        s.code_address_daily_cap,
        s.outbox_retention_days,
        s.code_daily_cap_login,
        s.code_daily_cap_login_per_network,
        s.code_daily_cap_reset,
        s.code_daily_cap_reset_per_network,
    ) == (3, 4, 5, 6, 7, 8, 9, 2, 11, 1)
    for name in [*env, "CODE_DAILY_CAP"]:
        with pytest.raises(ValueError, match=f"{name} must be at least 1"):
            Settings.from_env({name: "0"})


def test_code_3_one_networks_share_is_at_most_the_destinations_budget() -> None:
    # The defaults: 3 of 10 sign-in codes and 3 of 5 reset codes per destination and day
    d = Settings.from_env({})
    assert (d.code_daily_cap_login, d.code_daily_cap_login_per_network) == (10, 3)
    assert (d.code_daily_cap_reset, d.code_daily_cap_reset_per_network) == (5, 3)
    # A share may equal its budget, not exceed it
    assert Settings.from_env({"CODE_DAILY_CAP_RESET_PER_NETWORK": "5"}).code_daily_cap_reset_per_network == 5
    for share, whole in (("LOGIN_PER_NETWORK", "LOGIN"), ("RESET_PER_NETWORK", "RESET")):
        with pytest.raises(ValueError, match=f"CODE_DAILY_CAP_{share} must not exceed CODE_DAILY_CAP_{whole}"):
            Settings.from_env({f"CODE_DAILY_CAP_{share}": "4", f"CODE_DAILY_CAP_{whole}": "3"})


def test_rev_6_reviewer_session_lifetime_is_one_working_day_by_default_and_checked() -> None:
    assert Settings.from_env({}).reviewer_session_max_age_hours == 12
    assert Settings.from_env({"REVIEWER_SESSION_MAX_AGE_HOURS": "72"}).reviewer_session_max_age_hours == 72
    for bad in ("0", "73"):
        with pytest.raises(ValueError, match="REVIEWER_SESSION_MAX_AGE_HOURS"):
            Settings.from_env({"REVIEWER_SESSION_MAX_AGE_HOURS": bad})


def test_org_2_upload_quota_and_decode_concurrency_are_read_and_bounded() -> None:
    assert (Settings().upload_daily_quota, Settings().upload_decode_concurrency) == (50, 2)
    s = Settings.from_env({"UPLOAD_DAILY_QUOTA": "20", "UPLOAD_DECODE_CONCURRENCY": "4"})
    assert (s.upload_daily_quota, s.upload_decode_concurrency) == (20, 4)
    with pytest.raises(ValueError, match="UPLOAD_DAILY_QUOTA"):
        Settings.from_env({"UPLOAD_DAILY_QUOTA": "0"})
    with pytest.raises(ValueError, match="UPLOAD_DECODE_CONCURRENCY"):
        Settings.from_env({"UPLOAD_DECODE_CONCURRENCY": "0"})
    with pytest.raises(ValueError, match="UPLOAD_DECODE_CONCURRENCY"):
        Settings.from_env({"UPLOAD_DECODE_CONCURRENCY": "17"})


def test_production_refuses_a_secret_key_under_32_bytes() -> None:
    prod = {"ENVIRONMENT": "production", "SANDBOX": "0"}
    with pytest.raises(ValueError, match="SECRET_KEY must be at least 32 bytes"):
        Settings.from_env({**prod, "SECRET_KEY": "k" * 31})
    with pytest.raises(ValueError, match="SECRET_KEY must be at least 32 bytes"):
        Settings.from_env({**prod, "SECRET_KEY": "密" * 10})  # 10 characters, 30 bytes
    assert Settings.from_env({**prod, "SECRET_KEY": "密" * 11}).is_production  # 33 bytes
    assert Settings.from_env({**prod, "SECRET_KEY": "k" * 32}).is_production
    # Outside production a short key is allowed (tests, development)
    assert Settings.from_env({"ENVIRONMENT": "test", "SECRET_KEY": "short"}).secret_key == "short"


def test_log_level_and_format_are_read_and_checked() -> None:
    s = Settings.from_env({"LOG_LEVEL": "debug", "LOG_FORMAT": "Console"})
    assert (s.log_level, s.log_format, s.log_renderer) == ("DEBUG", "console", "console")
    assert Settings.from_env({}).log_renderer == "console"  # development
    assert Settings.from_env({"ENVIRONMENT": "test"}).log_renderer == "json"
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        Settings.from_env({"LOG_LEVEL": "TRACE"})  # uvicorn's trace level logs whole requests
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})


def test_hsts_is_on_unless_turned_off() -> None:
    assert Settings.from_env({}).hsts
    assert not Settings.from_env({"HSTS": "0"}).hsts


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


def test_session_max_age_is_read_and_kept_between_one_hour_and_thirty_days() -> None:
    assert Settings.from_env({}).session_max_age_hours == 24
    assert Settings.from_env({"SESSION_MAX_AGE_HOURS": "720"}).session_max_age_hours == 720
    assert Settings.from_env({"SESSION_MAX_AGE_HOURS": "1"}).session_max_age_hours == 1
    for refused in ("0", "721", "-5"):
        with pytest.raises(ValueError, match="SESSION_MAX_AGE_HOURS"):
            Settings.from_env({"SESSION_MAX_AGE_HOURS": refused})


def test_query_complexity_cap_is_read_and_bounded() -> None:
    assert Settings.from_env({}).max_query_complexity == 1000
    assert Settings.from_env({"MAX_QUERY_COMPLEXITY": "300"}).max_query_complexity == 300
    for wrong in ("0", "10001"):
        with pytest.raises(ValueError, match="MAX_QUERY_COMPLEXITY"):
            Settings.from_env({"MAX_QUERY_COMPLEXITY": wrong})
