"""Check digits of the identifiers the rules use (docs/checksums.md), implemented once.

- Mainland resident ID number, GB 11643-1999 (RNP-4, RNP-6, RN-4): 17 digits + check character.
- Unified social credit code, GB 32100-2015 (RNE-2, RNE-4, RNE-9): 17 characters + check character.
- Bank-card numbers, Luhn mod 10 (RNP-4, RNP-6).
"""

from __future__ import annotations

from datetime import date

from services.text import is_ascii_digits

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check_character(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalize_id_number(raw: str) -> str:
    return (raw or "").strip().upper()


def id_birth_date(number: str) -> date | None:
    """The birth date in an 18-character ID number, or None when it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def valid_id_number(raw: str, today: date | None = None) -> bool:
    """GB 11643: 18 characters, a real birth date not in the future, the right check character.
    A lower-case `x` is accepted (normalise with `normalize_id_number`)."""
    number = normalize_id_number(raw)
    if len(number) != 18 or not is_ascii_digits(number[:17]):
        return False
    born = id_birth_date(number)
    if born is None or (today is not None and born > today):
        return False
    return id_check_character(number[:17]) == number[17]


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    c = 31 - total % 31
    return USCC_ALPHABET[0 if c == 31 else c]


def valid_uscc(raw: str) -> bool:
    code = (raw or "").strip().upper()
    if len(code) != 18 or any(ch not in USCC_ALPHABET for ch in code):
        return False
    return uscc_check_character(code[:17]) == code[17]


def luhn_valid(raw: str) -> bool:
    """12 to 19 digits passing the Luhn mod-10 check."""
    digits = (raw or "").replace(" ", "")
    if not is_ascii_digits(digits) or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
