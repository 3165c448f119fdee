"""Whether an account is verified as a person or as an enterprise (RN-1), for other services."""

from __future__ import annotations

from sqlalchemy import select

from models.verification import Verification
from services.uow import Uow


async def verified_subject(uow: Uow, account_id: int) -> str | None:
    """ "person", "enterprise", or None when the account is not verified."""
    return await uow.session.scalar(
        select(Verification.subject_type).where(
            Verification.account_id == account_id, Verification.status == "verified"
        )
    )
