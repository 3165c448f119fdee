"""Text typed by users, checked the same way everywhere: no control characters, ASCII digits only.

- Control characters (Unicode category Cc: NUL, the other C0 codes, DEL, the C1 codes) have no place
  in a name, an address or a code, and PostgreSQL refuses NUL in text outright. Lone surrogates
  (category Cs, which JSON can carry as "\\ud800") cannot even be encoded for the database. Free text
  written in a text area (a reason, a message) may hold line breaks and tabs; nothing else may.
- Python's str.isdigit() and int() accept the digits of every script (full-width "123" is 123): a code, a
  phone number, an ID number, an account number or an amount is written in ASCII digits.
- Row IDs that arrive from outside (in a global ID, a cursor, a URL) are canonical decimals that fit
  the 64-bit columns of both engines.
"""

from __future__ import annotations

import re

# Cc (U+0000-U+001F, U+007F-U+009F) and Cs (U+D800-U+DFFF); the second form lets tab, LF and CR through.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_ROW_ID = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)

MAX_ROW_ID = 2**63 - 1  # BIGINT / SQLite INTEGER


def has_control_characters(value: str, *, line_breaks: bool = False) -> bool:
    """Whether `value` holds a control character or a lone surrogate; `line_breaks` allows tab, LF and CR."""
    pattern = _CONTROL_BUT_LINE_BREAKS if line_breaks else _CONTROL
    return pattern.search(value) is not None


def without_control_characters(value: str) -> str:
    """`value` with its control characters and lone surrogates dropped, for text that is only shown back
    (an upload's file name), never for what a user must get right."""
    return _CONTROL.sub("", value)


def is_ascii_digits(value: str) -> bool:
    """Only 0-9, at least one (str.isdigit() would also take full-width digits and superscripts)."""
    return value.isascii() and value.isdigit()


def parse_row_id(value: str) -> int | None:
    """A row ID written canonically: ASCII digits, no sign, blank or leading zero, 1 to 2^63 - 1."""
    if not _ROW_ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None
