"""Root query fields."""

from __future__ import annotations

import strawberry

from schema.context import Context
from schema.types.account import AccountType, Agreement, current_agreements

Info = strawberry.Info[Context, None]


async def viewer(info: Info) -> AccountType | None:
    found = await info.context.auth()
    return None if found is None else AccountType.of(found.account)


def agreements() -> list[Agreement]:
    return current_agreements()
