"""Whether an account is verified as a person or as an enterprise (RN-1).

Real-name verification arrives with its own issue; until then no account is verified and this
answers None. Callers (appeals) must not assume either subject type: tests substitute it.
"""

from __future__ import annotations

from services.uow import Uow


async def verified_subject(uow: Uow, account_id: int) -> str | None:
    """ "person", "enterprise", or None when the account is not verified."""
    return None
