"""REC-1 / REC-2 bot check: an interface, its sandbox, and the server-side "siteverify" protocol.

Chosen once per process from settings (`build_bot_check`):
- sandbox mode: the token `sandbox-pass` passes, anything else fails (docs/sandbox.md);
- otherwise, with BOT_CHECK_VERIFY_URL and BOT_CHECK_SECRET: the siteverify protocol that Cloudflare
  Turnstile, hCaptcha and reCAPTCHA share: the form fields `secret`, `response` (the client's token)
  and `remoteip` are POSTed to the URL, which answers JSON with a boolean `success` (and
  `error-codes`);
- otherwise nothing can pass: every check raises `ProviderUnavailable`.

A check that cannot be decided (no configuration, timeout, network error, an answer that is not the
expected JSON, our secret refused) raises `ProviderUnavailable`: the caller refuses, never passes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Protocol

import httpx

from services.providers.errors import ProviderUnavailable
from settings import Settings

log = logging.getLogger(__name__)

SANDBOX_PASS_TOKEN = "sandbox-pass"
# Turnstile documents tokens of up to 2048 characters; longer ones are refused without a call.
MAX_TOKEN_LENGTH = 2048
# The verifier's answer is a small JSON object; more than this is not read.
MAX_ANSWER_BYTES = 64 * 1024
# error-codes that blame our configuration, not the client's token.
CONFIGURATION_ERRORS = frozenset({"missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch"})


class BotCheck(Protocol):
    async def verify(self, token: str, client_ip: str | None) -> bool:
        """True when the token passes, False when it fails; `ProviderUnavailable` when no one can tell."""
        ...

    async def aclose(self) -> None:
        """Release network resources at shutdown."""
        ...


class SandboxBotCheck:
    async def verify(self, token: str, client_ip: str | None) -> bool:
        return token == SANDBOX_PASS_TOKEN

    async def aclose(self) -> None:
        return None


class UnconfiguredBotCheck:
    """Outside sandbox mode without a verifier configured: fail closed."""

    async def verify(self, token: str, client_ip: str | None) -> bool:
        raise ProviderUnavailable("no bot check is configured (BOT_CHECK_VERIFY_URL, BOT_CHECK_SECRET)")

    async def aclose(self) -> None:
        return None


class SiteverifyBotCheck:
    """The siteverify protocol over one HTTP client per process, with a deadline on the whole call."""

    def __init__(self, url: str, secret: str, timeout_seconds: float) -> None:
        self.url = url
        self._secret = secret
        self.timeout_seconds = timeout_seconds
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Created on first use, inside the serving event loop.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False)
        return self._client

    async def verify(self, token: str, client_ip: str | None) -> bool:
        form = {"secret": self._secret, "response": token}
        if client_ip:
            form["remoteip"] = client_ip
        try:
            async with asyncio.timeout(self.timeout_seconds):
                status, raw = await self._post(form)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise ProviderUnavailable(f"the bot check did not answer ({type(exc).__name__})") from None
        if status != 200:
            raise ProviderUnavailable(f"the bot check answered HTTP {status}")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ProviderUnavailable("the bot check's answer is not JSON") from None
        success = answer.get("success") if isinstance(answer, dict) else None
        if not isinstance(success, bool):
            raise ProviderUnavailable("the bot check's answer has no boolean `success`")
        if success:
            return True
        errors = answer.get("error-codes")
        refused = {e for e in errors if isinstance(e, str)} if isinstance(errors, list) else set()
        if refused & CONFIGURATION_ERRORS:
            log.error("the bot check refused our configuration: %s", ", ".join(sorted(refused & CONFIGURATION_ERRORS)))
            raise ProviderUnavailable("the bot check refused our secret")
        return False

    async def _post(self, form: dict[str, str]) -> tuple[int, bytes]:
        """(status, body), reading at most MAX_ANSWER_BYTES."""
        async with self._http().stream("POST", self.url, data=form) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise ProviderUnavailable("the bot check's answer is too large")
            return response.status_code, bytes(body)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def build_bot_check(settings: Settings) -> BotCheck:
    if settings.sandbox:
        return SandboxBotCheck()
    if settings.bot_check_verify_url and settings.bot_check_secret:
        return SiteverifyBotCheck(
            settings.bot_check_verify_url, settings.bot_check_secret, settings.bot_check_timeout_seconds
        )
    log.warning(
        "no bot check is configured: password reset and account recovery answer BOT_CHECK_UNAVAILABLE "
        "until BOT_CHECK_VERIFY_URL and BOT_CHECK_SECRET are set"
    )
    return UnconfiguredBotCheck()
