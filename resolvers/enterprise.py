"""Enterprise verification mutations and reference queries: input -> one service call -> payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from models.enterprise import EnterpriseApplication
from resolvers.verification import signed_out
from schema.context import Context
from schema.errors import user_errors
from schema.inputs.enterprise import (
    EnterpriseVerificationAmountConfirmInput,
    EnterpriseVerificationBankTransferStartInput,
    EnterpriseVerificationLegalRepFaceStartInput,
    EnterpriseVerificationMaterialAnswerInput,
    EnterpriseVerificationRechargeStartInput,
)
from schema.types.common import INPUT, node_id
from schema.types.enterprise import EnterpriseVerification, OrganisationTypeInfo, organisation_types
from schema.types.payloads import EnterpriseVerificationPayload, EnterpriseVerificationStartPayload
from schema.types.verification import FaceCheck
from services.errors import ServiceError
from services.uow import Uow
from services.verification import enterprise
from services.verification.errors import VerificationErrorCode
from services.viewer import Viewer

Info = strawberry.Info[Context, None]


def _node(result: enterprise.Started, ctx: Context) -> EnterpriseVerification:
    return EnterpriseVerification.from_model(result.application, None, None, ctx.deps.clock.now())


async def _view(ctx: Context, application_id: int) -> EnterpriseVerification | None:
    viewer = await ctx.auth()
    if viewer is None:
        return None
    rows, _ = await ctx.read(enterprise.applications_page, viewer.account.id, 100, None)
    now = ctx.deps.clock.now()
    return next((EnterpriseVerification.from_model(a, i, r, now) for a, i, r in rows if a.id == application_id), None)


def _id(global_id: str) -> int:
    """Malformed answers the same NOT_FOUND as an unknown verification."""
    return node_id(global_id, "EnterpriseVerification") or -1


async def enterprise_verification_legal_rep_face_start(
    info: Info, input: Annotated[EnterpriseVerificationLegalRepFaceStartInput, INPUT]
) -> EnterpriseVerificationStartPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return EnterpriseVerificationStartPayload(errors=signed_out(info))
    result = await enterprise.start_legal_rep_face(
        ctx,
        viewer.account.id,
        enterprise.LegalRepFaceInput(
            organisation=input.organisation.to_service(),
            legal_rep_id_number=input.legal_representative_id_number,
            face_by=input.face_by,
            employee_name=input.employee_name,
            employee_id_number=input.employee_id_number,
            authorisation_upload_id=input.authorisation_letter_upload_id,
            agreement=input.agreement.to_acceptance() if input.agreement else None,
        ),
    )
    return _start_payload(info, result, ctx)


async def enterprise_verification_bank_transfer_start(
    info: Info, input: Annotated[EnterpriseVerificationBankTransferStartInput, INPUT]
) -> EnterpriseVerificationStartPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return EnterpriseVerificationStartPayload(errors=signed_out(info))
    result = await enterprise.start_bank_transfer(
        ctx,
        viewer.account.id,
        enterprise.BankTransferInput(
            organisation=input.organisation.to_service(),
            bank_name=input.bank_name,
            account_number=input.account_number,
            handler_name=input.handler_name,
            handler_id_number=input.handler_id_number,
            agreement=input.agreement.to_acceptance() if input.agreement else None,
        ),
    )
    return _start_payload(info, result, ctx)


def _start_payload(
    info: Info, result: enterprise.Started | ServiceError, ctx: Context
) -> EnterpriseVerificationStartPayload:
    if isinstance(result, ServiceError):
        return EnterpriseVerificationStartPayload(errors=user_errors(info, result))
    assert result.face_url is not None
    assert result.face_expires_at is not None
    return EnterpriseVerificationStartPayload(
        enterprise_verification=_node(result, ctx),
        face_check=FaceCheck.of(result.face_url, result.face_expires_at),
        errors=[],
    )


async def enterprise_verification_recharge_start(
    info: Info, input: Annotated[EnterpriseVerificationRechargeStartInput, INPUT]
) -> EnterpriseVerificationPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return EnterpriseVerificationPayload(errors=signed_out(info))
    result = await enterprise.start_recharge(
        ctx,
        viewer.account.id,
        enterprise.RechargeInput(
            organisation=input.organisation.to_service(),
            code=input.code,
            agreement=input.agreement.to_acceptance() if input.agreement else None,
        ),
    )
    if isinstance(result, ServiceError):
        return EnterpriseVerificationPayload(errors=user_errors(info, result))
    return EnterpriseVerificationPayload(enterprise_verification=await _view(ctx, result.application.id), errors=[])


async def enterprise_verification_amount_confirm(
    info: Info, input: Annotated[EnterpriseVerificationAmountConfirmInput, INPUT]
) -> EnterpriseVerificationPayload:
    return await _step(info, info.context, enterprise.confirm_amount, _id(input.id), input.amount)


async def enterprise_verification_material_answer(
    info: Info, input: Annotated[EnterpriseVerificationMaterialAnswerInput, INPUT]
) -> EnterpriseVerificationPayload:
    return await _step(
        info, info.context, enterprise.answer_material, _id(input.id), input.authorisation_letter_upload_id
    )


Step = Callable[[Uow, int, int, str], Awaitable[EnterpriseApplication]]


async def _step(info: Info, ctx: Context, fn: Step, application_id: int, value: str) -> EnterpriseVerificationPayload:
    async def call(uow: Uow, viewer: Viewer) -> int:
        return (await fn(uow, viewer.account.id, application_id, value)).id

    result = await ctx.write_viewer(VerificationErrorCode.AUTHENTICATION_REQUIRED, call)
    if isinstance(result, ServiceError):
        return EnterpriseVerificationPayload(errors=user_errors(info, result))
    return EnterpriseVerificationPayload(enterprise_verification=await _view(ctx, result), errors=[])


def organisation_type_list() -> list[OrganisationTypeInfo]:
    return organisation_types()


async def banks(info: Info) -> list[str]:
    return list(info.context.deps.providers.bank.bank_names())
