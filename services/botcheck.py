"""The bot check as the use cases ask it (REC-1, REC-2, APL-2): the token's form is checked with the
rest of the input, then the verifier is asked outside any transaction (it is a network call). A check
that cannot be decided refuses, never passes. Each domain answers with its own error codes."""

from __future__ import annotations

import logging
from enum import Enum

from services.database import Transactions
from services.errors import ServiceError
from services.providers.botcheck import MAX_TOKEN_LENGTH
from services.providers.errors import ProviderUnavailable

log = logging.getLogger(__name__)


def refused(failed: Enum) -> ServiceError:
    return ServiceError(failed, "The bot check did not pass; try again.", "botToken")


def check_token(token: str, failed: Enum) -> None:
    """An empty or oversized token is refused without asking the verifier."""
    token = token or ""
    if not token.strip() or len(token) > MAX_TOKEN_LENGTH:
        raise refused(failed)


async def verify(tx: Transactions, token: str, client_ip: str | None, *, failed: Enum, unavailable: Enum) -> None:
    """Ask the verifier about a token `check_token` let through."""
    await tx.release()  # no database connection is held while the verifier answers
    try:
        passed = await tx.deps.bot_check.verify(token, client_ip)
    except ProviderUnavailable as exc:
        log.warning("bot check unavailable: %s", exc)
        raise ServiceError(
            unavailable, "The bot check cannot be done right now; try again later.", "botToken"
        ) from None
    if not passed:
        raise refused(failed)
