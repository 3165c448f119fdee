"""Small SQL helpers shared by repositories: dialect-specific INSERT for upserts, capped counters, the
counts of a newest-first list, the sweep of expired rows, and datetimes as microseconds since the epoch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from services.uow import Uow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_epoch_us(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the Unix epoch (what `epoch_us` computes in SQL)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


class epoch_us(FunctionElement[int]):
    """A UTC datetime column as whole microseconds since the Unix epoch, exact on both engines: date arithmetic
    against another column (a deadline that depends on the row) without engine-specific interval types."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_us, "postgresql")
def _epoch_us_postgresql(element: epoch_us, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(round(extract(epoch FROM {compiler.process(element.clauses, **kw)}) * 1000000) AS BIGINT)"


@compiles(epoch_us, "sqlite")
def _epoch_us_sqlite(element: epoch_us, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a UTC datetime as text, `YYYY-MM-DD HH:MM:SS.ffffff` (models/base.UTCDateTime): whole
    # seconds from strftime('%s'), then the six digits of microseconds.
    value = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER) * 1000000 + CAST(substr({value}, 21, 6) AS INTEGER))"
    )


async def delete_expired(uow: Uow, model: Any, cutoff: datetime) -> int:
    """Delete the rows of `model` whose `expires_at` is at or before `cutoff` (the sweeper's short-lived
    tickets, codes and grants): how many."""
    result = await uow.session.execute(delete(model).where(model.expires_at <= cutoff).returning(model.id))
    return len(result.all())


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


@dataclass(frozen=True, slots=True)
class ListCount:
    """The size of a list read newest first (by descending row ID) in pages after a cursor."""

    total: int  # every row of the list, not only a page
    before: int  # rows that come before the page: the cursor's row (if it is still listed) and newer ones


async def count_list(
    uow: Uow, key: InstrumentedAttribute[int], where: list[ColumnElement[bool]], after_id: int | None
) -> ListCount:
    """How many rows of `key`'s table match `where`, and how many of them precede a page that starts after
    row `after_id` (its ID and higher); one statement, whatever the size of the list or the page."""
    before = literal(0) if after_id is None else func.count(case((key >= after_id, 1)))
    total, preceding = (
        await uow.session.execute(select(func.count(), before).select_from(key.class_).where(*where))
    ).one()
    return ListCount(total=int(total or 0), before=int(preceding or 0))
