"""A copy of the user's data (issue 15 item 3): a protected operation (MFA-2) prepares a JSON document of
everything the service holds about the account, kept server-side for its owner until it expires.

At most one export per account (a new one replaces it), `EXPORT_TTL` long, at most `MAX_EXPORT_BYTES`.
Every section is one query (`SECTION_ROWS` rows at most), so an export costs a bounded number of
statements whatever the account holds. `assemble_sections` is the one place that lists the sections:
the security history (lc-history) is added there as one more entry of `SECTIONS`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models.accounts import Account
from models.lifecycle import DataExport
from services.errors import ServiceError
from services.history import service as history
from services.history.service import EventKind
from services.lifecycle import repository as repo
from services.lifecycle.errors import LifecycleErrorCode as Code
from services.mfa.service import require_step_up
from services.security import new_token
from services.uow import Uow
from services.verification.documents import mask_name
from services.viewer import Viewer

EXPORT_TTL = timedelta(hours=24)
MAX_EXPORT_BYTES = 2 * 1024 * 1024
SECTION_ROWS = 1000  # per section; `truncated` says when there were more
FORMAT_VERSION = 1

Section = Callable[[Uow, Account], Awaitable[Any]]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def profile(uow: Uow, account: Account) -> dict[str, Any]:
    return {
        "accountNumber": account.account_number,
        "kind": account.kind,
        "status": account.status,
        "contactName": account.contact_name,
        "companyName": account.company_name,
        "industry": account.industry,
        "address": account.address,
        "idleTimeoutMinutes": account.idle_timeout_minutes,
        "operationProtection": {"sms": account.op_protection_sms, "totp": account.op_protection_totp},
        "loginProtection": {"sms": account.login_protection_sms, "totp": account.login_protection_totp},
        "createdAt": _when(account.created_at),
        "activatedAt": _when(account.activated_at),
        "passwordChangedAt": _when(account.password_changed_at),
    }


async def login_names(uow: Uow, account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "usernameChangedAt": _when(account.username_changed_at),
        "phone": account.phone,
        "email": account.email,
    }


async def verification(uow: Uow, account: Account) -> dict[str, Any] | None:
    """Masked as the API shows it: never the full document number."""
    found = await repo.verification_of(uow, account.id)
    if found is None:
        return None
    return {
        "subjectType": found.subject_type,
        "method": found.method,
        "name": mask_name(found.name) if found.subject_type == "person" else found.name,
        "documentType": found.document_type,
        "document": found.document_masked,
        "organisationType": found.organisation_type,
        "verifiedAt": _when(found.verified_at),
    }


async def agreements(uow: Uow, account: Account) -> dict[str, Any]:
    rows, more = await repo.acceptances(uow, account.id, SECTION_ROWS)
    items = [
        {"agreement": r.agreement, "version": r.version, "context": r.context, "acceptedAt": _when(r.accepted_at)}
        for r in rows
    ]
    return {"items": items, "truncated": more}


async def sessions(uow: Uow, account: Account) -> dict[str, Any]:
    rows, more = await repo.sessions(uow, account.id, SECTION_ROWS)
    items = [
        {
            "method": s.method,
            "clientIp": s.client_ip,
            "userAgent": s.user_agent,
            "createdAt": _when(s.created_at),
            "lastSeenAt": _when(s.last_seen_at),
            "endedAt": _when(s.ended_at),
            "endReason": s.end_reason,
        }
        for s in rows
    ]
    return {"items": items, "truncated": more}


async def appeals(uow: Uow, account: Account) -> dict[str, Any]:
    rows, more = await repo.appeals(uow, account.id, SECTION_ROWS)
    items = [
        {
            "kind": a.kind,
            "status": a.state,
            "rejectReason": a.reject_reason,
            "rejectText": a.reject_text,
            "moreMaterialMessage": a.more_message,
            "filedAt": _when(a.created_at),
            "decidedAt": _when(a.decided_at),
        }
        for a in rows
    ]
    return {"items": items, "truncated": more}


async def subject_changes(uow: Uow, account: Account) -> dict[str, Any]:
    rows, more = await repo.subject_changes(uow, account.id, SECTION_ROWS)
    items = [
        {
            "kind": c.kind,
            "state": c.state,
            "reason": c.reason,
            "from": {"subjectType": c.from_subject_type, "name": c.from_name, "document": c.from_document_masked},
            "to": {"subjectType": c.to_subject_type, "name": c.to_name, "uscc": c.to_uscc},
        }
        for c in rows
    ]
    return {"items": items, "truncated": more}


async def balance_ledger(uow: Uow, account: Account) -> dict[str, Any]:
    rows, more = await repo.ledger(uow, account.id, SECTION_ROWS)
    items = [
        {
            "amountFen": e.amount_fen,
            "kind": e.kind,
            "payerName": e.payer_name,
            "note": e.note,
            "createdAt": _when(e.created_at),
        }
        for e in rows
    ]
    return {"items": items, "truncated": more}


async def security_history(uow: Uow, account: Account) -> dict[str, Any]:
    """The security history (newest first, at most SECTION_ROWS events): what the owner sees in
    `viewer.securityEvents`, with the client each event came from."""
    rows, _ = await history.events(uow, account.id, None, SECTION_ROWS + 1, None)
    items = [
        {
            "kind": e.kind,
            "occurredAt": _when(e.occurred_at),
            "clientAddress": e.client_ip,
            "userAgent": e.user_agent,
            "detail": e.detail,
        }
        for e in rows[:SECTION_ROWS]
    ]
    return {"items": items, "truncated": len(rows) > SECTION_ROWS}


# The export's sections, in order.
SECTIONS: list[tuple[str, Section]] = [
    ("profile", profile),
    ("loginNames", login_names),
    ("verification", verification),
    ("agreements", agreements),
    ("sessions", sessions),
    ("appeals", appeals),
    ("subjectChanges", subject_changes),
    ("balanceLedger", balance_ledger),
    ("securityHistory", security_history),
]


async def assemble_sections(uow: Uow, account: Account) -> dict[str, Any]:
    """Every section of the export, one query each at most."""
    return {name: await section(uow, account) for name, section in SECTIONS}


@dataclass(frozen=True, slots=True)
class PreparedExport:
    public_id: str
    expires_at: datetime
    size_bytes: int


async def prepare(uow: Uow, viewer: Viewer, step_up_token: str | None) -> PreparedExport:
    """MFA-2: protected. Replaces the account's previous export."""
    account = viewer.account
    await require_step_up(uow, account, viewer.session_id, step_up_token)
    now = uow.now()
    document = {"format": FORMAT_VERSION, "generatedAt": now.isoformat(), **await assemble_sections(uow, account)}
    content = json.dumps(document, ensure_ascii=False, indent=2)
    size = len(content.encode())
    if size > MAX_EXPORT_BYTES:
        raise ServiceError(Code.EXPORT_TOO_LARGE, "The copy of the account's data is too large to prepare here.")
    row = DataExport(
        account_id=account.id,
        public_id=new_token("exp"),
        content=content,
        size_bytes=size,
        created_at=now,
        expires_at=now + EXPORT_TTL,
    )
    await repo.replace_export(uow, row)
    await history.record(uow, account.id, EventKind.DATA_EXPORT_PREPARED, viewer.client)
    return PreparedExport(public_id=row.public_id, expires_at=row.expires_at, size_bytes=size)


async def download(uow: Uow, account_id: int, public_id: str) -> DataExport | None:
    """The account's own live export; None for an unknown, another account's or an expired one alike."""
    return await repo.live_export(uow, account_id, public_id, uow.now())


async def sweep(uow: Uow) -> dict[str, int]:
    return {"data_exports_deleted": await repo.delete_expired_exports(uow, uow.now())}
