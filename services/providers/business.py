"""Business registry (RNE-2, RNE-4, RNE-6, RNE-7, RNE-9, ORG-1, CHG-2): what is registered under a USCC.

The registry answers with facts (`RegisteredOrganisation`); the calling service applies the rules,
through `judge` for the RNE-9 refusals. The caller checks the GB 32100 check digit before any call
(docs/checksums.md), so the sandbox may assume it.

The sandbox (docs/sandbox.md "Business registry"):
- the registered type follows the first two USCC characters (`USCC_PREFIXES`); any other prefix:
  not found;
- the registered name is the submitted name and the registered legal representative the submitted
  one, except for organisation names
  - containing `查无`: not found;
  - containing `新设`: registered 3 days ago (so less than 7 days ago, RNE-9);
  - containing `风险`: registered, but the account hits a risk rule (RNE-7);
  - containing `支付`: holds a third-party payment licence (RNE-6);
  - containing `更名`: the automatic licence check of a name change fails (CHG-2);
- legal representative `王不符`: the registered legal representative is someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Protocol

from services.providers.errors import ProviderUnavailable
from services.verification.organisations import OrganisationType, type_of_uscc

MIN_REGISTERED_DAYS = 7  # RNE-9: registered less than 7 days ago is refused (try again later)

SANDBOX_NOT_FOUND = "查无"
SANDBOX_NEWLY_REGISTERED = "新设"
SANDBOX_RISK = "风险"
SANDBOX_PAYMENT_LICENCE = "支付"
SANDBOX_RENAME_CHECK_FAILS = "更名"
SANDBOX_LEGAL_REP_MISMATCH = "王不符"
SANDBOX_REGISTERED_LEGAL_REP = "王符合"  # who the registry has instead of `王不符`
SANDBOX_NEW_AGE = timedelta(days=3)
SANDBOX_ESTABLISHED_AGE = timedelta(days=730)


@dataclass(frozen=True, slots=True)
class RegisteredOrganisation:
    uscc: str
    name: str
    organisation_type: OrganisationType
    legal_representative: str
    registered_on: date
    risk_hit: bool  # RNE-7: a right amount still goes to manual review
    payment_licence: bool  # RNE-6: no corporate bank transfer
    licence_check_fails: bool  # CHG-2: a name change needs supplementary material


class BusinessRegistry(Protocol):
    async def look_up(
        self, *, uscc: str, name: str, legal_representative: str, today: date
    ) -> RegisteredOrganisation | None:
        """What is registered under `uscc` (check digit already verified); None: not found.
        Raise `ProviderUnavailable` when the registry cannot answer."""
        ...


class SandboxBusinessRegistry:
    async def look_up(
        self, *, uscc: str, name: str, legal_representative: str, today: date
    ) -> RegisteredOrganisation | None:
        organisation_type = type_of_uscc(uscc)
        if organisation_type is None or SANDBOX_NOT_FOUND in name:
            return None
        age = SANDBOX_NEW_AGE if SANDBOX_NEWLY_REGISTERED in name else SANDBOX_ESTABLISHED_AGE
        registered_rep = (
            SANDBOX_REGISTERED_LEGAL_REP if legal_representative == SANDBOX_LEGAL_REP_MISMATCH else legal_representative
        )
        return RegisteredOrganisation(
            uscc=uscc,
            name=name,
            organisation_type=organisation_type,
            legal_representative=registered_rep,
            registered_on=today - age,
            risk_hit=SANDBOX_RISK in name,
            payment_licence=SANDBOX_PAYMENT_LICENCE in name,
            licence_check_fails=SANDBOX_RENAME_CHECK_FAILS in name,
        )


class UnconfiguredBusinessRegistry:
    """Outside sandbox mode, until a real adapter is configured: nothing can be decided."""

    async def look_up(
        self, *, uscc: str, name: str, legal_representative: str, today: date
    ) -> RegisteredOrganisation | None:
        raise ProviderUnavailable("no business registry is configured")


class RegistryRefusal(Enum):
    """RNE-9's registry reasons, plus a legal representative who is not the registered one (docs/sandbox.md)."""

    ORGANISATION_NOT_FOUND = "ORGANISATION_NOT_FOUND"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    REGISTERED_RECENTLY = "REGISTERED_RECENTLY"
    LEGAL_REP_MISMATCH = "LEGAL_REP_MISMATCH"


def judge(
    found: RegisteredOrganisation | None,
    *,
    chosen_type: OrganisationType,
    legal_representative: str,
    today: date,
    name: str | None = None,
) -> RegistryRefusal | None:
    """The first reason to refuse, in this order, or None when the registry facts allow going on.

    `legal_representative` is the name as submitted to the registry (already normalised by the caller).
    Age is counted in calendar days between the registration date and `today` (Asia/Shanghai).
    """
    if found is None or (name is not None and found.name != name):
        return RegistryRefusal.ORGANISATION_NOT_FOUND  # RNE-9: no organisation with this code and this name
    if found.organisation_type is not chosen_type:
        return RegistryRefusal.TYPE_MISMATCH  # RNE-9: type does not match the certificate
    if (today - found.registered_on).days < MIN_REGISTERED_DAYS:
        return RegistryRefusal.REGISTERED_RECENTLY  # RNE-9: registered less than 7 days ago
    if found.legal_representative != legal_representative:
        return RegistryRefusal.LEGAL_REP_MISMATCH
    return None
