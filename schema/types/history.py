"""The viewer's security history (HIST-1): events newest first, filtered by kind."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from models.history import SecurityEvent
from schema.types.common import PageInfo
from services.history.service import EventKind


@strawberry.enum(description="What a security event records (HIST-1).")
class SecurityEventKind(Enum):
    SIGNED_IN = strawberry.enum_value(
        "signed_in", description="A session was issued; `detail` is the method (password, sms or qr)."
    )
    SIGN_IN_FAILED = strawberry.enum_value(
        "sign_in_failed", description="A wrong password was given for this account's login name (AUTH-5)."
    )
    SIGN_IN_LOCKED = strawberry.enum_value(
        "sign_in_locked", description="A sign-in try was refused or locked out by the wrong-password limits (AUTH-5)."
    )
    SIGN_IN_CHALLENGED = strawberry.enum_value(
        "sign_in_challenged",
        description="The right password (or SMS code) was given and login protection asked for a second "
        "factor (AUTH-6); `detail` is the first factor.",
    )
    SIGNED_OUT = strawberry.enum_value("signed_out", description="The owner signed out a session.")
    SESSION_REVOKED = strawberry.enum_value("session_revoked", description="The owner ended another of its sessions.")
    PASSWORD_CHANGED = strawberry.enum_value(
        "password_changed",
        description="The password was changed (`detail`: changed) or reset through recovery (reset).",
    )
    PHONE_CHANGED = strawberry.enum_value("phone_changed", description="The bound phone was changed.")
    EMAIL_CHANGED = strawberry.enum_value(
        "email_changed", description="The e-mail address was bound, changed or unbound (`detail`)."
    )
    MFA_BOUND = strawberry.enum_value("mfa_bound", description="A virtual MFA device was bound.")
    MFA_UNBOUND = strawberry.enum_value(
        "mfa_unbound",
        description="The virtual MFA device was unbound (`detail`: by the owner, or by an approved appeal).",
    )
    PROTECTION_CHANGED = strawberry.enum_value(
        "protection_changed", description="Login or operation protection was changed (`detail`: login or operation)."
    )
    RECOVERY_CODE_USED = strawberry.enum_value("recovery_code_used", description="An MFA recovery code was used.")
    RECOVERY_CODES_REGENERATED = strawberry.enum_value(
        "recovery_codes_regenerated",
        description="A new set of MFA recovery codes was made; the old ones no longer work.",
    )
    VERIFICATION_PASSED = strawberry.enum_value(
        "verification_passed", description="A real-name verification passed (`detail`: personal or enterprise)."
    )
    VERIFICATION_FAILED = strawberry.enum_value(
        "verification_failed",
        description="A real-name verification failed or was rejected (`detail`: personal or enterprise).",
    )
    SUBJECT_CHANGE_COMPLETED = strawberry.enum_value(
        "subject_change_completed", description="A change of the verified subject completed."
    )
    SUBJECT_CHANGE_WITHDRAWN = strawberry.enum_value(
        "subject_change_withdrawn", description="A change of the verified subject was withdrawn."
    )
    SUBJECT_CHANGE_REJECTED = strawberry.enum_value(
        "subject_change_rejected", description="A change of the verified subject was rejected in review."
    )
    SUBJECT_CHANGE_LAPSED = strawberry.enum_value(
        "subject_change_lapsed", description="A change of the verified subject lapsed (its deadline passed)."
    )
    APPEAL_FILED = strawberry.enum_value("appeal_filed", description="An appeal was filed (`detail`: its kind).")
    APPEAL_DECIDED = strawberry.enum_value(
        "appeal_decided", description="An appeal was decided (`detail`: approved or rejected)."
    )
    DATA_EXPORT_PREPARED = strawberry.enum_value(
        "data_export_prepared",
        description="A copy of the account's data was prepared for download (`accountDataExportCreate`).",
    )


assert {str(k.value) for k in SecurityEventKind} == {k.value for k in EventKind}, "every event kind is in the API"


@strawberry.type(name="SecurityEvent", description="One event of the viewer's security history (HIST-1).")
class SecurityEventType:
    kind: SecurityEventKind = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    client_address: str | None = strawberry.field(
        description="The client's address as recorded; null when no client was involved (a reviewer's decision, "
        "a deadline passing)."
    )
    user_agent: str | None = strawberry.field(description="The client's User-Agent (its first 256 characters).")
    detail: str | None = strawberry.field(
        description="A short, fixed word about the event (a sign-in method, an outcome); never a value the user "
        "entered."
    )

    @classmethod
    def from_model(cls, row: SecurityEvent) -> Self:
        return cls(
            kind=SecurityEventKind(row.kind),
            occurred_at=row.occurred_at,
            client_address=row.client_ip,
            user_agent=row.user_agent,
            detail=row.detail,
        )


@strawberry.type(description="An edge of `SecurityEventConnection`.")
class SecurityEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this event.")
    node: SecurityEventType = strawberry.field(description="The event.")


@strawberry.type(description="The viewer's security events, newest first.")
class SecurityEventConnection:
    edges: list[SecurityEventEdge] = strawberry.field(description="This page of events.")
    page_info: PageInfo = strawberry.field(description="Whether more events follow.")
    total_count: int = strawberry.field(description="All events that match the filter, not only this page.")
