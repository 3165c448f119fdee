"""APL-2: the appeal token of a filer without a session (random, stored hashed, shown once).

Issued as a draft (`start_phone_rebind`, it lives `DRAFT_TTL`: time to upload the materials with it and
file them) or with an appeal filed with a login challenge. Once it follows a filed appeal, it reads that
appeal and answers requests for material until `TOKEN_AFTER_DECISION` after the decision, then it is
void. A draft never filed is swept a day after it expired, with what was uploaded with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.appeals import AppealToken
from services.appeals import repository as repo
from services.appeals.errors import AppealErrorCode
from services.clock import as_utc
from services.errors import ServiceError
from services.security import new_token, token_hash
from services.uow import Uow

TOKEN_PREFIX = "apt"
DRAFT_TTL = timedelta(hours=24)  # APL-2: a signed-out filer's time to gather and upload the materials
TOKEN_AFTER_DECISION = timedelta(days=30)  # the token reads the decision this long, then it is void


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An appeal token as shown once: the secret and its deadline (None: it lives until
    `TOKEN_AFTER_DECISION` after the appeal's decision)."""

    token: str
    expires_at: datetime | None


async def issue(
    uow: Uow, account_id: int, *, appeal_id: int | None = None, new_phone: str | None = None
) -> IssuedToken:
    """A new token: a draft naming the new phone (no `appeal_id`), or one following a filed appeal."""
    token, now = new_token(TOKEN_PREFIX), uow.now()
    expires = now + DRAFT_TTL
    await repo.add_token(
        uow,
        AppealToken(
            token_hash=token_hash(token),
            account_id=account_id,
            new_phone=new_phone,
            appeal_id=appeal_id,
            uploads=0,
            created_at=now,
            expires_at=expires,
        ),
    )
    return IssuedToken(token, expires if appeal_id is None else None)


def invalid(field: str = "appealToken") -> ServiceError:
    return ServiceError(
        AppealErrorCode.APPEAL_TOKEN_INVALID,
        "The appeal token is unknown, expired or already used for this step; start the appeal again.",
        field,
    )


async def live(uow: Uow, token: str) -> AppealToken | None:
    """The appeal token, if live: a draft until `expires_at`; a filed appeal's until `TOKEN_AFTER_DECISION`
    after its decision."""
    if not (token or "").startswith(f"{TOKEN_PREFIX}_"):
        return None
    row = await repo.token_by_hash(uow, token_hash(token))
    if row is None:
        return None
    now = uow.now()
    if row.appeal_id is None:
        return row if as_utc(row.expires_at) > as_utc(now) else None
    decided_at = await repo.decided_at(uow, row.appeal_id)
    if decided_at is not None and as_utc(decided_at) + TOKEN_AFTER_DECISION <= as_utc(now):
        return None
    return row


async def uploader(uow: Uow, token: str | None) -> tuple[int, int] | None:
    """(account ID, token ID) an upload with this appeal token belongs to, or None (ORG-2 caps it per token,
    `services.documents.service.reserve_upload`)."""
    row = await live(uow, token or "")
    return None if row is None else (row.account_id, row.id)


async def sweep(uow: Uow) -> dict[str, int]:
    """APL-2: a draft never filed goes a day after it expired, with the documents uploaded with it (rows and
    bytes). A filed appeal's token stays: its documents are the appeal's material."""
    drafts, documents = await repo.delete_stale_drafts(uow, uow.now() - timedelta(days=1))
    return {"appeal_drafts_deleted": drafts, "appeal_draft_documents_deleted": documents}
