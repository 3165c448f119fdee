"""Second factors and step-up grants.

MFA-3: a new account has operation protection on, with SMS. A sensitive operation (password,
phone or e-mail change; later MFA and protection changes, real-name changes, cancellation) consumes
a short-lived, single-use step-up grant obtained by passing a second factor with
`operationChallengeVerify`. A grant is bound to the account and the session that obtained it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.accounts import Account
from models.auth import StepUpGrant
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.errors import ServiceError
from services.mfa import devices
from services.mfa import repository as repo
from services.mfa.errors import MfaErrorCode
from services.security import new_token, token_hash
from services.uow import Uow
from services.viewer import Viewer

GRANT_TTL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    token: str
    factor: str
    expires_at: datetime


def operation_protection_factors(account: Account) -> list[str]:
    factors = []
    if account.op_protection_sms:
        factors.append("sms")
    if account.op_protection_totp:
        factors.append("totp")
    return factors


async def grant(uow: Uow, viewer: Viewer, factor: str, code: str) -> IssuedGrant:
    """Pass a second factor for a step-up grant (MFA-1): an OPERATION code by SMS, a TOTP code of the
    bound device (MFA-4, MFA-5), or a recovery code.

    A TOTP or recovery-code grant is only issued where operation protection enables TOTP (MFA-1: only an
    enabled factor passes), before any code is spent; without a device the binding flow comes first (MFA-4).
    SMS grants are always issued: a phone change needs one whatever the settings (PROF-2).

    The code's format for the factor is checked first: a malformed code is refused alone, before any state
    is read, and counts nothing."""
    if (problem := devices.factor_code_problem(factor, code)) is not None:
        raise problem
    if factor in ("totp", "recovery_code"):
        if await devices.bound_device(uow, viewer.account.id) is None:
            raise ServiceError(
                MfaErrorCode.MFA_DEVICE_NOT_BOUND, "No virtual MFA device is bound: bind one first (MFA-4).", "factor"
            )
        if "totp" not in operation_protection_factors(viewer.account):
            raise ServiceError(
                MfaErrorCode.FACTOR_NOT_ENABLED,
                "Operation protection does not use the virtual MFA device; verify by SMS or enable TOTP first.",
                "factor",
            )
    if factor == "totp":
        await devices.accept_code(uow, viewer.account.id, code)
    elif factor == "recovery_code":
        await devices.accept_recovery_code(uow, viewer.account.id, code, client=viewer.client)
    else:
        return await grant_by_sms(uow, viewer, code)
    return await _issue_grant(uow, viewer, factor)


async def grant_by_sms(uow: Uow, viewer: Viewer, code: str) -> IssuedGrant:
    await codes.verify(uow, destination=viewer.account.phone, purpose=CodePurpose.OPERATION, code=code)
    return await _issue_grant(uow, viewer, "sms")


async def _issue_grant(uow: Uow, viewer: Viewer, factor: str) -> IssuedGrant:
    account, session_id = viewer.account, viewer.session_id
    token = new_token("sug")
    now = uow.now()
    await repo.add_grant(
        uow,
        StepUpGrant(
            token_hash=token_hash(token),
            account_id=account.id,
            session_id=session_id,
            factor=factor,
            created_at=now,
            expires_at=now + GRANT_TTL,
        ),
    )
    return IssuedGrant(token=token, factor=factor, expires_at=now + GRANT_TTL)


async def require_step_up(
    uow: Uow,
    account: Account,
    session_id: int,
    token: str | None,
    *,
    require_sms: bool = False,
    field: str = "stepUpToken",
    consume: bool = True,
) -> None:
    """Consume a grant when operation protection asks for one (MFA-3), or when `require_sms`.

    `require_sms` is for operations whose own rule needs proof of the bound phone (PROF-2: a phone
    change needs a code sent to the current phone), whatever the protection settings are.
    `consume=False` only checks the grant: an operation that also verifies a code checks first and
    consumes after the code is accepted, because a wrong code is committed (counted) and must not
    use the grant up.
    """
    needed = require_sms or bool(operation_protection_factors(account))
    if not needed and not token:
        return
    if not token:
        raise ServiceError(
            MfaErrorCode.STEP_UP_REQUIRED,
            "This operation is protected: pass a second factor with operationChallengeVerify first.",
            field,
        )
    read = repo.consume_live_grant if consume else repo.live_grant_factor
    factor = await read(uow, token_hash(token), account.id, session_id, uow.now())
    if factor is None:
        raise ServiceError(
            MfaErrorCode.STEP_UP_INVALID, "The step-up grant is unknown, used or expired; verify again.", field
        )
    if require_sms and factor != "sms":
        raise ServiceError(
            MfaErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
            "This operation needs a code sent to the current phone (PROF-2).",
            field,
        )
    # MFA-1: only a factor enabled for operation protection passes it (a recovery code stands for TOTP).
    enabled = operation_protection_factors(account)
    if not require_sms and enabled and ("totp" if factor == "recovery_code" else factor) not in enabled:
        raise ServiceError(
            MfaErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
            f"Operation protection asks for {' or '.join(enabled)}; verify with that factor.",
            field,
        )


# --- protected operations on the second factors (MFA-2) ---------------------------------------------


async def unbind_device(uow: Uow, viewer: Viewer, code: str, step_up_token: str | None) -> Account:
    """MFA-6 with MFA-2: the grant is checked first and used only once the device code is accepted, since a
    wrong code is counted (committed) and must not use the grant up. A malformed code is refused first,
    before any state is read."""
    if (problem := devices.unbind_code_problem(code)) is not None:
        raise problem
    await require_step_up(uow, viewer.account, viewer.session_id, step_up_token, consume=False)
    await devices.accept_unbind_code(uow, viewer, code)
    await require_step_up(uow, viewer.account, viewer.session_id, step_up_token)
    return await devices.unbind(uow, viewer)


async def change_protections(
    uow: Uow, viewer: Viewer, *, login: tuple[bool, bool], operation: tuple[bool, bool], step_up_token: str | None
) -> Account:
    """MFA-2: changing a protection is itself protected."""
    await require_step_up(uow, viewer.account, viewer.session_id, step_up_token)
    return await devices.set_protections(uow, viewer, login=login, operation=operation)


async def regenerate_recovery_codes(uow: Uow, viewer: Viewer, step_up_token: str | None) -> list[str]:
    await require_step_up(uow, viewer.account, viewer.session_id, step_up_token)
    return await devices.regenerate_recovery_codes(uow, viewer.account.id, viewer.client)
