"""One Settings object, read from the environment.

Every variable is documented in the README ("Configuration"). Development defaults let
`make run` work on a fresh machine; production refuses to start with the development secret.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from typing import Self

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"
# A production SECRET_KEY carries at least 256 bits (e.g. `python -c "import secrets; print(secrets.token_urlsafe(32))"`).
MIN_SECRET_KEY_BYTES = 32


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    return int(value)


def _list(value: str | None) -> tuple[str, ...]:
    """A comma-separated list; blanks around items and empty items are dropped."""
    return tuple(dict.fromkeys(item.strip() for item in (value or "").split(",") if item.strip()))


def _networks(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of networks; `none` is the empty list, unset the default."""
    if value is not None and value.strip().lower() == "none":
        return ()
    return _list(value) or default


# An origin as a browser writes it in the `Origin` header: lowercase scheme and host, no default port.
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def origin_problem(origin: str) -> str | None:
    """Why `origin` is not an exact web origin (`scheme://host[:port]`, written as browsers send it in the
    `Origin` header, which is compared character for character), or None when it is one."""
    if "*" in origin:
        return "wildcards are not allowed; list every origin"
    if origin == "null":
        return "the 'null' origin (sandboxed frames, local files) is never allowed"
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        return "an origin starts with https:// or http://"
    if any(c in rest for c in "/?#"):
        return "an origin has no path, query or fragment, not even a trailing '/'"
    if "@" in rest:
        return "an origin has no user name or password"
    if origin != origin.lower():
        return "write it in lowercase, as browsers send it"
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        return "expected scheme://host[:port]"
    host, port = match["host"], match["port"]
    if port is not None and port == _DEFAULT_PORTS[match["scheme"]]:
        return f"leave out the default port :{port}, as browsers do"
    if port is not None and not (1 <= int(port) <= 65535 and not port.startswith("0")):
        return "the port is a number from 1 to 65535, without leading zeros"
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "not an IPv6 address in brackets"
        return None
    labels = host.split(".")
    if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        return "the host is a DNS name (an internationalised one in its xn-- form), or an IP address"
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "not an IPv4 address"
    return None


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
    # CODE-3 sending limits (services/codes). Daily budgets per destination and Asia/Shanghai day, one
    # per class of purposes (services/codes/purposes.py BUDGETS); a send draws on its own class only.
    # CODE_DAILY_CAP: registration codes, which anyone may ask for any phone.
    code_daily_cap: int = 10
    # SMS sign-in codes (LOGIN): anyone may ask for any phone, apart from registration so registration
    # sends cannot keep a portal account's owner from signing in. Of it, the requests from one client
    # network (an IPv4 address or an IPv6 /64) may spend at most CODE_DAILY_CAP_LOGIN_PER_NETWORK.
    code_daily_cap_login: int = 10
    code_daily_cap_login_per_network: int = 3
    # Password-reset codes (anyone passing the bot check, to a named account's phone); one client network
    # may spend at most CODE_DAILY_CAP_RESET_PER_NETWORK of them.
    code_daily_cap_reset: int = 5
    code_daily_cap_reset_per_network: int = 3
    # Account-recovery codes (accountRecoveryLookup: anyone passing the bot check, to the looked-up phone).
    code_daily_cap_recovery: int = 5
    # A signed-in account proving a destination (PHONE_CHANGE_NEW, EMAIL_BIND, BANK_CARD, STUDENT_EMAIL).
    code_daily_cap_signed_in: int = 10
    # The account's own bound phone (OPERATION, REMITTANCE_ACCOUNT, LOGIN_CHALLENGE).
    code_daily_cap_owner: int = 20
    # Codes sent on behalf of one client address (an IPv6 /64), whatever the destination, per clock hour
    # and per Asia/Shanghai day; codes to the caller's own bound phone are not counted.
    code_address_hourly_cap: int = 40
    code_address_daily_cap: int = 300
    # Outbox rows (delivery records; code texts are masked once the code expires) are deleted after this.
    outbox_retention_days: int = 30
    # Request guards.
    max_body_bytes: int = 64 * 1024
    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    # The cost of a document once fragments are spread (schema/guards.py): about its number of fields,
    # more for a field repeated at the same place, plus 10 per operation and fragment. Refused above
    # this before graphql-core validates it (the largest query of the tests costs about 70).
    max_query_complexity: int = 1000
    # Uploaded documents (ORG-2, ORG-3), kept in the database: at most this many a day per account
    # (Asia/Shanghai day), and at most this many decoded at once per process.
    upload_daily_quota: int = 50
    upload_decode_concurrency: int = 2
    # Background sweeper interval (seconds); 0 turns it off.
    sweep_interval_seconds: int = 60
    trusted_proxy_count: int = 0
    # The address users reach this service at; links shown to phones (face-check QR codes) use it.
    # Empty means http://HOST:PORT.
    public_url: str = ""
    # Seconds to wait for an outside provider (identity registry, bank-card check, liveness).
    provider_timeout_seconds: float = 10.0
    # REV-6: a back-office session ends this many hours after sign-in, however active (1..72; one
    # working day by default), besides the 30-minute idle timeout.
    reviewer_session_max_age_hours: int = 12
    # --- Logs and response headers (logs.py, middleware.py) ---
    # DEBUG | INFO | WARNING | ERROR. No level logs input values.
    log_level: str = "INFO"
    # json (one object per line) | console (human-readable); empty: console in development, json elsewhere.
    log_format: str = ""
    # Strict-Transport-Security in production; turn off only behind a TLS proxy that sets it itself.
    hsts: bool = True
    # REC-1 / REC-2 bot check outside sandbox mode: a "siteverify" endpoint (Cloudflare Turnstile,
    # hCaptcha, reCAPTCHA) and this site's secret for it. Unset: every bot check fails closed.
    bot_check_verify_url: str = ""
    bot_check_secret: str = ""
    bot_check_timeout_seconds: float = 5.0
    # Absolute lifetime of an account session, whatever its activity (besides the idle timeout, AUTH-3).
    session_max_age_hours: int = 24
    # Single-page apps on other origins (middleware.ScopedCORS): the exact origins (scheme://host[:port])
    # whose scripts may call POST /graphql and POST /uploads with a bearer token. None by default; the back
    # office and the sandbox pages are never cross-origin.
    cors_allowed_origins: tuple[str, ...] = ()
    # GET /metrics (Prometheus) answers only clients in these networks (the address as TRUSTED_PROXY_COUNT
    # resolves it), 404 for everyone else; loopback by default. `none` turns /metrics off for everyone.
    metrics_allowed_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    # --- Signed webhooks (services/webhooks, docs/webhooks.md; issue 16 item 2) ---
    # Seconds between the relay's looks for due deliveries in `serve`; 0: this instance does not relay
    # (run `account-center webhooks relay` elsewhere).
    webhook_relay_interval_seconds: float = 1.0
    # Seconds a receiver has to answer one delivery (connect, send, answer).
    webhook_timeout_seconds: float = 10.0
    # Attempts of one delivery before it is `failed` (retried with exponential backoff in between).
    webhook_max_attempts: int = 12
    # A PEM file of CA certificates the relay trusts for receivers' TLS certificates, besides the public
    # CAs (receivers behind a private CA); empty: the public CAs only.
    webhook_ca_file: str = ""

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.metrics_allowed_networks)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def log_renderer(self) -> str:
        return self.log_format or ("console" if self.is_development else "json")

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
            code_daily_cap_login=_int(e.get("CODE_DAILY_CAP_LOGIN"), d.code_daily_cap_login),
            code_daily_cap_login_per_network=_int(
                e.get("CODE_DAILY_CAP_LOGIN_PER_NETWORK"), d.code_daily_cap_login_per_network
            ),
            code_daily_cap_reset=_int(e.get("CODE_DAILY_CAP_RESET"), d.code_daily_cap_reset),
            code_daily_cap_reset_per_network=_int(
                e.get("CODE_DAILY_CAP_RESET_PER_NETWORK"), d.code_daily_cap_reset_per_network
            ),
            code_daily_cap_recovery=_int(e.get("CODE_DAILY_CAP_RECOVERY"), d.code_daily_cap_recovery),
            code_daily_cap_signed_in=_int(e.get("CODE_DAILY_CAP_SIGNED_IN"), d.code_daily_cap_signed_in),
            code_daily_cap_owner=_int(e.get("CODE_DAILY_CAP_OWNER"), d.code_daily_cap_owner),
            code_address_hourly_cap=_int(e.get("CODE_ADDRESS_HOURLY_CAP"), d.code_address_hourly_cap),
            code_address_daily_cap=_int(e.get("CODE_ADDRESS_DAILY_CAP"), d.code_address_daily_cap),
            outbox_retention_days=_int(e.get("OUTBOX_RETENTION_DAYS"), d.outbox_retention_days),
            max_body_bytes=_int(e.get("MAX_BODY_BYTES"), d.max_body_bytes),
            max_query_complexity=_int(e.get("MAX_QUERY_COMPLEXITY"), d.max_query_complexity),
            upload_daily_quota=_int(e.get("UPLOAD_DAILY_QUOTA"), d.upload_daily_quota),
            upload_decode_concurrency=_int(e.get("UPLOAD_DECODE_CONCURRENCY"), d.upload_decode_concurrency),
            sweep_interval_seconds=_int(e.get("SWEEP_INTERVAL_SECONDS"), d.sweep_interval_seconds),
            trusted_proxy_count=_int(e.get("TRUSTED_PROXY_COUNT"), d.trusted_proxy_count),
            public_url=e.get("PUBLIC_URL") or d.public_url,
            provider_timeout_seconds=float(e.get("PROVIDER_TIMEOUT_SECONDS") or d.provider_timeout_seconds),
            reviewer_session_max_age_hours=_int(
                e.get("REVIEWER_SESSION_MAX_AGE_HOURS"), d.reviewer_session_max_age_hours
            ),
            log_level=(e.get("LOG_LEVEL") or d.log_level).strip().upper(),
            log_format=(e.get("LOG_FORMAT") or d.log_format).strip().lower(),
            hsts=_bool(e.get("HSTS"), d.hsts),
            bot_check_verify_url=e.get("BOT_CHECK_VERIFY_URL") or d.bot_check_verify_url,
            bot_check_secret=e.get("BOT_CHECK_SECRET") or d.bot_check_secret,
            bot_check_timeout_seconds=float(e.get("BOT_CHECK_TIMEOUT_SECONDS") or d.bot_check_timeout_seconds),
            session_max_age_hours=_int(e.get("SESSION_MAX_AGE_HOURS"), d.session_max_age_hours),
            cors_allowed_origins=_list(e.get("CORS_ALLOWED_ORIGINS")) or d.cors_allowed_origins,
            metrics_allowed_networks=_networks(e.get("METRICS_ALLOWED_NETWORKS"), d.metrics_allowed_networks),
            webhook_relay_interval_seconds=float(
                e.get("WEBHOOK_RELAY_INTERVAL_SECONDS") or d.webhook_relay_interval_seconds
            ),
            webhook_timeout_seconds=float(e.get("WEBHOOK_TIMEOUT_SECONDS") or d.webhook_timeout_seconds),
            webhook_max_attempts=_int(e.get("WEBHOOK_MAX_ATTEMPTS"), d.webhook_max_attempts),
            webhook_ca_file=e.get("WEBHOOK_CA_FILE") or d.webhook_ca_file,
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.environment not in {"development", "test", "production"}:
            raise ValueError(f"ENVIRONMENT must be development, test or production, not {self.environment!r}")
        if self.is_production and self.secret_key == DEV_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set in production")
        if self.is_production and len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes in production")
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {self.log_level!r}")
        if self.log_format not in {"", "json", "console"}:
            raise ValueError(f"LOG_FORMAT must be json or console, not {self.log_format!r}")
        if not 0 < self.provider_timeout_seconds <= 120:
            # The sweeper gives back a bank-card attempt left pending for 5 minutes; a provider call
            # must end well before that.
            raise ValueError("PROVIDER_TIMEOUT_SECONDS must be between 0 and 120")
        if not 1 <= self.max_query_complexity <= 10_000:
            # Far above the default, graphql-core's validation of a hostile document takes long again.
            raise ValueError("MAX_QUERY_COMPLEXITY must be between 1 and 10000")
        if self.is_production and self.sandbox:
            raise ValueError("SANDBOX must be off in production")
        caps = {
            "CODE_DAILY_CAP": self.code_daily_cap,
            "CODE_DAILY_CAP_LOGIN": self.code_daily_cap_login,
            "CODE_DAILY_CAP_LOGIN_PER_NETWORK": self.code_daily_cap_login_per_network,
            "CODE_DAILY_CAP_RESET": self.code_daily_cap_reset,
            "CODE_DAILY_CAP_RESET_PER_NETWORK": self.code_daily_cap_reset_per_network,
            "CODE_DAILY_CAP_RECOVERY": self.code_daily_cap_recovery,
            "CODE_DAILY_CAP_SIGNED_IN": self.code_daily_cap_signed_in,
            "CODE_DAILY_CAP_OWNER": self.code_daily_cap_owner,
            "CODE_ADDRESS_HOURLY_CAP": self.code_address_hourly_cap,
            "CODE_ADDRESS_DAILY_CAP": self.code_address_daily_cap,
            "OUTBOX_RETENTION_DAYS": self.outbox_retention_days,
        }
        for name, value in caps.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1")
        for share, whole in (("LOGIN_PER_NETWORK", "LOGIN"), ("RESET_PER_NETWORK", "RESET")):
            if caps[f"CODE_DAILY_CAP_{share}"] > caps[f"CODE_DAILY_CAP_{whole}"]:
                # One network's share is part of the destination's budget; below it, it keeps one network
                # from using the whole budget up.
                raise ValueError(f"CODE_DAILY_CAP_{share} must not exceed CODE_DAILY_CAP_{whole}")
        if not 1 <= self.session_max_age_hours <= 720:
            raise ValueError("SESSION_MAX_AGE_HOURS must be between 1 and 720 (30 days)")
        if not 1 <= self.reviewer_session_max_age_hours <= 72:
            raise ValueError("REVIEWER_SESSION_MAX_AGE_HOURS must be between 1 and 72")
        if not 1 <= self.upload_daily_quota <= 10_000:
            raise ValueError("UPLOAD_DAILY_QUOTA must be between 1 and 10000")
        if not 1 <= self.upload_decode_concurrency <= 16:
            # Each decode may take up to documents.MAX_DECODE_BYTES (128 MiB).
            raise ValueError("UPLOAD_DECODE_CONCURRENCY must be between 1 and 16")
        self._check_bot_check()
        if not 0 <= self.webhook_relay_interval_seconds <= 3600:
            raise ValueError("WEBHOOK_RELAY_INTERVAL_SECONDS must be between 0 (no relay) and 3600")
        if not 0 < self.webhook_timeout_seconds <= 60:
            raise ValueError("WEBHOOK_TIMEOUT_SECONDS must be between 0 and 60")
        if not 1 <= self.webhook_max_attempts <= 30:
            raise ValueError("WEBHOOK_MAX_ATTEMPTS must be between 1 and 30")
        if self.webhook_ca_file:
            try:
                ssl.create_default_context(cafile=self.webhook_ca_file)
            except (OSError, ssl.SSLError):
                raise ValueError("WEBHOOK_CA_FILE must be a readable PEM file of CA certificates") from None
        for network in self.metrics_allowed_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"METRICS_ALLOWED_NETWORKS: {network!r} is not an IP network (e.g. 10.0.0.0/8 or ::1/128)"
                ) from None
        for origin in self.cors_allowed_origins:
            problem = origin_problem(origin)
            if problem is not None:
                raise ValueError(f"CORS_ALLOWED_ORIGINS: {origin!r} is not an origin: {problem}")

    def _check_bot_check(self) -> None:
        """Half a bot-check configuration is a mistake; none at all starts, and fails closed per request
        (like the other outside providers), so a deployment without recovery still runs."""
        if bool(self.bot_check_verify_url) != bool(self.bot_check_secret):
            raise ValueError("BOT_CHECK_VERIFY_URL and BOT_CHECK_SECRET are set together or not at all")
        if not 0 < self.bot_check_timeout_seconds <= 30:
            raise ValueError("BOT_CHECK_TIMEOUT_SECONDS must be between 0 and 30")
        url = self.bot_check_verify_url
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("BOT_CHECK_VERIFY_URL must be an http(s) URL")
        if url and self.is_production and not url.startswith("https://"):
            raise ValueError("BOT_CHECK_VERIFY_URL must use https in production (the secret is posted to it)")
