"""Enterprise verification mutations and reference queries: input -> one service call -> payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import strawberry

from models.enterprise import EnterpriseApplication
from resolvers.changes import change_id
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
from schema.types.account import AccountType
from schema.types.common import INPUT, node_id
from schema.types.documents import document_row_id
from schema.types.enterprise import EnterpriseVerification, OrganisationTypeInfo, organisation_types
from schema.types.payloads import (
    EnterpriseFaceCheckStart,
    EnterpriseVerificationPayload,
    EnterpriseVerificationStartPayload,
)
from schema.types.verification import FaceCheck
from services.errors import ServiceError
from services.uow import Uow
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import Started
from services.verification.enterprise.checks import BankTransferInput, LegalRepFaceInput, RechargeInput
from services.verification.enterprise.face import start_legal_rep_face
from services.verification.enterprise.recharge import start_recharge
from services.verification.enterprise.review import answer_material
from services.verification.enterprise.transfer import confirm_amount, resolve_payout_of, start_bank_transfer
from services.verification.errors import VerificationErrorCode
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
V = TypeVar("V")


def _node(result: Started, ctx: Context) -> EnterpriseVerification:
    return EnterpriseVerification.from_model(result.application, None, None, ctx.deps.clock.now())


async def _view(ctx: Context, account_id: int, application_id: int) -> EnterpriseVerification:
    found = await ctx.read(enterprise_repo.application_of_account, account_id, application_id)
    assert found is not None  # the viewer's own application, just written
    return EnterpriseVerification.from_model(*found, ctx.deps.clock.now())


def _change(global_id: strawberry.ID | None) -> int | None:
    return None if global_id is None else change_id(global_id)


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
    letter = input.authorisation_letter_upload_id
    result = await start_legal_rep_face(
        ctx,
        viewer.account.id,
        LegalRepFaceInput(
            organisation=input.organisation.to_service(),
            legal_rep_id_number=input.legal_representative_id_number,
            face_by=input.face_by,
            employee_name=input.employee_name,
            employee_id_number=input.employee_id_number,
            authorisation_document_id=None if letter is None else document_row_id(letter),
            agreement_version=input.agreement.version,
            change_id=_change(input.change_id),
        ),
    )
    return _start_payload(info, result, viewer, ctx)


async def enterprise_verification_bank_transfer_start(
    info: Info, input: Annotated[EnterpriseVerificationBankTransferStartInput, INPUT]
) -> EnterpriseVerificationStartPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return EnterpriseVerificationStartPayload(errors=signed_out(info))
    result = await start_bank_transfer(
        ctx,
        viewer.account.id,
        BankTransferInput(
            organisation=input.organisation.to_service(),
            bank_name=input.bank_name,
            account_number=input.account_number,
            handler_name=input.handler_name,
            handler_id_number=input.handler_id_number,
            agreement_version=input.agreement.version,
            change_id=_change(input.change_id),
        ),
    )
    return _start_payload(info, result, viewer, ctx)


def _start_payload(
    info: Info, result: Started | ServiceError, viewer: Viewer, ctx: Context
) -> EnterpriseVerificationStartPayload:
    if isinstance(result, ServiceError):
        return EnterpriseVerificationStartPayload(errors=user_errors(info, result))
    assert result.face_url is not None
    assert result.face_expires_at is not None
    return EnterpriseVerificationStartPayload(
        face_check_start=EnterpriseFaceCheckStart(
            enterprise_verification=_node(result, ctx),
            face_check=FaceCheck.of(result.face_url, result.face_expires_at),
        ),
        account=AccountType.of(viewer.account),
        errors=[],
    )


async def enterprise_verification_recharge_start(
    info: Info, input: Annotated[EnterpriseVerificationRechargeStartInput, INPUT]
) -> EnterpriseVerificationPayload:
    ctx = info.context
    viewer = await ctx.auth()
    if viewer is None:
        return EnterpriseVerificationPayload(errors=signed_out(info))
    result = await start_recharge(
        ctx,
        viewer.account.id,
        RechargeInput(
            organisation=input.organisation.to_service(),
            code=input.code,
            agreement_version=input.agreement.version,
            change_id=_change(input.change_id),
        ),
    )
    if isinstance(result, ServiceError):
        return EnterpriseVerificationPayload(errors=user_errors(info, result))
    return EnterpriseVerificationPayload(
        enterprise_verification=await _view(ctx, viewer.account.id, result.application.id),
        account=AccountType.of(viewer.account),
        errors=[],
    )


async def enterprise_verification_amount_confirm(
    info: Info, input: Annotated[EnterpriseVerificationAmountConfirmInput, INPUT]
) -> EnterpriseVerificationPayload:
    viewer = await info.context.auth()
    if viewer is not None:  # RNE-4: a payout whose request failed is looked up first (never paid again)
        await resolve_payout_of(info.context, viewer.account.id, _id(input.id))
    return await _step(info, confirm_amount, _id(input.id), input.amount)


async def enterprise_verification_material_answer(
    info: Info, input: Annotated[EnterpriseVerificationMaterialAnswerInput, INPUT]
) -> EnterpriseVerificationPayload:
    return await _step(info, answer_material, _id(input.id), input.to_service())


async def _step(
    info: Info, fn: Callable[[Uow, int, int, V], Awaitable[EnterpriseApplication]], application_id: int, value: V
) -> EnterpriseVerificationPayload:
    ctx = info.context

    async def call(uow: Uow, viewer: Viewer) -> tuple[int, Viewer]:
        return (await fn(uow, viewer.account.id, application_id, value)).id, viewer

    result = await ctx.write_viewer(VerificationErrorCode.AUTHENTICATION_REQUIRED, call)
    if isinstance(result, ServiceError):
        return EnterpriseVerificationPayload(errors=user_errors(info, result))
    done, viewer = result
    return EnterpriseVerificationPayload(
        enterprise_verification=await _view(ctx, viewer.account.id, done),
        account=AccountType.of(viewer.account),
        errors=[],
    )


def organisation_type_list() -> list[OrganisationTypeInfo]:
    return organisation_types()


async def banks(info: Info) -> list[str]:
    return list(info.context.deps.providers.bank.bank_names())
