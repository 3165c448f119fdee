"""The outside parties real-name verification talks to, chosen once per process from settings.

In sandbox mode the sandbox implementations answer (docs/sandbox.md). Outside sandbox mode a deployment
must plug in real adapters; until it does, every call answers `ProviderUnavailable`, so nothing is
decided and no attempt is counted. The holder is mutable so a test can swap one provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.clock import Clock
from services.providers.bank import Bank, SandboxBank, UnconfiguredBank
from services.providers.bankcard import BankCardAnswer, BankCardCheck, SandboxBankCardCheck
from services.providers.business import BusinessRegistry, SandboxBusinessRegistry, UnconfiguredBusinessRegistry
from services.providers.changes import ChangeEligibility, SandboxChangeEligibility, UnconfiguredChangeEligibility
from services.providers.errors import ProviderUnavailable
from services.providers.identity import IdentityRegistry, RegistryAnswer, SandboxIdentityRegistry
from services.providers.liveness import Liveness, SandboxLiveness
from services.providers.standing import SandboxStanding, StandingService, UnconfiguredStanding
from settings import Settings


@dataclass(slots=True)
class Providers:
    identity: IdentityRegistry
    bank_cards: BankCardCheck
    liveness: Liveness
    business: BusinessRegistry
    bank: Bank
    change_eligibility: ChangeEligibility  # CHG-3
    standing: StandingService  # CAN-2, CAN-3: the cancellation pre-check
    timeout_seconds: float = 10.0


class UnconfiguredIdentityRegistry:
    """Outside sandbox mode, until a real adapter is configured: nothing can be decided."""

    async def check(self, *, document_type: str, name: str, number: str) -> RegistryAnswer:
        raise ProviderUnavailable("no identity registry is configured")


class UnconfiguredBankCardCheck:
    async def check(self, *, name: str, id_number: str, card_number: str, reserved_phone: str) -> BankCardAnswer:
        raise ProviderUnavailable("no bank-card check is configured")


class UnconfiguredLiveness:
    async def start(self, *, ticket: str, name: str, document_type: str) -> str:
        raise ProviderUnavailable("no liveness provider is configured")


def build_providers(settings: Settings, clock: Clock) -> Providers:
    if settings.sandbox:
        return Providers(
            identity=SandboxIdentityRegistry(),
            bank_cards=SandboxBankCardCheck(),
            liveness=SandboxLiveness(settings.base_url),
            business=SandboxBusinessRegistry(),
            bank=SandboxBank(clock),
            change_eligibility=SandboxChangeEligibility(),
            standing=SandboxStanding(),
            timeout_seconds=settings.provider_timeout_seconds,
        )
    return Providers(
        identity=UnconfiguredIdentityRegistry(),
        bank_cards=UnconfiguredBankCardCheck(),
        liveness=UnconfiguredLiveness(),
        business=UnconfiguredBusinessRegistry(),
        bank=UnconfiguredBank(),
        change_eligibility=UnconfiguredChangeEligibility(),
        standing=UnconfiguredStanding(),
        timeout_seconds=settings.provider_timeout_seconds,
    )
