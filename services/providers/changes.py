"""Subject-change eligibility (CHG-3): whether an enterprise account may change to another enterprise
online, asked of the account-management system outside this service.

The sandbox (docs/sandbox.md "Subject-change eligibility"): eligible unless the name of the account's
current verified organisation contains `线下` (offline)."""

from __future__ import annotations

from typing import Protocol

from services.providers.errors import ProviderUnavailable

SANDBOX_OFFLINE_ONLY = "线下"


class ChangeEligibility(Protocol):
    async def online_change_allowed(self, *, uscc: str, name: str) -> bool:
        """Whether the organisation verified as `uscc`/`name` may change to another enterprise online.
        Raise `ProviderUnavailable` when the system cannot answer."""


class SandboxChangeEligibility:
    async def online_change_allowed(self, *, uscc: str, name: str) -> bool:
        return SANDBOX_OFFLINE_ONLY not in name


class UnconfiguredChangeEligibility:
    """Outside sandbox mode, until a real adapter is configured: nothing can be decided."""

    async def online_change_allowed(self, *, uscc: str, name: str) -> bool:
        raise ProviderUnavailable("no subject-change eligibility service is configured")
