"""The data export (issue 15 item 3) and the cancellation flow (CAN-1..5): input -> one service call -> payload;
and `GET /exports/{id}`, the export's download for its owner."""

from __future__ import annotations

from typing import Annotated

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from schema.context import Context
from schema.errors import rest_errors, user_errors
from schema.inputs.lifecycle import (
    AccountCancellationAcknowledgeInput,
    AccountCancellationConfirmInput,
    AccountCancellationPrecheckInput,
    AccountCancellationStartInput,
    AccountDataExportCreateInput,
)
from schema.types.common import INPUT, node_id
from schema.types.lifecycle import (
    CANCELLATION_TYPE,
    AccountCancellationPayload,
    AccountDataExportCreatePayload,
    CancellationType,
    DataExportType,
)
from services.auth import service as auth
from services.database import run_read
from services.errors import ServiceError
from services.lifecycle import cancellation as cancel
from services.lifecycle import export
from services.lifecycle.errors import LifecycleErrorCode
from services.security import bearer_token
from services.uow import Uow
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
NO_SESSION = LifecycleErrorCode.AUTHENTICATION_REQUIRED


def download_url(info: Info, public_id: str) -> str:
    return f"{info.context.deps.settings.base_url.rstrip('/')}/exports/{public_id}"


async def account_data_export_create(
    info: Info, input: Annotated[AccountDataExportCreateInput, INPUT]
) -> AccountDataExportCreatePayload:
    async def call(uow: Uow, viewer: Viewer) -> export.PreparedExport:
        return await export.prepare(uow, viewer, input.step_up_token)

    result = await info.context.write_viewer(NO_SESSION, call)
    if isinstance(result, ServiceError):
        return AccountDataExportCreatePayload(errors=user_errors(info, result))
    prepared = DataExportType(
        download_url=download_url(info, result.public_id), expires_at=result.expires_at, size_bytes=result.size_bytes
    )
    return AccountDataExportCreatePayload(export=prepared, errors=[])


def _payload(info: Info, result: cancel.Flow | ServiceError) -> AccountCancellationPayload:
    if isinstance(result, ServiceError):
        return AccountCancellationPayload(errors=user_errors(info, result))
    return AccountCancellationPayload(
        cancellation=CancellationType.of(result), confirmation=result.confirmation, errors=[]
    )


def _id(global_id: strawberry.ID) -> int | None:
    return node_id(str(global_id), CANCELLATION_TYPE)


async def account_cancellation_start(
    info: Info, input: Annotated[AccountCancellationStartInput, INPUT]
) -> AccountCancellationPayload:
    async def call(uow: Uow, viewer: Viewer) -> cancel.Flow:
        return await cancel.start(uow, viewer, input.agreement.version)

    return _payload(info, await info.context.write_viewer(NO_SESSION, call))


async def account_cancellation_precheck(
    info: Info, input: Annotated[AccountCancellationPrecheckInput, INPUT]
) -> AccountCancellationPayload:
    async def call(uow: Uow, viewer: Viewer) -> cancel.Flow:
        return await cancel.precheck(uow, viewer, _id(input.cancellation_id), input.step_up_token)

    return _payload(info, await info.context.write_viewer(NO_SESSION, call))


async def account_cancellation_acknowledge(
    info: Info, input: Annotated[AccountCancellationAcknowledgeInput, INPUT]
) -> AccountCancellationPayload:
    async def call(uow: Uow, viewer: Viewer) -> cancel.Flow:
        return await cancel.acknowledge(uow, viewer, _id(input.cancellation_id), input.forfeiture_acknowledged)

    return _payload(info, await info.context.write_viewer(NO_SESSION, call))


async def account_cancellation_confirm(
    info: Info, input: Annotated[AccountCancellationConfirmInput, INPUT]
) -> AccountCancellationPayload:
    async def call(uow: Uow, viewer: Viewer) -> cancel.Flow:
        return await cancel.confirm(uow, viewer, _id(input.cancellation_id), input.confirmation)

    return _payload(info, await info.context.write_viewer(NO_SESSION, call))


# --- GET /exports/{id} ------------------------------------------------------------------------------------


def _error(code: LifecycleErrorCode, message: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"errors": rest_errors(ServiceError(code, message, None))},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


async def export_download(request: Request) -> Response:
    """The owner's live export as a JSON attachment; an unknown, another account's or an expired one: 404 alike."""
    db, deps = request.app.state.db, request.app.state.deps
    viewer = await run_read(db, deps, auth.authenticate, bearer_token(request.headers.get("authorization")))
    if viewer is None:
        return _error(LifecycleErrorCode.AUTHENTICATION_REQUIRED, "Sign in first.", 401)
    found = await run_read(db, deps, export.download, viewer.account.id, request.path_params["id"])
    if found is None:
        return _error(LifecycleErrorCode.EXPORT_NOT_FOUND, "No such data export of this account.", 404)
    return Response(
        found.content.encode(),
        media_type="application/json",
        headers={
            "cache-control": "no-store",
            "content-disposition": 'attachment; filename="account-data.json"',
            "x-content-type-options": "nosniff",
        },
    )


routes = [Route("/exports/{id}", export_download, methods=["GET"])]
