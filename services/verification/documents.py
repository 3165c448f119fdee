"""Identity documents a person verifies with (RNP-2, RNP-4, RNP-6, RN-4): types, local checks, and the
three forms a number is kept in (keyed hash, sealed value, masked display)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum

from services.checksums import id_birth_date, normalize_id_number, valid_id_number
from services.errors import Problems, ServiceError, checked
from services.secretbox import seal
from services.security import keyed_hash
from services.text import has_control_characters
from services.verification.errors import VerificationErrorCode as Code

MIN_AGE = 14  # RN-4
NAME_MAX = 64
OTHER_NUMBER = re.compile(r"^[A-Z0-9]{1,32}$")


class DocumentType(Enum):
    """RNP-2: the documents face verification accepts; bank-card verification takes the first only (RNP-4)."""

    MAINLAND_ID_CARD = "MAINLAND_ID_CARD"  # 中华人民共和国居民身份证（二代）
    HMT_TRAVEL_PERMIT = "HMT_TRAVEL_PERMIT"  # 港澳台居民来往内地通行证
    FOREIGN_PERMANENT_RESIDENCE_CARD = "FOREIGN_PERMANENT_RESIDENCE_CARD"  # 外国人永久居留身份证
    CHINESE_PASSPORT_ABROAD = "CHINESE_PASSPORT_ABROAD"  # 定居国外的中国公民护照


@dataclass(frozen=True, slots=True)
class Subject:
    """A person as submitted, after the local checks."""

    name: str
    document_type: DocumentType
    number: str

    def key(self, secret_key: str) -> str:
        return keyed_hash(secret_key, f"identity:{self.document_type.value}:{self.number}")

    def sealed(self, secret_key: str) -> str:
        return seal(secret_key, self.number)

    @property
    def masked(self) -> str:
        return mask_document_number(self.number)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_name(raw: str, field: str = "name") -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > NAME_MAX or has_control_characters(raw):  # one line, no NUL (PostgreSQL)
        raise ServiceError(
            Code.NAME_INVALID, f"Enter the name as on the document (at most {NAME_MAX} characters).", field
        )
    return name


def check_document_number(document_type: DocumentType, number: str, today: date, field: str) -> str:
    """The number as kept (normalised), or its refusal; never an attempt (RNP-6)."""
    if document_type is DocumentType.MAINLAND_ID_CARD:
        value = normalize_id_number(number or "")
        # RNP-6: 18 characters, a real birth date, the GB 11643 check character.
        if not valid_id_number(value, today):
            raise ServiceError(
                Code.ID_NUMBER_INVALID,
                "This is not a valid mainland resident ID number (check the last character).",
                field,
            )
        born = id_birth_date(value)
        assert born is not None
        # RN-4: under 14 cannot be verified; the age follows from the birth date in the number.
        if age_on(born, today) < MIN_AGE:
            raise ServiceError(Code.AGE_BELOW_MINIMUM, "A person under 14 cannot be verified.", field)
        return value
    value = "".join((number or "").split()).upper()
    if not OTHER_NUMBER.match(value):
        raise ServiceError(Code.DOCUMENT_NUMBER_INVALID, "Enter the document number (letters and digits).", field)
    return value


def check_subject(
    name: str, document_type: DocumentType, number: str, today: date, *, name_field: str, number_field: str
) -> Subject:
    """The checks made before any provider is called; a refusal here is never an attempt (RNP-6). A bad
    name and a bad number are reported together."""
    problems = Problems()
    clean_name = checked(problems, check_name, name, name_field)
    value = checked(problems, check_document_number, document_type, number, today, number_field)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert clean_name is not None
    assert value is not None
    return Subject(clean_name, document_type, value)


def mask_document_number(number: str) -> str:
    if len(number) >= 10:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    if len(number) > 3:
        return number[0] + "*" * (len(number) - 3) + number[-2:]
    return "*" * len(number)


def mask_name(name: str) -> str:
    return "*" * (len(name) - 1) + name[-1] if len(name) > 1 else "*"


def mask_card(card: str) -> str:
    return f"{card[:4]} **** **** {card[-4:]}"
