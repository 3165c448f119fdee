"""The account's standing in the systems outside this service, asked by the cancellation pre-check (CAN-2,
CAN-3): orders, services, billing, complaints, organisations, vouchers and resources, through one interface.

The sandbox (docs/sandbox.md "Cancellation pre-check") keeps a set of facts per account ID (REG-6), shown and
changed at `/sandbox/accounts/{account_id}/standing`; a new account has none. The cash balance is not asked here: it is
the service's own ledger (`models.enterprise.BalanceEntry`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

from services.providers.errors import ProviderUnavailable


@dataclass(frozen=True, slots=True)
class AccountStanding:
    unfinished_orders: int = 0  # CAN-2 blocker
    unfinished_services: int = 0  # CAN-2 blocker
    arrears_fen: int = 0  # CAN-2 blocker: unpaid amounts
    open_complaints: int = 0  # CAN-2 blocker: complaints or reports by or against the account
    organisation_settings: int = 0  # CAN-2 blocker: enterprise-organisation settings still tied to it
    vouchers: int = 0  # CAN-3: forfeited, not a blocker
    resources_in_use: int = 0  # CAN-3: forfeited, not a blocker


STANDING_FIELDS = tuple(f.name for f in dataclasses.fields(AccountStanding))
MAX_FACT = 10**12  # the sandbox form refuses larger numbers


class StandingService(Protocol):
    async def standing(self, *, account_id: int | None) -> AccountStanding:
        """What the outside systems hold against the account, named by its public account ID (REG-6,
        `viewer.accountId`; None for a portal account not activated yet, which the outside systems cannot
        know). Raise `ProviderUnavailable` when they cannot answer."""
        ...


class SandboxStanding:
    """Per-account facts in the process's memory, set from the sandbox page; none for a new account."""

    def __init__(self) -> None:
        self._facts: dict[int, AccountStanding] = {}

    async def standing(self, *, account_id: int | None) -> AccountStanding:
        return AccountStanding() if account_id is None else self._facts.get(account_id, AccountStanding())

    def set(self, account_id: int, standing: AccountStanding) -> None:
        self._facts[account_id] = standing


class UnconfiguredStanding:
    """Outside sandbox mode, until a real adapter is configured: nothing can be decided."""

    async def standing(self, *, account_id: int | None) -> AccountStanding:
        raise ProviderUnavailable("no account-standing service is configured")
