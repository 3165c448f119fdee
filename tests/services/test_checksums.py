"""docs/checksums.md: GB 11643 ID numbers, GB 32100 USCCs and Luhn card numbers, with its samples
and property tests (one changed character is always caught)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.checksums import (
    USCC_ALPHABET,
    id_birth_date,
    id_check_character,
    luhn_valid,
    uscc_check_character,
    valid_id_number,
    valid_uscc,
)

TODAY = date(2026, 11, 26)


def test_spec_samples_are_valid() -> None:
    for number in ("11010519491231002X", "440301200801011238", "110101201506010010", "11010519491231002x"):
        assert valid_id_number(number, TODAY), number
    assert id_birth_date("11010519491231002X") == date(1949, 12, 31)
    for code in ("91350100M000100Y43", "91110000600037341L"):
        assert valid_uscc(code), code
    for card in ("6217000000000000004", "6222020000000000000"):
        assert luhn_valid(card), card


def test_wrong_length_date_or_character_is_refused() -> None:
    assert not valid_id_number("11010519491231002", TODAY)  # 17 characters
    assert not valid_id_number("110105194913310026", TODAY)  # month 13
    assert not valid_id_number("110105203001010011", TODAY)  # born in the future
    assert not valid_uscc("91350100M000100Y4I")  # I is not in the alphabet
    assert not luhn_valid("62170000000000000A4")
    assert not luhn_valid("12345678901")  # too short


id17 = st.builds(
    lambda area, born, seq: f"{area}{born:%Y%m%d}{seq:03d}",
    st.integers(110000, 659999),
    st.dates(min_value=date(1920, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


@given(id17, st.integers(0, 16), st.integers(1, 9))
def test_one_changed_digit_of_an_id_number_is_caught(first17: str, position: int, delta: int) -> None:
    number = first17 + id_check_character(first17)
    assert valid_id_number(number, TODAY)
    changed = first17[:position] + str((int(first17[position]) + delta) % 10) + first17[position + 1 :]
    assert not valid_id_number(changed + number[17], TODAY)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 30))
def test_one_changed_character_of_a_uscc_is_caught(first17: str, position: int, delta: int) -> None:
    code = first17 + uscc_check_character(first17)
    assert valid_uscc(code)
    swapped = USCC_ALPHABET[(USCC_ALPHABET.index(first17[position]) + delta) % 31]
    assert not valid_uscc(first17[:position] + swapped + first17[position + 1 :] + code[17])


@given(st.text(alphabet="0123456789", min_size=15, max_size=18), st.integers(1, 9))
def test_luhn_catches_one_changed_digit(body: str, delta: int) -> None:
    check = next(str(d) for d in range(10) if luhn_valid(body + str(d)))
    card = body + check
    changed = card[:-2] + str((int(card[-2]) + delta) % 10) + card[-1]
    assert not luhn_valid(changed)
