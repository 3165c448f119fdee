"""The account, its sessions and security settings as the signed-in owner sees them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from models.accounts import Account as AccountModel
from models.accounts import AgreementAcceptance as AcceptanceModel
from models.auth import AuthSession
from schema.context import Context
from schema.enums import (
    AcceptanceContext,
    AccountKind,
    AgreementKind,
    AgreementStep,
    ProtectionFactor,
    SignInMethod,
)
from schema.types.common import PageInfo, check_first, decode_cursor, encode_cursor, resolve_owned_nodes
from schema.types.enterprise import (
    EnterpriseVerification,
    EnterpriseVerificationConnection,
    EnterpriseVerificationEdge,
)
from schema.types.history import (
    SecurityEventConnection,
    SecurityEventEdge,
    SecurityEventKind,
    SecurityEventType,
)
from schema.types.students import StudentStatusType
from schema.types.verification import (
    EntitlementSet,
    SubjectType,
    Verification,
    VerificationAttemptConnection,
    VerificationAttemptEdge,
    VerificationAttemptType,
    VerificationMethodStatus,
    verification_of,
)
from services.accounts import repository as accounts_repo
from services.accounts.agreements import CURRENT
from services.accounts.service import username_changeable_at
from services.auth import service as auth
from services.entitlements import service as entitlements
from services.history import service as history
from services.history.service import EventKind
from services.identifiers import mask_phone, national
from services.mfa import devices as mfa_devices
from services.mfa.service import operation_protection_factors
from services.providers.bank import format_cny
from services.students import service as students
from services.verification import personal
from services.verification import repository as verification_repo
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import method_statuses as enterprise_method_statuses
from services.viewer import Viewer

Info = strawberry.Info[Context, None]

if TYPE_CHECKING:
    from schema.types.appeals import AppealConnection
    from schema.types.changes import SubjectChangeConnection


@strawberry.type(description="An agreement in force, with the version a client must send when accepting it.")
class Agreement:
    kind: AgreementKind = strawberry.field(description="Which agreement.")
    version: str = strawberry.field(description="The version to accept; older versions are refused.")
    title: str = strawberry.field(description="Its title, in Chinese and English.")
    step: AgreementStep = strawberry.field(description="The step in which it is accepted.")


def current_agreements(step: AgreementStep | None = None) -> list[Agreement]:
    return [
        Agreement(kind=a.kind, version=a.version, title=a.title, step=a.step)
        for a in CURRENT.values()
        if step is None or a.step is step
    ]


@strawberry.type(description="A recorded acceptance of an agreement (REG-5, REG-6, RN-6, STU-3).")
class AgreementAcceptance:
    kind: AgreementKind = strawberry.field(description="Which agreement.")
    version: str = strawberry.field(description="The version accepted.")
    context: AcceptanceContext = strawberry.field(description="Where it was accepted.")
    accepted_at: datetime = strawberry.field(description="When it was accepted.")

    @classmethod
    def from_model(cls, row: AcceptanceModel) -> Self:
        return cls(
            kind=AgreementKind(row.agreement),
            version=row.version,
            context=AcceptanceContext(row.context),
            accepted_at=row.accepted_at,
        )


@strawberry.type(description="A protection and the second factors that satisfy it (MFA-1, MFA-2).")
class Protection:
    enabled: bool = strawberry.field(description="Whether a second factor is asked.")
    factors: list[ProtectionFactor] = strawberry.field(
        description="The factors it is on with; either passes (MFA-1). Empty when it is off."
    )


@strawberry.type(description="Second-factor settings.")
class SecuritySettings:
    operation_protection: Protection = strawberry.field(
        description="Asked before sensitive operations: password, phone or e-mail changes, unbinding the MFA device, "
        "changing protections, regenerating recovery codes (MFA-2). On with SMS for new accounts (MFA-3)."
    )
    login_protection: Protection = strawberry.field(description="Asked after the password (AUTH-6).")
    mfa_device_bound_at: datetime | None = strawberry.field(
        description="When the virtual MFA device was bound (MFA-4); null without one."
    )
    recovery_codes_left: int = strawberry.field(description="Unused recovery codes (10 after binding).")


@strawberry.type(name="Session", description="A signed-in session of the viewer (AUTH-3, AUTH-4).")
class SessionType(relay.Node):
    id: relay.NodeID[int]
    current: bool = strawberry.field(description="This is the session making the request.")
    method: SignInMethod = strawberry.field(description="How the session was created.")
    client_ip: str | None = strawberry.field(description="The client address at sign-in.")
    user_agent: str | None = strawberry.field(description="The client's User-Agent at sign-in.")
    created_at: datetime = strawberry.field(description="When the session was created.")
    last_seen_at: datetime = strawberry.field(description="Last activity, recorded to the minute.")
    expires_at: datetime = strawberry.field(
        description="When the session ends without further activity: last activity + the idle timeout (AUTH-3), "
        "or sign-in + the maximum session age (24 hours by default) if that comes first; activity never moves "
        "the second."
    )

    @classmethod
    def from_model(cls, row: AuthSession, current_id: int | None, expires_at: datetime) -> Self:
        return cls(
            id=row.id,
            current=row.id == current_id,
            method=SignInMethod(row.method),
            client_ip=row.client_ip,
            user_agent=row.user_agent,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=expires_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        settings = context.deps.settings
        return [
            cls.from_model(s, viewer.session_id, auth.session_expires_at(s, viewer.account, settings))
            for s in await context.read(auth.sessions_by_ids, viewer.account, ids)
        ]


@strawberry.type(description="An edge of `SessionConnection`.")
class SessionEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this session.")
    node: SessionType = strawberry.field(description="The session.")


@strawberry.type(description="The viewer's live sessions, newest first.")
class SessionConnection:
    edges: list[SessionEdge] = strawberry.field(description="This page of sessions.")
    page_info: PageInfo = strawberry.field(description="Whether more sessions follow.")
    total_count: int = strawberry.field(description="All live sessions, not only this page.")


@strawberry.type(name="Account", description="The signed-in account (REG-1). Only ever the viewer's own.")
class AccountType(relay.Node):
    id: relay.NodeID[int]
    model: strawberry.Private[AccountModel]

    @classmethod
    def of(cls, model: AccountModel) -> Self:
        return cls(id=model.id, model=model)

    @strawberry.field(description="Cloud or portal account (REG-1).")
    def kind(self) -> AccountKind:
        return AccountKind(self.model.kind)

    @strawberry.field(
        description="The unique numeric account ID (16 digits, as a string), visible to the owner at any time "
        "(PROF-4). A cloud account has it from registration; a portal account from activation (REG-6), "
        "null before."
    )
    def account_id(self) -> str | None:
        return None if self.model.account_number is None else str(self.model.account_number)

    @strawberry.field(
        description="True for a portal account that has not accepted the three agreements yet: show the "
        "activation step (`accountActivate`) before the console (REG-6)."
    )
    def activation_required(self) -> bool:
        return self.model.kind == "portal" and self.model.account_number is None

    @strawberry.field(
        description="The username. A cloud account's username can never be changed (PROF-4); a portal account "
        "chooses its first one at any time and changes it at most once a year (PROF-5)."
    )
    def username(self) -> str | None:
        return self.model.username

    @strawberry.field(
        description="For a portal account: when its username may next be changed (a year after the last change, "
        "PROF-5); null when it may be now (no username yet, or no change in the past year), and for a cloud "
        "account, whose username never changes (PROF-4)."
    )
    def username_changeable_at(self, info: Info) -> datetime | None:
        return username_changeable_at(self.model, info.context.deps.clock.now())

    @strawberry.field(
        description="True for a portal account that its bound phone holds: SMS sign-in with that phone (and the "
        "phone as a login name) reaches it. A phone holds one portal account and is bound to at most 5 (REG-4); "
        "the others, false here, sign in with their username or e-mail. False for cloud accounts."
    )
    def holds_phone(self) -> bool:
        return self.model.kind == "portal" and self.model.phone_holder

    @strawberry.field(description="The bound phone in E.164 (`+8613800000000`), used for codes (PROF-2).")
    def phone(self) -> str:
        return self.model.phone

    @strawberry.field(description="The bound phone masked as `138****0000`.")
    def phone_masked(self) -> str:
        return mask_phone(self.model.phone)

    @strawberry.field(description="The bound phone in national form (`13800000000`).")
    def phone_national(self) -> str:
        return national(self.model.phone)

    @strawberry.field(description="The bound e-mail address (PROF-3), if any.")
    def email(self) -> str | None:
        return self.model.email

    @strawberry.field(description="Contact name (PROF-1).")
    def contact_name(self) -> str | None:
        return self.model.contact_name

    @strawberry.field(description="Company name (PROF-1).")
    def company_name(self) -> str | None:
        return self.model.company_name

    @strawberry.field(description="Industry (PROF-1).")
    def industry(self) -> str | None:
        return self.model.industry

    @strawberry.field(description="Postal address (PROF-1).")
    def address(self) -> str | None:
        return self.model.address

    @strawberry.field(description="Whether a password is set (portal accounts created by SMS have none).")
    def has_password(self) -> bool:
        return self.model.password_hash is not None

    @strawberry.field(description="When the account was created.")
    def created_at(self) -> datetime:
        return self.model.created_at

    @strawberry.field(description="When the account was activated (REG-6).")
    def activated_at(self) -> datetime | None:
        return self.model.activated_at

    @strawberry.field(
        description="Minutes without activity after which a session ends (AUTH-3): default 60, "
        "settable from 15 to 1439 with `accountIdleTimeoutSet`. A session also ends at its maximum age (24 hours "
        "after sign-in by default), however active."
    )
    def idle_timeout_minutes(self) -> int:
        return self.model.idle_timeout_minutes

    @strawberry.field(description="Second-factor settings (MFA-2, MFA-3).")
    async def security(self, info: Info) -> SecuritySettings:
        device = await info.context.read(mfa_devices.bound_device, self.model.id)
        left = await info.context.read(mfa_devices.recovery_codes_left, self.model.id) if device else 0
        op = [ProtectionFactor(f) for f in operation_protection_factors(self.model)]
        login = [
            ProtectionFactor(f)
            for f, on in (("sms", self.model.login_protection_sms), ("totp", self.model.login_protection_totp))
            if on
        ]
        return SecuritySettings(
            operation_protection=Protection(enabled=bool(op), factors=op),
            login_protection=Protection(enabled=bool(login), factors=login),
            mfa_device_bound_at=device.bound_at if device else None,
            recovery_codes_left=left,
        )

    @strawberry.field(description="The agreements this account accepted, with versions and times (REG-5).")
    async def agreement_acceptances(self, info: Info) -> list[AgreementAcceptance]:
        rows = await info.context.read(accounts_repo.acceptances, self.model.id)
        return [AgreementAcceptance.from_model(r) for r in rows]

    @strawberry.field(description="The viewer's live sessions, newest first (at most 100 per page).")
    async def sessions(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="The `endCursor` of the previous page.")] = None,
    ) -> SessionConnection:
        check_first(first)
        after_id = decode_cursor("Session", after)
        viewer = await info.context.auth()
        current = viewer.session_id if viewer else None
        rows, counted = await info.context.read(auth.list_sessions, self.model, first + 1, after_id)
        page = rows[:first]
        edges = [
            SessionEdge(
                cursor=encode_cursor("Session", r.id),
                node=SessionType.from_model(
                    r, current, auth.session_expires_at(r, self.model, info.context.deps.settings)
                ),
            )
            for r in page
        ]
        return SessionConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=len(rows) > first, counted=counted),
            total_count=counted.total,
        )

    @strawberry.field(
        description="The viewer's security history (HIST-1), newest first (at most 100 per page): sign-ins, "
        "sign-outs, changes of password, phone, e-mail, MFA and protections, verification, change and appeal "
        "outcomes."
    )
    async def security_events(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="The `endCursor` of the previous page.")] = None,
        kinds: Annotated[
            list[SecurityEventKind] | None,
            strawberry.argument(description="Only events of these kinds; all kinds when omitted or null."),
        ] = None,
    ) -> SecurityEventConnection:
        check_first(first)
        after_id = decode_cursor("SecurityEvent", after)
        wanted = None if kinds is None else [EventKind(str(k.value)) for k in kinds]
        rows, counted = await info.context.read(history.events, self.model.id, wanted, first + 1, after_id)
        edges = [
            SecurityEventEdge(cursor=encode_cursor("SecurityEvent", r.id), node=SecurityEventType.from_model(r))
            for r in rows[:first]
        ]
        return SecurityEventConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=len(rows) > first, counted=counted),
            total_count=counted.total,
        )

    @strawberry.field(description="The viewer's appeals, newest first (at most 100 per page).")
    async def appeals(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="The `endCursor` of the previous page.")] = None,
    ) -> Annotated[AppealConnection, strawberry.lazy("schema.types.appeals")]:
        from schema.types.appeals import AppealConnection, AppealEdge, AppealType
        from services.appeals import repository as appeals_repo

        check_first(first)
        rows, counted = await info.context.read(
            appeals_repo.page_for, self.model.id, first + 1, decode_cursor("Appeal", after)
        )
        edges = [
            AppealEdge(cursor=encode_cursor("Appeal", a.id), node=AppealType.from_model(a, i)) for a, i in rows[:first]
        ]
        return AppealConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=len(rows) > first, counted=counted),
            total_count=counted.total,
        )

    @strawberry.field(
        description="The account's subject changes (CHG-7), newest first: each with its steps, deadline, attempts left "
        "and outcome (at most 100 per page)."
    )
    async def subject_changes(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="The `endCursor` of the previous page.")] = None,
    ) -> Annotated[SubjectChangeConnection, strawberry.lazy("schema.types.changes")]:
        from schema.types.changes import SubjectChangeConnection, SubjectChangeEdge, SubjectChangeType
        from services.verification.changes import service as changes

        check_first(first)
        rows, counted, attempts = await info.context.read(
            changes.page_for, self.model.id, first + 1, decode_cursor("SubjectChange", after)
        )
        now = info.context.deps.clock.now()
        edges = [
            SubjectChangeEdge(
                cursor=encode_cursor("SubjectChange", c.id), node=SubjectChangeType.from_model(c, i, attempts, now)
            )
            for c, i in rows[:first]
        ]
        return SubjectChangeConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=len(rows) > first, counted=counted),
            total_count=counted.total,
        )

    @strawberry.field(
        description="The account's verified subject (RN-1), or null while unverified: then cloud services, "
        "invoices and online contracts are closed (RN-2); see `entitlements`."
    )
    async def verification(self, info: Info) -> Verification | None:
        row = await info.context.read(verification_repo.verification_of, self.model.id)
        if row is None or row.subject_type == "person" or row.attempt_id is None:
            return verification_of(row)
        found = await info.context.read(enterprise_repo.application_of_attempt, row.attempt_id)
        if found is None:
            return None
        return EnterpriseVerification.from_model(
            *found, info.context.deps.clock.now(), verified_at=row.verified_at, organisation_name=row.name
        )

    @strawberry.field(
        description="The account's enterprise verifications (RNE-1), newest first, each with its method-specific "
        "state: amount deadline, wrong entries left, remittance instructions, review status and due time."
    )
    async def enterprise_verifications(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="The `endCursor` of the previous page.")] = None,
    ) -> EnterpriseVerificationConnection:
        check_first(first)
        rows, counted = await info.context.read(
            enterprise_repo.applications_page, self.model.id, first + 1, decode_cursor("EnterpriseVerification", after)
        )
        now = info.context.deps.clock.now()
        edges = [
            EnterpriseVerificationEdge(
                cursor=encode_cursor("EnterpriseVerification", a.id),
                node=EnterpriseVerification.from_model(a, i, r, now),
            )
            for a, i, r in rows[:first]
        ]
        return EnterpriseVerificationConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=len(rows) > first, counted=counted),
            total_count=counted.total,
        )

    @strawberry.field(description="The account's cash balance in CNY (two decimals), e.g. from recharges (RNE-8).")
    async def balance(self, info: Info) -> str:
        return format_cny(await info.context.read(enterprise_repo.balance_fen, self.model.id))

    @strawberry.field(description="Every verification attempt with method, outcome and reason, newest first (RN-7).")
    async def verification_attempts(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 0 to 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="The `endCursor` of the previous page.")] = None,
    ) -> VerificationAttemptConnection:
        check_first(first)
        after_id = decode_cursor("VerificationAttempt", after)
        rows, counted = await info.context.read(verification_repo.attempts_page, self.model.id, first + 1, after_id)
        now = info.context.deps.clock.now()
        edges = [
            VerificationAttemptEdge(
                cursor=encode_cursor("VerificationAttempt", r.id), node=VerificationAttemptType.from_model(r, now)
            )
            for r in rows[:first]
        ]
        return VerificationAttemptConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=len(rows) > first, counted=counted),
            total_count=counted.total,
        )

    @strawberry.field(
        description="The verification methods with availability and attempts left (RNP-1, RNP-5, RNE-1, RNE-2, "
        "RNE-4): show "
        "these instead of computing limits."
    )
    async def verification_methods(
        self,
        info: Info,
        subject_type: Annotated[
            SubjectType, strawberry.argument(description="Personal (RNP-1) or enterprise (RNE-1) methods.")
        ] = SubjectType.PERSON,
    ) -> list[VerificationMethodStatus]:
        of = enterprise_method_statuses if subject_type is SubjectType.ENTERPRISE else personal.method_statuses
        statuses = await info.context.read(of, self.model.id)
        return [VerificationMethodStatus.of(s) for s in statuses]

    @strawberry.field(description="What the account may do given its verification (RN-2, ENT-1, ENT-2, ENT-3).")
    async def entitlements(self, info: Info) -> EntitlementSet:
        return EntitlementSet.of(await info.context.read(entitlements.of_account, self.model.id))

    @strawberry.field(
        description="The latest student-status application or verification (STU-3): PENDING_EMAIL, VERIFIED until "
        "the end of the graduation month (Asia/Shanghai), then EXPIRED. Null if the account never applied."
    )
    async def student_status(self, info: Info) -> StudentStatusType | None:
        found = await info.context.read(students.current, self.model.id)
        return None if found is None else StudentStatusType.from_view(found)

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        return [cls.of(viewer.account)] if viewer.account.id in ids else []
