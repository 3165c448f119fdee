"""What verification unlocks, decided in one place (RN-2, ENT-1, ENT-2, ENT-3).

RULES: RN-2 ENT-1 ENT-2 ENT-3
"""

from __future__ import annotations

from typing import Any

import pytest

from services.entitlements.service import Entitlement, EntitlementErrorCode, for_subject, require
from services.errors import ServiceError
from tests.api.test_verification import face_verified, viewer
from tests.helpers import registered_and_signed_in

ALL = set(Entitlement)
BASIC = {Entitlement.CLOUD_SERVICES, Entitlement.INVOICES, Entitlement.ONLINE_CONTRACTS}


def test_ent_1_unverified_has_no_cloud_services_invoices_or_contracts() -> None:
    found = for_subject(None)
    assert found.granted == frozenset()
    assert found.lss_vod_traffic_cap_gb == 0


@pytest.mark.parametrize("organisation_type", [1, 2])
def test_ent_2_a_general_enterprise_gets_special_vat_invoices_and_sms(organisation_type: int) -> None:
    found = for_subject("enterprise", organisation_type)
    assert found.granted == ALL
    assert found.lss_vod_traffic_cap_gb is None


@pytest.mark.parametrize("organisation_type", [3, 4, 6, 11, 18, None])
def test_ent_2_other_organisations_get_sms_but_no_special_vat_invoice(organisation_type: int | None) -> None:
    found = for_subject("enterprise", organisation_type)
    assert found.granted == BASIC | {Entitlement.SMS_SERVICE}
    assert not found.allows(Entitlement.SPECIAL_VAT_INVOICE)
    assert found.lss_vod_traffic_cap_gb is None


def test_ent_3_a_person_has_no_special_vat_or_sms_and_100_gb_of_lss_vod() -> None:
    found = for_subject("person")
    assert found.granted == BASIC
    assert not found.allows(Entitlement.SPECIAL_VAT_INVOICE)
    assert not found.allows(Entitlement.SMS_SERVICE)
    assert found.lss_vod_traffic_cap_gb == 100


async def test_rn_2_require_refuses_an_unverified_account_then_allows_it_once_verified(client, run) -> None:
    token = await registered_and_signed_in(client)
    account_id = await run(_first_account)
    for what in (Entitlement.CLOUD_SERVICES, Entitlement.INVOICES, Entitlement.ONLINE_CONTRACTS):
        with pytest.raises(ServiceError) as refused:
            await run(require, account_id, what)
        assert refused.value.code is EntitlementErrorCode.VERIFICATION_REQUIRED
    await face_verified(client, token)
    assert (await run(require, account_id, Entitlement.INVOICES)).subject_type == "person"
    # ENT-3: a person is verified but still not entitled to the SMS service
    with pytest.raises(ServiceError) as refused:
        await run(require, account_id, Entitlement.SMS_SERVICE)
    assert refused.value.code is EntitlementErrorCode.NOT_ENTITLED


async def _first_account(uow: Any) -> int:
    from sqlalchemy import func, select

    from models.accounts import Account

    return int(await uow.session.scalar(select(func.min(Account.id))))


async def test_ent_1_and_ent_3_viewer_entitlements_follow_the_verification(client) -> None:
    token = await registered_and_signed_in(client)
    before = (await viewer(client, token))["entitlements"]
    assert before == {
        "subjectType": None,
        "cloudServices": False,
        "invoices": False,
        "specialVatInvoice": False,
        "smsService": False,
        "onlineContracts": False,
        "lssVodTrafficCapGb": 0,
    }
    await face_verified(client, token)
    after = (await viewer(client, token))["entitlements"]
    assert after == {
        "subjectType": "PERSON",
        "cloudServices": True,
        "invoices": True,
        "specialVatInvoice": False,
        "smsService": False,
        "onlineContracts": True,
        "lssVodTrafficCapGb": 100,
    }
