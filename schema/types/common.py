"""Shared pieces: global IDs and cursors (parsed here and nowhere else), and the `first` cap."""

from __future__ import annotations

import base64
import binascii
import re

import strawberry
from graphql import GraphQLError

from schema.observability import BAD_USER_INPUT
from services.sql import ListCount
from services.text import parse_row_id

MAX_PAGE = 100

# The one argument of every mutation (docs/api.md: one `input`, one payload).
INPUT = strawberry.argument(description="The input of this mutation; see its type for each field.")

_TYPE_AND_ID = re.compile(r"([A-Za-z][A-Za-z0-9]{0,63}):([0-9]{1,20})", re.ASCII)


class BadUserInput(GraphQLError):
    """A malformed argument of a query field (an ID, a cursor, `first`): a top-level error with its code.

    Raised in the resolver, so the field is null and the rest of the response stands.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": BAD_USER_INPUT})


def check_first(first: int) -> int:
    """docs/api.md: lists are connections with a bounded `first` (at most 100)."""
    if not 0 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE}.")
    return first


def _type_and_id(text: str, *, urlsafe: bool) -> tuple[str, int] | None:
    """`<Type>:<id>` from its canonical base64 (the only spelling this API gives out), else None."""
    if not text.isascii() or len(text) > 128:
        return None
    try:
        raw = base64.urlsafe_b64decode(text) if urlsafe else base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    canonical = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    if canonical != text.encode() or not raw.isascii():
        return None
    found = _TYPE_AND_ID.fullmatch(raw.decode())
    if found is None:
        return None
    number = parse_row_id(found.group(2))
    return None if number is None else (found.group(1), number)


def parse_global_id(global_id: str) -> tuple[str, int] | None:
    """A global ID as this API writes it (base64 of `<Type>:<id>`, id 1..2^63-1 in ASCII), else None.

    Whether the type is a concrete Node type is for the caller: `node_id` wants one, `node` looks it up.
    """
    return _type_and_id(global_id, urlsafe=False)


def node_id(global_id: str, type_name: str) -> int | None:
    """The row ID behind a global ID of `type_name`; None for anything else (malformed, another type).

    A mutation answers None exactly as it answers an unknown or someone else's ID (its NOT_FOUND).
    """
    found = parse_global_id(global_id)
    return found[1] if found is not None and found[0] == type_name else None


def row_ids(node_ids: list[str]) -> list[int]:
    """The row IDs among the IDs Strawberry's `node` hands a type (already split from the global ID);
    anything that is not one (1..2^63-1, ASCII digits) matches no row."""
    return [n for n in map(parse_row_id, node_ids) if n is not None]


def encode_cursor(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The row ID after which a page starts; a cursor not given out by this list is BAD_USER_INPUT."""
    if cursor is None or cursor == "":
        return None
    found = _type_and_id(cursor, urlsafe=True)
    if found is None or found[0] != kind:
        raise BadUserInput("`after` is not a cursor of this list.")
    return found[1]


@strawberry.type(
    description="Where a page of a connection stands (Relay cursor connections). Every list of this API is read "
    "forwards, newest first, with `first` and `after`."
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    has_previous_page: bool = strawberry.field(
        description="Items come before this page: true when `after` was given and the list still holds the item "
        "it names or newer ones; false on the first page (no `after`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first item of this page; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item of this page: pass it as `after` to get the next page; null when "
        "the page is empty."
    )

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, counted: ListCount) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=counted.before > 0,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
