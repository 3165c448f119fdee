"""Subject-change mutations: input -> one service call -> payload (CHG-1..7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry

from models.changes import SubjectChange
from schema.context import Context
from schema.errors import user_errors
from schema.inputs.changes import SubjectChangeAcceptInput, SubjectChangeStartInput, SubjectChangeWithdrawInput
from schema.types.account import AccountType
from schema.types.changes import SubjectChangeType
from schema.types.common import INPUT, node_id
from schema.types.payloads import PersonalFaceCheckStart, SubjectChangePayload
from schema.types.verification import FaceCheck, VerificationAttemptType
from services.errors import ServiceError
from services.uow import Uow
from services.verification.changes import service as changes
from services.verification.changes.errors import ChangeErrorCode
from services.verification.changes.face import ChangeFaceStarted
from services.verification.changes.states import Kind
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
NO_SESSION = ChangeErrorCode.AUTHENTICATION_REQUIRED
P = TypeVar("P")


def change_id(global_id: str) -> int:
    """Malformed answers the same CHANGE_NOT_FOUND as an unknown change."""
    return node_id(global_id, "SubjectChange") or -1


async def payload(info: Info, result: SubjectChange | ServiceError) -> SubjectChangePayload:
    """The change as its owner now reads it (with its review item and attempts), and the account."""
    if isinstance(result, ServiceError):
        return SubjectChangePayload(errors=user_errors(info, result))
    ctx = info.context
    rows, counted = await ctx.read(changes.of_account, result.account_id, [result.id])
    account = await ctx.auth()
    change, item = rows[0]
    return SubjectChangePayload(
        subject_change=SubjectChangeType.from_model(change, item, counted, ctx.deps.clock.now()),
        account=None if account is None else AccountType.of(account.account),
        errors=[],
    )


async def subject_change_start(info: Info, input: Annotated[SubjectChangeStartInput, INPUT]) -> SubjectChangePayload:
    kind, version, token = Kind(str(input.kind.value)), input.application_agreement.version, input.step_up_token

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await changes.start(uow, viewer, kind, version, token)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))


async def subject_change_withdraw(
    info: Info, input: Annotated[SubjectChangeWithdrawInput, INPUT]
) -> SubjectChangePayload:
    wanted = change_id(input.change_id)

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await changes.withdraw(uow, viewer.account.id, wanted, viewer.client)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))


async def subject_change_accept(info: Info, input: Annotated[SubjectChangeAcceptInput, INPUT]) -> SubjectChangePayload:
    wanted, version = change_id(input.change_id), input.acceptance_agreement.version

    async def call(uow: Uow, viewer: Viewer) -> SubjectChange:
        return await changes.accept_acceptance(uow, viewer.account.id, wanted, version)

    return await payload(info, await info.context.write_viewer(NO_SESSION, call))


async def face_check_started(
    info: Info,
    make: Callable[..., P],
    start: Callable[[Any, int, int], Awaitable[ChangeFaceStarted | ServiceError]],
    global_id: str,
) -> P:
    """A face check a change runs (CHG-3's contact, CHG-4/5's identity proof): the payload `make` builds
    with the change as its owner reads it, the started check and the account."""
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return make(errors=user_errors(info, ServiceError(NO_SESSION, "Sign in first.", None)))
    result = await start(ctx, viewer.account.id, change_id(global_id))
    if isinstance(result, ServiceError):
        return make(errors=user_errors(info, result))
    now = ctx.deps.clock.now()
    rows, counted = await ctx.read(changes.of_account, viewer.account.id, [result.change.id])
    change, item = rows[0]
    return make(
        subject_change=SubjectChangeType.from_model(change, item, counted, now),
        face_check_start=PersonalFaceCheckStart(
            attempt=VerificationAttemptType.from_model(result.attempt, now),
            face_check=FaceCheck.of(result.url, result.expires_at),
        ),
        account=AccountType.of(viewer.account),
        errors=[],
    )
