"""Root query fields."""

from __future__ import annotations

import inspect
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from schema.context import Context
from schema.enums import AgreementStep
from schema.types.account import AccountType, Agreement, current_agreements
from schema.types.common import BadUserInput, parse_global_id

Info = strawberry.Info[Context, None]


async def viewer(info: Info) -> AccountType | None:
    found = await info.context.auth()
    return None if found is None else AccountType.of(found.account)


async def node(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global ID from this API.")]
) -> relay.Node | None:
    """Any Node type resolves only the viewer's own objects (see each type's `resolve_nodes`): another
    account's ID answers null, like an unknown one. An ID this API never gives out (not base64 of a
    concrete Node type and a row ID) is BAD_USER_INPUT."""
    found = parse_global_id(id)
    kind = None if found is None else _node_type(info, found[0])
    if found is None or kind is None:
        raise BadUserInput("`id` is not a global ID of this API.")
    nodes = kind.resolve_nodes(info=info, node_ids=[str(found[1])], required=False)
    resolved = await nodes if inspect.isawaitable(nodes) else nodes  # ours are all async
    return next(iter(resolved), None)


def _node_type(info: Info, name: str) -> type[relay.Node] | None:
    """The concrete object type implementing Node that is called `name` (not an interface such as Verification)."""
    definition = info.schema.get_type_by_name(name)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_interface:
        return None
    origin = definition.origin
    return origin if isinstance(origin, type) and issubclass(origin, relay.Node) else None


def agreements(
    step: Annotated[
        AgreementStep | None,
        strawberry.argument(description="Only the agreements of this step; all when omitted."),
    ] = None,
) -> list[Agreement]:
    return current_agreements(step)
