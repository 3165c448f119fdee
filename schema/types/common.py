"""Shared pieces: cursors and the `first` cap."""

from __future__ import annotations

import base64

import strawberry

MAX_PAGE = 100

# The one argument of every mutation (DESIGN: one `input`, one payload).
INPUT = strawberry.argument(description="The input of this mutation; see its type for each field.")


def check_first(first: int) -> int:
    """DESIGN: lists are connections with a bounded `first` (at most 100)."""
    if not 0 <= first <= MAX_PAGE:
        raise ValueError(f"`first` must be between 0 and {MAX_PAGE}.")
    return first


def encode_cursor(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        prefix, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if prefix != kind:
            raise ValueError
        return int(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("`after` is not a cursor of this list.") from exc


@strawberry.type(description="Where a page of a connection stands.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")
