"""Small SQL helpers shared by repositories: dialect-specific INSERT for upserts, and capped counters."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from services.uow import Uow


def insert(uow: Uow, model: Any) -> Any:
    """`INSERT` with `.on_conflict_do_update/nothing` for the session's dialect."""
    if uow.dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


async def take_counted_slot(uow: Uow, model: Any, key: dict[str, Any], cap: int) -> int | None:
    """Count one more on the row of `model` whose primary key is `key` (created at 1), atomically, unless
    its `count` has reached `cap`: one conditional upsert, so racing requests never pass the cap. The
    new count, or None when refused (nothing changes then)."""
    stmt = insert(uow, model).values(**key, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[getattr(model, column) for column in key],
        set_={"count": model.count + 1},
        where=model.count < cap,
    ).returning(model.count)
    counted: int | None = (await uow.session.execute(stmt)).scalar_one_or_none()
    return counted
