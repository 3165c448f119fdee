"""REC-1 bot check: an interface and its sandbox (token `sandbox-pass` passes, anything else fails)."""

from __future__ import annotations

from typing import Protocol

SANDBOX_PASS_TOKEN = "sandbox-pass"


class BotCheck(Protocol):
    async def verify(self, token: str, client_ip: str | None) -> bool: ...


class SandboxBotCheck:
    async def verify(self, token: str, client_ip: str | None) -> bool:
        return token == SANDBOX_PASS_TOKEN
