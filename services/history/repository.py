"""Security events: insert, the owner's newest-first pages, and the new-device look-up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select

from models.history import SecurityEvent
from services.sql import ListCount, count_list
from services.uow import Uow


async def add(uow: Uow, event: SecurityEvent) -> None:
    uow.session.add(event)
    await uow.session.flush()


async def page(
    uow: Uow, account_id: int, kinds: list[str] | None, limit: int, after_id: int | None
) -> tuple[list[SecurityEvent], ListCount]:
    """The account's events (of `kinds`, when given), newest first, and how many: two statements."""
    where: list[ColumnElement[bool]] = [SecurityEvent.account_id == account_id]
    if kinds is not None:
        where.append(SecurityEvent.kind.in_(kinds))
    counted = await count_list(uow, SecurityEvent.id, where, after_id)
    stmt = select(SecurityEvent).where(*where).order_by(SecurityEvent.id.desc()).limit(limit)
    if after_id is not None:
        stmt = stmt.where(SecurityEvent.id < after_id)
    return list(await uow.session.scalars(stmt)), counted


async def sign_in_history(
    uow: Uow, account_id: int, kind: str, ip: str | None, user_agent: str | None, since: datetime
) -> tuple[bool, bool]:
    """(the account has signed in before at all, it signed in from this client since `since`): one
    statement over the (account, kind) index."""
    mine = and_(SecurityEvent.account_id == account_id, SecurityEvent.kind == kind)
    same_client = and_(
        mine,
        SecurityEvent.occurred_at >= since,
        SecurityEvent.client_ip.is_(None) if ip is None else SecurityEvent.client_ip == ip,
        SecurityEvent.user_agent.is_(None) if user_agent is None else SecurityEvent.user_agent == user_agent,
    )
    row = (await uow.session.execute(select(exists().where(mine), exists().where(same_client)))).one()
    return bool(row[0]), bool(row[1])
