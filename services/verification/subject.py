"""Whether an account is verified as a person or as an enterprise (RN-1), for other services."""

from __future__ import annotations

from services.uow import Uow
from services.verification import repository as repo


async def verified_subject_and_type(uow: Uow, account_id: int) -> tuple[str | None, str | None]:
    """The subject type and, for an organisation, its ORG-1 type (ENT-2 depends on it)."""
    return await repo.verified_subject_and_type(uow, account_id)


async def verified_subject(uow: Uow, account_id: int) -> str | None:
    """ "person", "enterprise", or None when the account is not verified."""
    return (await repo.verified_subject_and_type(uow, account_id))[0]
