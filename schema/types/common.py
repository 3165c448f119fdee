"""Shared pieces: global IDs and cursors (parsed here and nowhere else), the `first` cap, and how a Node
type resolves the viewer's own objects by ID."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from schema.context import Context
from schema.observability import BAD_USER_INPUT
from services.sql import ListCount
from services.text import parse_row_id
from services.viewer import Viewer

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


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


N = TypeVar("N", bound=_Identified)

# Reads the viewer's own objects among the row IDs (each given once), built as the Node type: one
# statement, owner-scoped (`WHERE id IN (...) AND account_id = :viewer` or the like), in any order.
OwnedLoad = Callable[[Context, Viewer, list[int]], Awaitable[Iterable[N]]]


async def resolve_owned_nodes(
    info: strawberry.Info[Context, None], node_ids: Iterable[str], kind: type, load: OwnedLoad[N]
) -> list[N | None]:
    """The `resolve_nodes` of every Node type: the viewer's own objects of `kind` by row ID, in the order
    of `node_ids`, null for an ID that is not one (anything but a canonical row ID), unknown, or another
    account's (so an answer never tells whether someone else's object exists), and null for every ID when
    signed out. By ID, not from a page of the newest: any of the viewer's objects is found, however old.

    The IDs of every `node(id:)` of one request that name `kind` go to `load` together: one statement per
    Node type per request, whatever the number of IDs."""
    numbers = [parse_row_id(i) for i in node_ids]
    loader: DataLoader[int, N | None] | None = info.context.node_loaders.get(kind)
    if loader is None:
        context = info.context

        async def load_batch(keys: list[int]) -> list[N | None]:
            viewer = await context.auth()
            if viewer is None:
                return [None] * len(keys)
            found = {node.id: node for node in await load(context, viewer, list(dict.fromkeys(keys)))}
            return [found.get(key) for key in keys]

        loader = context.node_loaders[kind] = DataLoader(load_fn=load_batch)
    # No await before this: the sibling `node` fields of a request, resolved concurrently, all reach the
    # loader before it dispatches, so their IDs make one batch.
    wanted = [n for n in numbers if n is not None]
    by_id = dict(zip(wanted, await loader.load_many(wanted), strict=True)) if wanted else {}
    return [None if n is None else by_id[n] for n in numbers]


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
