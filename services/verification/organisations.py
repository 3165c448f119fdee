"""Organisation types and their certificates (ORG-1), and what the type decides (RNE-3, RNE-6, ENT-2).

- ORG-1: eighteen organisation types, each with the name of the certificate it is registered with.
  Types 1 (enterprise) and 2 (individual business) are enterprises; the rest are "other
  organisations", whose face check may be done by an authorised employee and which then go to
  manual review (RNE-3).
- ENT-2: special VAT invoices are for a "general enterprise", types 1-2 (the SMS service is for every
  enterprise-verified account, whatever its type).
- RNE-6: corporate bank transfer is not offered to public institutions (type 4) nor to holders of a
  third-party payment licence.
- The sandbox business registry (docs/sandbox.md "Business registry") derives the registered type from
  the first two characters of the USCC: `USCC_PREFIXES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class OrganisationType(Enum):
    """ORG-1, in the order of the rule (see `TYPES` for the numbers 1..18)."""

    ENTERPRISE = "ENTERPRISE"
    INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
    LAW_FIRM = "LAW_FIRM"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"
    GOVERNMENT_ORGAN = "GOVERNMENT_ORGAN"
    SOCIAL_GROUP = "SOCIAL_GROUP"
    SOCIAL_SERVICE_ORGANISATION = "SOCIAL_SERVICE_ORGANISATION"
    FOUNDATION = "FOUNDATION"
    PRIVATE_NON_ENTERPRISE_UNIT = "PRIVATE_NON_ENTERPRISE_UNIT"
    GRASSROOTS_SELF_GOVERNING_ORGANISATION = "GRASSROOTS_SELF_GOVERNING_ORGANISATION"
    OWNERS_ASSEMBLY = "OWNERS_ASSEMBLY"
    FOREIGN_CULTURAL_CENTRE = "FOREIGN_CULTURAL_CENTRE"
    RELIGIOUS_VENUE = "RELIGIOUS_VENUE"
    TRADE_UNION = "TRADE_UNION"
    JUDICIAL_APPRAISAL = "JUDICIAL_APPRAISAL"
    RURAL_COLLECTIVE_ECONOMIC_ORGANISATION = "RURAL_COLLECTIVE_ECONOMIC_ORGANISATION"
    GRASSROOTS_LEGAL_SERVICE_OFFICE = "GRASSROOTS_LEGAL_SERVICE_OFFICE"
    FOREIGN_NGO_REPRESENTATIVE_OFFICE = "FOREIGN_NGO_REPRESENTATIVE_OFFICE"


@dataclass(frozen=True, slots=True)
class OrganisationTypeInfo:
    type: OrganisationType
    number: int  # 1..18, as numbered in ORG-1
    name_zh: str
    name_en: str
    certificate_zh: str
    certificate_en: str  # ORG-1's wording, first letter capitalised
    is_enterprise: bool  # ORG-1: types 1-2; the rest are "other organisations" (RNE-3)


def _info(
    t: OrganisationType, number: int, name_zh: str, name_en: str, certificate_zh: str, certificate_en: str
) -> OrganisationTypeInfo:
    return OrganisationTypeInfo(t, number, name_zh, name_en, certificate_zh, certificate_en, number in (1, 2))


_T = OrganisationType

# ORG-1, in its order.
TYPES: dict[OrganisationType, OrganisationTypeInfo] = {
    info.type: info
    for info in (
        _info(_T.ENTERPRISE, 1, "企业", "Enterprise", "营业执照", "Business licence"),
        _info(_T.INDIVIDUAL_BUSINESS, 2, "个体工商户", "Individual business", "营业执照", "Business licence"),
        _info(_T.LAW_FIRM, 3, "律师事务所", "Law firm", "律师事务所执业许可证", "Law-firm practice licence"),
        _info(
            _T.PUBLIC_INSTITUTION,
            4,
            "事业单位",
            "Public institution",
            "事业单位法人证书",
            "Public-institution legal-person certificate",
        ),
        _info(_T.GOVERNMENT_ORGAN, 5, "政府机关", "Government organ", "统一社会信用代码证书", "USCC certificate"),
        _info(
            _T.SOCIAL_GROUP,
            6,
            "社会团体",
            "Social group",
            "社会团体法人登记证书",
            "Social-group legal-person registration certificate",
        ),
        _info(
            _T.SOCIAL_SERVICE_ORGANISATION,
            7,
            "社会服务机构",
            "Social service organisation",
            "社会服务机构登记证书",
            "Registration certificate",
        ),
        _info(
            _T.FOUNDATION,
            8,
            "基金会",
            "Foundation",
            "基金会法人登记证书",
            "Foundation legal-person registration certificate",
        ),
        _info(
            _T.PRIVATE_NON_ENTERPRISE_UNIT,
            9,
            "民办非企业单位",
            "Private non-enterprise unit",
            "民办非企业单位登记证书",
            "Registration certificate",
        ),
        _info(
            _T.GRASSROOTS_SELF_GOVERNING_ORGANISATION,
            10,
            "基层群众性自治组织（村民委员会、居民委员会）",
            "Grass-roots self-governing organisation (village or residents' committee)",
            "基层群众性自治组织特别法人统一社会信用代码证书",
            "Special legal-person USCC certificate",
        ),
        _info(_T.OWNERS_ASSEMBLY, 11, "业主大会", "Owners' assembly", "统一社会信用代码证书", "USCC certificate"),
        _info(
            _T.FOREIGN_CULTURAL_CENTRE,
            12,
            "外国在华文化中心",
            "Foreign cultural centre in China",
            "外国在华文化中心登记证书",
            "Registration certificate",
        ),
        _info(
            _T.RELIGIOUS_VENUE, 13, "宗教活动场所", "Religious venue", "宗教活动场所登记证", "Registration certificate"
        ),
        _info(
            _T.TRADE_UNION, 14, "工会法人", "Trade-union legal person", "工会法人资格证书", "Qualification certificate"
        ),
        _info(_T.JUDICIAL_APPRAISAL, 15, "司法鉴定机构", "Judicial appraisal", "司法鉴定许可证", "Licence"),
        _info(
            _T.RURAL_COLLECTIVE_ECONOMIC_ORGANISATION,
            16,
            "农村集体经济组织",
            "Rural collective economic organisation",
            "农村集体经济组织登记证",
            "Registration certificate",
        ),
        _info(
            _T.GRASSROOTS_LEGAL_SERVICE_OFFICE,
            17,
            "基层法律服务所",
            "Grass-roots legal service office",
            "基层法律服务所执业证",
            "Practice certificate",
        ),
        _info(
            _T.FOREIGN_NGO_REPRESENTATIVE_OFFICE,
            18,
            "境外非政府组织代表机构",
            "Representative office of a foreign NGO",
            "境外非政府组织代表机构登记证书",
            "Registration certificate",
        ),
    )
}

_BY_NUMBER: dict[int, OrganisationType] = {info.number: t for t, info in TYPES.items()}

# docs/sandbox.md "Business registry": the registered type follows the first two USCC characters.
USCC_PREFIXES: dict[str, OrganisationType] = {
    "91": _T.ENTERPRISE,
    "92": _T.INDIVIDUAL_BUSINESS,
    "31": _T.LAW_FIRM,
    "12": _T.PUBLIC_INSTITUTION,
    "11": _T.GOVERNMENT_ORGAN,
    "51": _T.SOCIAL_GROUP,
    "52": _T.SOCIAL_SERVICE_ORGANISATION,
    "53": _T.FOUNDATION,
    "59": _T.PRIVATE_NON_ENTERPRISE_UNIT,
    "54": _T.GRASSROOTS_SELF_GOVERNING_ORGANISATION,
    "Y1": _T.OWNERS_ASSEMBLY,
    "41": _T.FOREIGN_CULTURAL_CENTRE,
    "71": _T.RELIGIOUS_VENUE,
    "81": _T.TRADE_UNION,
    "34": _T.JUDICIAL_APPRAISAL,
    "N1": _T.RURAL_COLLECTIVE_ECONOMIC_ORGANISATION,
    "N2": _T.RURAL_COLLECTIVE_ECONOMIC_ORGANISATION,
    "N3": _T.RURAL_COLLECTIVE_ECONOMIC_ORGANISATION,
    "33": _T.GRASSROOTS_LEGAL_SERVICE_OFFICE,
    "Y2": _T.FOREIGN_NGO_REPRESENTATIVE_OFFICE,
}


def by_number(n: int) -> OrganisationType:
    """The type numbered `n` in ORG-1; `ValueError` outside 1..18."""
    try:
        return _BY_NUMBER[n]
    except KeyError:
        raise ValueError(f"no organisation type numbered {n!r} (ORG-1 has 1..18)") from None


def is_enterprise(t: OrganisationType) -> bool:
    """ORG-1: types 1-2 are enterprises; the others are "other organisations" (RNE-3)."""
    return TYPES[t].is_enterprise


def is_general_enterprise(t: OrganisationType) -> bool:
    """ENT-2: "general enterprise" (special VAT invoices) means organisation types 1-2."""
    return TYPES[t].number in (1, 2)


def transfer_offered(t: OrganisationType, holds_payment_licence: bool) -> bool:
    """RNE-6: no corporate bank transfer for public institutions (type 4) nor payment-licence holders."""
    return t is not OrganisationType.PUBLIC_INSTITUTION and not holds_payment_licence


def type_of_uscc(uscc: str) -> OrganisationType | None:
    """The type the sandbox registry gives a USCC (its first two characters); None for any other prefix.
    Leading/trailing blanks and lower case are tolerated; the check digit is not looked at here."""
    return USCC_PREFIXES.get((uscc or "").strip().upper()[:2])
