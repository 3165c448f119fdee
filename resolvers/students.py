"""Student-status mutations: input -> one service call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Context
from schema.errors import user_errors
from schema.inputs.students import StudentStatusApplyInput, StudentStatusConfirmInput
from schema.types.account import AccountType
from schema.types.common import INPUT
from schema.types.payloads import StudentStatusPayload
from schema.types.students import StudentStatusType
from services.accounts.agreements import Acceptance
from services.errors import ServiceError
from services.students import service as students
from services.students.errors import StudentErrorCode
from services.students.service import Application, StudentStatusView
from services.uow import Uow
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
NO_SESSION = StudentErrorCode.AUTHENTICATION_REQUIRED


def _payload(info: Info, result: tuple[StudentStatusView, Viewer] | ServiceError) -> StudentStatusPayload:
    if isinstance(result, ServiceError):
        return StudentStatusPayload(errors=user_errors(info, result))
    found, viewer = result
    return StudentStatusPayload(
        student_status=StudentStatusType.from_view(found), account=AccountType.of(viewer.account), errors=[]
    )


async def _apply(
    uow: Uow, viewer: Viewer, application: Application, ip: str | None
) -> tuple[StudentStatusView, Viewer]:
    return await students.apply(uow, viewer, application, ip), viewer


async def _confirm(
    uow: Uow, viewer: Viewer, code: str, agreements: list[Acceptance]
) -> tuple[StudentStatusView, Viewer]:
    return await students.confirm(uow, viewer, code, agreements), viewer


async def student_status_apply(info: Info, input: Annotated[StudentStatusApplyInput, INPUT]) -> StudentStatusPayload:
    ctx = info.context
    return _payload(info, await ctx.write_viewer(NO_SESSION, _apply, input.to_application(), ctx.client.ip))


async def student_status_confirm(
    info: Info, input: Annotated[StudentStatusConfirmInput, INPUT]
) -> StudentStatusPayload:
    agreements = [a.to_acceptance() for a in input.agreements]
    return _payload(info, await info.context.write_viewer(NO_SESSION, _confirm, input.code, agreements))
