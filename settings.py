"""One Settings object, read from the environment.

Every variable is documented in the README ("Configuration"). Development defaults let
`make run` work on a fresh machine; production refuses to start with the development secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Self

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    return int(value)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./account-center.db"
    environment: str = "development"  # development | test | production
    sandbox: bool = True
    secret_key: str = DEV_SECRET_KEY
    host: str = "127.0.0.1"
    port: int = 8000
    # argon2id, OWASP's first configuration (m = 19 MiB, t = 2, p = 1).
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    # Threads hashing with argon2 at a lower CPU priority; 0 means one per core.
    password_hash_workers: int = 0
    # CODE-3: requests per destination per (Asia/Shanghai) day.
    code_daily_cap: int = 10
    # Request guards.
    max_body_bytes: int = 64 * 1024
    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    # The cost of a document once fragments are spread (schema/guards.py): about its number of fields,
    # more for a field repeated at the same place, plus 10 per operation and fragment. Refused above
    # this before graphql-core validates it (the largest query of the tests costs about 70).
    max_query_complexity: int = 1000
    # Uploaded documents (ORG-2, ORG-3): private, outside the web root.
    upload_dir: str = "./var/uploads"
    # Background sweeper interval (seconds); 0 turns it off.
    sweep_interval_seconds: int = 60
    trusted_proxy_count: int = 0
    # The address users reach this service at; links shown to phones (face-check QR codes) use it.
    # Empty means http://HOST:PORT.
    public_url: str = ""
    # Seconds to wait for an outside provider (identity registry, bank-card check, liveness).
    provider_timeout_seconds: float = 10.0

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Self:
        e = dict(os.environ if env is None else env)
        d = cls()
        settings = cls(
            database_url=e.get("DATABASE_URL") or d.database_url,
            environment=e.get("ENVIRONMENT") or d.environment,
            sandbox=_bool(e.get("SANDBOX"), d.sandbox),
            secret_key=e.get("SECRET_KEY") or d.secret_key,
            host=e.get("HOST") or d.host,
            port=_int(e.get("PORT"), d.port),
            argon2_memory_kib=_int(e.get("ARGON2_MEMORY_KIB"), d.argon2_memory_kib),
            argon2_time_cost=_int(e.get("ARGON2_TIME_COST"), d.argon2_time_cost),
            argon2_parallelism=_int(e.get("ARGON2_PARALLELISM"), d.argon2_parallelism),
            password_hash_workers=_int(e.get("PASSWORD_HASH_WORKERS"), d.password_hash_workers),
            code_daily_cap=_int(e.get("CODE_DAILY_CAP"), d.code_daily_cap),
            max_body_bytes=_int(e.get("MAX_BODY_BYTES"), d.max_body_bytes),
            max_query_complexity=_int(e.get("MAX_QUERY_COMPLEXITY"), d.max_query_complexity),
            upload_dir=e.get("UPLOAD_DIR") or d.upload_dir,
            sweep_interval_seconds=_int(e.get("SWEEP_INTERVAL_SECONDS"), d.sweep_interval_seconds),
            trusted_proxy_count=_int(e.get("TRUSTED_PROXY_COUNT"), d.trusted_proxy_count),
            public_url=e.get("PUBLIC_URL") or d.public_url,
            provider_timeout_seconds=float(e.get("PROVIDER_TIMEOUT_SECONDS") or d.provider_timeout_seconds),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.environment not in {"development", "test", "production"}:
            raise ValueError(f"ENVIRONMENT must be development, test or production, not {self.environment!r}")
        if self.is_production and self.secret_key == DEV_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set in production")
        if not 0 < self.provider_timeout_seconds <= 120:
            # The sweeper gives back a bank-card attempt left pending for 5 minutes; a provider call
            # must end well before that.
            raise ValueError("PROVIDER_TIMEOUT_SECONDS must be between 0 and 120")
        if not 1 <= self.max_query_complexity <= 10_000:
            # Far above the default, graphql-core's validation of a hostile document takes long again.
            raise ValueError("MAX_QUERY_COMPLEXITY must be between 1 and 10000")
        if self.is_production and self.sandbox:
            raise ValueError("SANDBOX must be off in production")
