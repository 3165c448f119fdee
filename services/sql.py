"""Small SQL helpers shared by repositories: dialect-specific INSERT for upserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from services.uow import Uow


def insert(uow: Uow, model: Any) -> Any:
    """`INSERT` with `.on_conflict_do_update/nothing` for the session's dialect."""
    if uow.dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
