"""Whether an account is verified as a person or as an enterprise (RN-1), for other services."""

from __future__ import annotations

from sqlalchemy import select

from models.verification import Verification
from services.uow import Uow


async def verified_subject_and_type(uow: Uow, account_id: int) -> tuple[str | None, str | None]:
    """The subject type and, for an organisation, its ORG-1 type (ENT-2 depends on it)."""
    row = (
        await uow.session.execute(
            select(Verification.subject_type, Verification.organisation_type).where(
                Verification.account_id == account_id, Verification.status == "verified"
            )
        )
    ).first()
    return (None, None) if row is None else (row[0], row[1])


async def verified_subject(uow: Uow, account_id: int) -> str | None:
    """ "person", "enterprise", or None when the account is not verified."""
    return await uow.session.scalar(
        select(Verification.subject_type).where(
            Verification.account_id == account_id, Verification.status == "verified"
        )
    )
