"""The one check for typed text (services/text.py): control characters, ASCII digits, row IDs."""

from __future__ import annotations

import pytest

from services.text import (
    MAX_ROW_ID,
    has_control_characters,
    is_ascii_digits,
    parse_row_id,
    without_control_characters,
)


@pytest.mark.parametrize(
    "value",
    ["\x00", "a\x00b", "\x1b[31m", "\x07", "\x7f", "\x85", "\x9f", chr(0xD800), chr(0xDFFF), "a\nb", "a\rb", "a\tb"],
)
def test_control_characters_and_lone_surrogates_are_found(value: str) -> None:
    assert has_control_characters(value)


@pytest.mark.parametrize("value", ["", "张三", "O'Brien-Smith", "a b", "😀", "\u00a0", "\u2028", "é"])
def test_ordinary_text_has_none(value: str) -> None:
    assert not has_control_characters(value)


def test_free_text_may_hold_line_breaks_and_tabs_and_nothing_else() -> None:
    assert not has_control_characters("line one\r\nline two\tend", line_breaks=True)
    for other in ("\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", chr(0xD800)):
        assert has_control_characters(f"a{other}b", line_breaks=True), repr(other)


def test_text_only_shown_back_loses_its_control_characters() -> None:
    assert without_control_characters("let\x00ter\x1b[0m\n.png" + chr(0xD800)) == "letter[0m.png"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0123456789", True), ("7", True), ("", False), ("１２３", False), ("²", False), ("٣", False), ("12a", False)],
)
def test_digits_are_ascii_digits(value: str, expected: bool) -> None:
    assert is_ascii_digits(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (str(MAX_ROW_ID), MAX_ROW_ID),
        (str(MAX_ROW_ID + 1), None),
        ("9" * 30, None),
        ("0", None),
        ("01", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("１２３", None),
        ("1_000", None),
        ("", None),
    ],
)
def test_a_row_id_is_a_canonical_decimal_that_fits_64_bits(value: str, expected: int | None) -> None:
    assert parse_row_id(value) == expected
