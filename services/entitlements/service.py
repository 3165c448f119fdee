"""What an account may do, decided once from its verified subject (RN-2, ENT-1, ENT-2, ENT-3).

Every feature that depends on verification asks `for_subject` / `require` here instead of looking at
the verification itself, so the rules live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from services.errors import ServiceError
from services.uow import Uow
from services.verification.organisations import TYPES, OrganisationType
from services.verification.subject import verified_subject_and_type

PERSON_LSS_VOD_CAP_GB = 100  # ENT-3
GENERAL_ENTERPRISE_TYPES = frozenset({1, 2})  # ENT-2: "general enterprise", the special VAT invoice types


class Entitlement(Enum):
    CLOUD_SERVICES = "CLOUD_SERVICES"
    INVOICES = "INVOICES"
    SPECIAL_VAT_INVOICE = "SPECIAL_VAT_INVOICE"
    SMS_SERVICE = "SMS_SERVICE"
    ONLINE_CONTRACTS = "ONLINE_CONTRACTS"


class EntitlementErrorCode(Enum):
    VERIFICATION_REQUIRED = "VERIFICATION_REQUIRED"
    NOT_ENTITLED = "NOT_ENTITLED"


@dataclass(frozen=True, slots=True)
class Entitlements:
    subject_type: str | None
    granted: frozenset[Entitlement]
    # LSS/VOD traffic cap in GB: 0 = none at all, None = no cap beyond the product's own.
    lss_vod_traffic_cap_gb: int | None

    def allows(self, what: Entitlement) -> bool:
        return what in self.granted


BASIC = frozenset({Entitlement.CLOUD_SERVICES, Entitlement.INVOICES, Entitlement.ONLINE_CONTRACTS})


def for_subject(subject_type: str | None, organisation_type: int | None = None) -> Entitlements:
    if subject_type is None:
        # ENT-1 / RN-2: unverified, no cloud services, no invoices, no online contracts.
        return Entitlements(None, frozenset(), 0)
    if subject_type == "person":
        # ENT-3: no special VAT invoice, no SMS service, LSS/VOD traffic capped at 100 GB.
        return Entitlements("person", BASIC, PERSON_LSS_VOD_CAP_GB)
    # ENT-2: every enterprise-verified account (any organisation type) may use the SMS service;
    # special VAT invoices only for a "general enterprise" (types 1-2).
    granted = BASIC | {Entitlement.SMS_SERVICE}
    if organisation_type in GENERAL_ENTERPRISE_TYPES:
        granted |= {Entitlement.SPECIAL_VAT_INVOICE}
    return Entitlements(subject_type, granted, None)


async def of_account(uow: Uow, account_id: int) -> Entitlements:
    subject, organisation_type = await verified_subject_and_type(uow, account_id)
    number = TYPES[OrganisationType(organisation_type)].number if organisation_type else None
    return for_subject(subject, number)


async def require(uow: Uow, account_id: int, what: Entitlement) -> Entitlements:
    """Raise unless the account may use `what`: the one guard every such operation calls."""
    found = await of_account(uow, account_id)
    if found.allows(what):
        return found
    if found.subject_type is None:
        raise ServiceError(
            EntitlementErrorCode.VERIFICATION_REQUIRED,
            "完成实名认证后才能使用 / Complete real-name verification first (RN-2).",
            None,
        )
    raise ServiceError(
        EntitlementErrorCode.NOT_ENTITLED, "This account's verified subject does not include this service.", None
    )
