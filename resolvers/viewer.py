"""Root query fields."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from schema.context import Context
from schema.enums import AgreementStep
from schema.types.account import AccountType, Agreement, current_agreements

Info = strawberry.Info[Context, None]


async def viewer(info: Info) -> AccountType | None:
    found = await info.context.auth()
    return None if found is None else AccountType.of(found.account)


async def node(
    info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="A global ID from this API.")]
) -> relay.Node | None:
    """Any Node type resolves only the viewer's own objects (see each type's `resolve_nodes`)."""
    try:
        return await id.resolve_node(info, required=False)
    except (ValueError, KeyError):  # an ID of no known type behaves as unknown
        return None


def agreements(
    step: Annotated[
        AgreementStep | None,
        strawberry.argument(description="Only the agreements of this step; all when omitted."),
    ] = None,
) -> list[Agreement]:
    return current_agreements(step)
