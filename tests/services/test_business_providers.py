"""Organisation types (ORG-1, RNE-3, RNE-6, ENT-2), the sandbox business registry and the RNE-9 judge,
and the sandbox bank with CNY amounts in fen (RNE-4, RNE-8, RNE-9): every magic value of docs/sandbox.md."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checksums import uscc_check_character, valid_uscc
from services.clock import ManualClock
from services.providers import bank as bank_module
from services.providers.bank import (
    BANKS,
    Bank,
    PayoutAccount,
    PayoutNotSent,
    PayoutRefusal,
    PayoutResult,
    PayoutTimedOut,
    SandboxBank,
    UnconfiguredBank,
    format_cny,
    parse_cny,
    random_amount_fen,
)
from services.providers.business import (
    MIN_REGISTERED_DAYS,
    BusinessRegistry,
    RegisteredOrganisation,
    RegistryRefusal,
    SandboxBusinessRegistry,
    UnconfiguredBusinessRegistry,
    judge,
)
from services.providers.errors import ProviderUnavailable
from services.verification.organisations import (
    TYPES,
    USCC_PREFIXES,
    OrganisationType,
    by_number,
    is_enterprise,
    is_general_enterprise,
    transfer_offered,
    type_of_uscc,
)

TODAY = date(2026, 11, 26)
T = OrganisationType

# ORG-1 as written: (number, type, certificate in the rule's words, certificate in Chinese, enterprise?)
ORG_1 = [
    (1, T.ENTERPRISE, "Business licence", "营业执照", True),
    (2, T.INDIVIDUAL_BUSINESS, "Business licence", "营业执照", True),
    (3, T.LAW_FIRM, "Law-firm practice licence", "律师事务所执业许可证", False),
    (4, T.PUBLIC_INSTITUTION, "Public-institution legal-person certificate", "事业单位法人证书", False),
    (5, T.GOVERNMENT_ORGAN, "USCC certificate", "统一社会信用代码证书", False),
    (6, T.SOCIAL_GROUP, "Social-group legal-person registration certificate", "社会团体法人登记证书", False),
    (7, T.SOCIAL_SERVICE_ORGANISATION, "Registration certificate", "社会服务机构登记证书", False),
    (8, T.FOUNDATION, "Foundation legal-person registration certificate", "基金会法人登记证书", False),
    (9, T.PRIVATE_NON_ENTERPRISE_UNIT, "Registration certificate", "民办非企业单位登记证书", False),
    (
        10,
        T.GRASSROOTS_SELF_GOVERNING_ORGANISATION,
        "Special legal-person USCC certificate",
        "基层群众性自治组织特别法人统一社会信用代码证书",
        False,
    ),
    (11, T.OWNERS_ASSEMBLY, "USCC certificate", "统一社会信用代码证书", False),
    (12, T.FOREIGN_CULTURAL_CENTRE, "Registration certificate", "外国在华文化中心登记证书", False),
    (13, T.RELIGIOUS_VENUE, "Registration certificate", "宗教活动场所登记证", False),
    (14, T.TRADE_UNION, "Qualification certificate", "工会法人资格证书", False),
    (15, T.JUDICIAL_APPRAISAL, "Licence", "司法鉴定许可证", False),
    (16, T.RURAL_COLLECTIVE_ECONOMIC_ORGANISATION, "Registration certificate", "农村集体经济组织登记证", False),
    (17, T.GRASSROOTS_LEGAL_SERVICE_OFFICE, "Practice certificate", "基层法律服务所执业证", False),
    (18, T.FOREIGN_NGO_REPRESENTATIVE_OFFICE, "Registration certificate", "境外非政府组织代表机构登记证书", False),
]

# docs/sandbox.md "Business registry", copied here so the table in the code is checked against the spec.
SANDBOX_PREFIXES = {
    "91": 1,
    "92": 2,
    "31": 3,
    "12": 4,
    "11": 5,
    "51": 6,
    "52": 7,
    "53": 8,
    "59": 9,
    "54": 10,
    "Y1": 11,
    "41": 12,
    "71": 13,
    "81": 14,
    "34": 15,
    "N1": 16,
    "N2": 16,
    "N3": 16,
    "33": 17,
    "Y2": 18,
}


def uscc(prefix: str, body: str = "110000600037341") -> str:
    """A USCC with a right GB 32100 check character (the caller checks it before any registry call)."""
    first17 = prefix + body
    code = first17 + uscc_check_character(first17)
    assert valid_uscc(code)
    return code


async def look_up(
    code: str, name: str = "示例科技有限公司", legal_representative: str = "张三", today: date = TODAY
) -> RegisteredOrganisation | None:
    registry: BusinessRegistry = SandboxBusinessRegistry()
    return await registry.look_up(uscc=code, name=name, legal_representative=legal_representative, today=today)


def registered(
    *, organisation_type: OrganisationType = T.ENTERPRISE, registered_on: date, legal_representative: str = "张三"
) -> RegisteredOrganisation:
    return RegisteredOrganisation(
        uscc=uscc("91"),
        name="示例科技有限公司",
        organisation_type=organisation_type,
        legal_representative=legal_representative,
        registered_on=registered_on,
        risk_hit=False,
        payment_licence=False,
        licence_check_fails=False,
    )


# ---------------------------------------------------------------- ORG-1: the eighteen types


def test_org_1_eighteen_types_in_rule_order_with_numbers_1_to_18() -> None:
    assert len(OrganisationType) == 18
    assert list(TYPES) == [t for _, t, *_ in ORG_1]
    assert [info.number for info in TYPES.values()] == list(range(1, 19))
    assert all(t.value == t.name for t in OrganisationType)
    assert all(info.type is t for t, info in TYPES.items())


@pytest.mark.parametrize(("number", "org_type", "certificate_en", "certificate_zh", "enterprise"), ORG_1)
def test_org_1_each_type_has_its_certificate_and_enterprise_flag(
    number: int, org_type: OrganisationType, certificate_en: str, certificate_zh: str, enterprise: bool
) -> None:
    info = TYPES[org_type]
    assert by_number(number) is org_type
    assert info.number == number
    assert info.certificate_en == certificate_en
    assert info.certificate_zh == certificate_zh
    assert info.is_enterprise is enterprise
    assert is_enterprise(org_type) is enterprise
    assert info.name_zh
    assert info.name_en


def test_org_1_chinese_type_names() -> None:
    assert [TYPES[t].name_zh for _, t, *_ in ORG_1[:9]] == [
        "企业",
        "个体工商户",
        "律师事务所",
        "事业单位",
        "政府机关",
        "社会团体",
        "社会服务机构",
        "基金会",
        "民办非企业单位",
    ]
    assert TYPES[T.OWNERS_ASSEMBLY].name_zh == "业主大会"
    assert TYPES[T.FOREIGN_NGO_REPRESENTATIVE_OFFICE].name_zh == "境外非政府组织代表机构"


@pytest.mark.parametrize("n", [0, 19, -1])
def test_org_1_by_number_refuses_numbers_outside_1_to_18(n: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.18"):
        by_number(n)


def test_rne_3_only_types_1_and_2_are_enterprises_the_rest_other_organisations() -> None:
    enterprises = {t for t in OrganisationType if is_enterprise(t)}
    assert enterprises == {T.ENTERPRISE, T.INDIVIDUAL_BUSINESS}


def test_ent_2_general_enterprise_is_types_1_and_2() -> None:
    assert {TYPES[t].number for t in OrganisationType if is_general_enterprise(t)} == {1, 2}


def test_rne_6_transfer_not_offered_to_public_institutions_nor_payment_licence_holders() -> None:
    for t in OrganisationType:
        assert transfer_offered(t, holds_payment_licence=False) is (t is not T.PUBLIC_INSTITUTION), t
        assert transfer_offered(t, holds_payment_licence=True) is False, t


# ---------------------------------------------------------------- Sandbox registry: USCC prefixes


def test_org_1_uscc_prefix_table_is_exactly_the_sandbox_list() -> None:
    assert {prefix: TYPES[t].number for prefix, t in USCC_PREFIXES.items()} == SANDBOX_PREFIXES


@pytest.mark.parametrize(("prefix", "number"), sorted(SANDBOX_PREFIXES.items()))
async def test_org_1_sandbox_registered_type_follows_the_uscc_prefix(prefix: str, number: int) -> None:
    code = uscc(prefix)
    assert type_of_uscc(code) is by_number(number)
    found = await look_up(code)
    assert found is not None
    assert found.organisation_type is by_number(number)
    assert found.uscc == code


def test_org_1_type_of_uscc_tolerates_lower_case_and_blanks() -> None:
    assert type_of_uscc(" y1" + "0" * 16) is T.OWNERS_ASSEMBLY
    assert type_of_uscc("") is None


@pytest.mark.parametrize("prefix", ["93", "13", "32", "55", "Y3", "N4", "A1", "90", "00"])
async def test_rne_9_unknown_uscc_prefix_is_organisation_not_found(prefix: str) -> None:
    code = uscc(prefix)
    assert type_of_uscc(code) is None
    found = await look_up(code)
    assert found is None
    assert judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY) is (
        RegistryRefusal.ORGANISATION_NOT_FOUND
    )


# ---------------------------------------------------------------- Sandbox registry: names and people


async def test_rne_9_ordinary_organisation_echoes_submission_and_passes_the_judge() -> None:
    found = await look_up(uscc("91"), name="示例科技有限公司", legal_representative="张三")
    assert found == RegisteredOrganisation(
        uscc=uscc("91"),
        name="示例科技有限公司",
        organisation_type=T.ENTERPRISE,
        legal_representative="张三",
        registered_on=TODAY - timedelta(days=730),
        risk_hit=False,
        payment_licence=False,
        licence_check_fails=False,
    )
    assert judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY) is None


async def test_rne_9_name_containing_chawu_is_organisation_not_found() -> None:
    for name in ("查无此公司", "北京查无科技有限公司"):
        found = await look_up(uscc("91"), name=name)
        assert found is None, name
        assert judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY) is (
            RegistryRefusal.ORGANISATION_NOT_FOUND
        )


async def test_rne_9_chosen_type_differing_from_the_certificate_is_type_mismatch() -> None:
    found = await look_up(uscc("12"), name="示例大学")
    assert found is not None
    assert found.organisation_type is T.PUBLIC_INSTITUTION
    refusal = judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY)
    assert refusal is RegistryRefusal.TYPE_MISMATCH
    assert judge(found, chosen_type=T.PUBLIC_INSTITUTION, legal_representative="张三", today=TODAY) is None


async def test_rne_9_name_containing_xinshe_was_registered_3_days_ago_and_is_refused() -> None:
    found = await look_up(uscc("91"), name="新设科技有限公司")
    assert found is not None
    assert found.registered_on == TODAY - timedelta(days=3)
    refusal = judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY)
    assert refusal is RegistryRefusal.REGISTERED_RECENTLY
    # The same organisation, looked at 4 days later (7 days after registration), passes.
    assert judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY + timedelta(days=4)) is None


@pytest.mark.parametrize(
    ("days_ago", "refusal"),
    [
        (0, RegistryRefusal.REGISTERED_RECENTLY),
        (3, RegistryRefusal.REGISTERED_RECENTLY),
        (6, RegistryRefusal.REGISTERED_RECENTLY),
        (7, None),
        (8, None),
    ],
)
def test_rne_9_registered_less_than_7_days_ago_boundary(days_ago: int, refusal: RegistryRefusal | None) -> None:
    assert MIN_REGISTERED_DAYS == 7
    found = registered(registered_on=TODAY - timedelta(days=days_ago))
    assert judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY) is refusal


async def test_rne_7_name_containing_fengxian_is_registered_but_hits_a_risk_rule() -> None:
    found = await look_up(uscc("91"), name="风险控制有限公司")
    assert found is not None
    assert (found.risk_hit, found.payment_licence, found.licence_check_fails) == (True, False, False)
    assert judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY) is None


async def test_rne_6_name_containing_zhifu_holds_a_payment_licence_so_no_transfer() -> None:
    found = await look_up(uscc("91"), name="示例支付有限公司")
    assert found is not None
    assert (found.risk_hit, found.payment_licence, found.licence_check_fails) == (False, True, False)
    assert judge(found, chosen_type=T.ENTERPRISE, legal_representative="张三", today=TODAY) is None
    assert not transfer_offered(found.organisation_type, found.payment_licence)


async def test_chg_2_name_containing_gengming_fails_the_automatic_licence_check() -> None:
    found = await look_up(uscc("91"), name="更名后科技有限公司")
    assert found is not None
    assert (found.risk_hit, found.payment_licence, found.licence_check_fails) == (False, False, True)
    assert found.name == "更名后科技有限公司"


async def test_rne_9_magic_names_combine_independently() -> None:
    found = await look_up(uscc("91"), name="新设风险支付更名有限公司")
    assert found is not None
    assert found.registered_on == TODAY - timedelta(days=3)
    assert (found.risk_hit, found.payment_licence, found.licence_check_fails) == (True, True, True)
    # 查无 wins over everything else.
    assert await look_up(uscc("91"), name="查无新设风险支付更名") is None


async def test_rne_2_legal_representative_wangbufu_does_not_match() -> None:
    found = await look_up(uscc("91"), legal_representative="王不符")
    assert found is not None
    assert found.legal_representative != "王不符"
    refusal = judge(found, chosen_type=T.ENTERPRISE, legal_representative="王不符", today=TODAY)
    assert refusal is RegistryRefusal.LEGAL_REP_MISMATCH
    # Only the exact name; the organisation is otherwise ordinary.
    other = await look_up(uscc("91"), legal_representative="王不符合")
    assert other is not None
    assert other.legal_representative == "王不符合"


def test_rne_9_judge_reports_the_first_reason_in_order() -> None:
    assert (
        judge(None, chosen_type=T.ENTERPRISE, legal_representative="x", today=TODAY)
        is RegistryRefusal.ORGANISATION_NOT_FOUND
    )
    everything_wrong = registered(
        organisation_type=T.LAW_FIRM, registered_on=TODAY - timedelta(days=1), legal_representative="王符合"
    )
    assert (
        judge(everything_wrong, chosen_type=T.ENTERPRISE, legal_representative="王不符", today=TODAY)
        is RegistryRefusal.TYPE_MISMATCH
    )
    assert (
        judge(everything_wrong, chosen_type=T.LAW_FIRM, legal_representative="王不符", today=TODAY)
        is RegistryRefusal.REGISTERED_RECENTLY
    )
    assert (
        judge(everything_wrong, chosen_type=T.LAW_FIRM, legal_representative="王不符", today=TODAY + timedelta(days=6))
        is RegistryRefusal.LEGAL_REP_MISMATCH
    )
    assert (
        judge(everything_wrong, chosen_type=T.LAW_FIRM, legal_representative="王符合", today=TODAY + timedelta(days=6))
        is None
    )


async def test_rne_2_unconfigured_registry_decides_nothing() -> None:
    registry: BusinessRegistry = UnconfiguredBusinessRegistry()
    with pytest.raises(ProviderUnavailable):
        await registry.look_up(uscc=uscc("91"), name="示例", legal_representative="张三", today=TODAY)


# ---------------------------------------------------------------- Bank: payouts (RNE-4, RNE-9)


SENT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def account(account_number: str = "6222000000000000", bank_name: str = "中国工商银行") -> PayoutAccount:
    return PayoutAccount(bank_name, "示例科技有限公司", account_number)


async def pay(
    bank_name: str = "中国工商银行",
    account_number: str = "6222000000000000",
    reference: str = "ref-1",
    bank: SandboxBank | None = None,
) -> PayoutResult:
    sandbox: Bank = bank or SandboxBank(ManualClock(SENT))
    return await sandbox.pay(reference, account(account_number, bank_name), 37)


def test_rne_4_bank_list_holds_the_large_national_banks() -> None:
    large = {
        "中国工商银行",
        "中国农业银行",
        "中国银行",
        "中国建设银行",
        "交通银行",
        "中国邮政储蓄银行",
        "招商银行",
        "中信银行",
        "中国光大银行",
        "华夏银行",
        "中国民生银行",
        "广发银行",
        "平安银行",
        "兴业银行",
        "上海浦东发展银行",
        "浙商银行",
        "渤海银行",
    }
    assert large <= set(BANKS)
    assert len(set(BANKS)) == len(BANKS)
    assert SandboxBank(ManualClock()).bank_names() == BANKS
    assert UnconfiguredBank().bank_names() == BANKS


@pytest.mark.parametrize("bank_name", BANKS)
async def test_rne_4_payout_to_any_listed_bank_succeeds_and_echoes_the_reference(bank_name: str) -> None:
    result = await pay(bank_name=bank_name, account_number="1234567890", reference=f"payout-{bank_name}")
    assert result == PayoutResult(f"payout-{bank_name}", None, SENT, SENT)  # arrives at once
    assert result.paid


@pytest.mark.parametrize("bank_name", ["工商银行", "中国工商银行 ", "Bank of China", "", "某某农村商业银行"])
async def test_rne_9_bank_not_in_the_list_is_bank_name_wrong(bank_name: str) -> None:
    result = await pay(bank_name=bank_name)
    assert result == PayoutResult("ref-1", PayoutRefusal.BANK_NAME_WRONG)
    assert not result.paid


async def test_rne_9_bank_name_is_checked_before_the_account_number() -> None:
    assert (
        await pay(bank_name="不存在银行", account_number="6222000000000001")
    ).refusal is PayoutRefusal.BANK_NAME_WRONG


async def test_rne_9_account_number_ending_in_1_is_account_mismatch() -> None:
    assert await pay(account_number="6222000000000001") == PayoutResult("ref-1", PayoutRefusal.ACCOUNT_MISMATCH)


async def test_rne_9_account_number_ending_in_2_cannot_receive() -> None:
    assert await pay(account_number="6222000000000002") == PayoutResult("ref-1", PayoutRefusal.CANNOT_RECEIVE)


@pytest.mark.parametrize("last", ["0", "5", "6", "7", "8", "9"])
async def test_rne_4_any_other_last_digit_is_paid_and_arrives_at_once(last: str) -> None:
    result = await pay(account_number="622200000000000" + last)
    assert (result.paid, result.sent_at, result.arrives_at) == (True, SENT, SENT)


async def test_rne_4_account_number_ending_in_3_arrives_a_day_later() -> None:
    result = await pay(account_number="6222000000000003")
    assert (result.paid, result.sent_at, result.arrives_at) == (True, SENT, SENT + timedelta(days=1))


async def test_rne_4_account_number_ending_in_4_times_out_but_pays_and_lookup_finds_it() -> None:
    bank = SandboxBank(ManualClock(SENT))
    assert await bank.lookup("ref-4") is None
    with pytest.raises(PayoutTimedOut):
        await pay(account_number="6222000000000004", reference="ref-4", bank=bank)
    assert isinstance(PayoutTimedOut("x"), ProviderUnavailable)  # callers that only know this still stop
    found = await bank.lookup("ref-4")
    assert found == PayoutResult("ref-4", None, SENT, SENT)
    assert [(p.reference, p.amount_fen) for p in bank.payouts()] == [("ref-4", 37)]


async def test_rne_4_sandbox_bank_pays_once_per_reference_and_refuses_non_positive_amounts() -> None:
    clock = ManualClock(SENT)
    bank = SandboxBank(clock)
    first = await pay(reference="a", bank=bank)
    clock.advance(hours=1)
    second = await pay(reference="a", bank=bank)  # the same reference: the same payout, nothing paid again
    assert first == second == PayoutResult("a", None, SENT, SENT)
    assert len(bank.payouts()) == len(bank.ledger) == 1
    with pytest.raises(ValueError, match="positive"):
        await bank.pay("z", account("10", "中国银行"), 0)
    assert [await bank.lookup(r) is not None for r in ("a", "z")] == [True, False]


async def test_rne_4_unconfigured_bank_pays_nothing() -> None:
    with pytest.raises(PayoutNotSent):  # certainly nothing paid: the service need not look it up
        await UnconfiguredBank().pay("z", account("10", "中国银行"), 37)
    with pytest.raises(ProviderUnavailable):
        await UnconfiguredBank().lookup("z")


# ---------------------------------------------------------------- Amounts (RNE-4, RNE-8)


def test_rne_4_random_amount_is_between_1_and_100_fen_and_covers_the_range() -> None:
    draws = Counter(random_amount_fen() for _ in range(20_000))
    assert min(draws) >= 1
    assert max(draws) <= 100
    assert all(isinstance(d, int) and not isinstance(d, bool) for d in draws)
    assert len(draws) == 100  # 20,000 uniform draws miss one of 100 values with probability ~1e-85


def test_rne_4_random_amount_uses_secrets_and_reaches_both_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def lowest(n: int) -> int:
        asked.append(n)
        return 0

    monkeypatch.setattr(bank_module.secrets, "randbelow", lowest)
    assert random_amount_fen() == 1
    monkeypatch.setattr(bank_module.secrets, "randbelow", lambda n: n - 1)
    assert random_amount_fen() == 100
    assert asked == [100]


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (1, "0.01"), (37, "0.37"), (40, "0.40"), (100, "1.00"), (12345, "123.45"), (-5, "-0.05")],
)
def test_rne_4_format_cny(fen: int, text: str) -> None:
    assert format_cny(fen) == text


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0.37", 37), ("0.4", 40), ("1", 100), ("1.00", 100), ("0.01", 1), (" 0.5 ", 50), ("00.10", 10), ("0", 0)],
)
def test_rne_4_parse_cny_accepts_up_to_two_decimals(text: str, fen: int) -> None:
    assert parse_cny(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "-0.37",
        "+0.37",
        "0.371",
        "0.",
        ".5",
        "",
        "   ",
        "abc",
        "1e2",
        "NaN",
        "Infinity",
        "1,00",
        "1 000",
        "０.３７",  # full-width digits
        "¥0.37",
        "0.3 7",
        "1" * 13,
    ],
)
def test_rne_4_parse_cny_refuses_what_is_not_an_amount(text: str) -> None:
    assert parse_cny(text) is None


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_rne_4_format_then_parse_is_the_identity(fen: int) -> None:
    assert parse_cny(format_cny(fen)) == fen


@given(st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2, allow_nan=False, allow_infinity=False))
def test_rne_4_parse_then_format_keeps_the_value(amount: Decimal) -> None:
    text = f"{amount.copy_abs():f}"  # never "-0.00"
    fen = parse_cny(text)
    assert fen is not None
    assert Decimal(format_cny(fen)) == amount


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999))
def test_rne_4_parse_cny_refuses_three_decimals(whole: int, thousandths: int) -> None:
    assert parse_cny(f"{whole}.{thousandths:03d}") is None


@given(st.integers(min_value=1, max_value=10**6))
def test_rne_4_parse_cny_refuses_every_negative(fen: int) -> None:
    assert parse_cny(format_cny(-fen)) is None
