"""All SQL of the virtual MFA device, its recovery codes (MFA-4, MFA-5, MFA-6) and step-up grants (MFA-3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update

from models.accounts import Account
from models.auth import StepUpGrant
from models.mfa import MfaDevice, MfaRecoveryCode
from services.uow import Uow

# --- the device -------------------------------------------------------------------------------------


async def device_of(uow: Uow, account_id: int) -> MfaDevice | None:
    """The account's device, pending or bound (at most one, MFA-4)."""
    return await uow.session.scalar(select(MfaDevice).where(MfaDevice.account_id == account_id))


async def add_device(uow: Uow, device: MfaDevice) -> None:
    uow.session.add(device)
    await uow.session.flush()


async def take_totp_step(uow: Uow, device_id: int, step: int) -> bool:
    """MFA-5: move the bound device's last accepted step forward to `step`, atomically, so a code is
    accepted once however many requests send it at the same time; False when it was not later."""
    accepted = await uow.session.execute(
        update(MfaDevice)
        .where(
            MfaDevice.id == device_id,
            MfaDevice.state == "bound",
            (MfaDevice.last_step.is_(None)) | (MfaDevice.last_step < step),
        )
        .values(last_step=step)
        .returning(MfaDevice.id)
    )
    return accepted.scalar_one_or_none() is not None


async def delete_device_and_recovery_codes(uow: Uow, account_id: int) -> None:
    await uow.session.execute(delete(MfaDevice).where(MfaDevice.account_id == account_id))
    await delete_recovery_codes(uow, account_id)


# --- recovery codes ---------------------------------------------------------------------------------


async def delete_recovery_codes(uow: Uow, account_id: int) -> None:
    await uow.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.account_id == account_id))


async def add_recovery_codes(uow: Uow, account_id: int, code_hashes: list[str], now: datetime) -> None:
    uow.session.add_all(
        [MfaRecoveryCode(account_id=account_id, code_hash=code_hash, created_at=now) for code_hash in code_hashes]
    )
    await uow.session.flush()


async def use_recovery_code(uow: Uow, account_id: int, code_hash: str, now: datetime) -> bool:
    """Mark the account's unused recovery code with this hash used, atomically; False when there is none."""
    used = await uow.session.execute(
        update(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.account_id == account_id,
            MfaRecoveryCode.code_hash == code_hash,
            MfaRecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .returning(MfaRecoveryCode.id)
    )
    return used.scalar_one_or_none() is not None


async def unused_recovery_codes(uow: Uow, account_id: int) -> int:
    value = await uow.session.scalar(
        select(func.count())
        .select_from(MfaRecoveryCode)
        .where(MfaRecoveryCode.account_id == account_id, MfaRecoveryCode.used_at.is_(None))
    )
    return value or 0


# --- the account's protections ----------------------------------------------------------------------


async def account_afresh(uow: Uow, account_id: int) -> Account | None:
    """The account row read again, so protections are changed on what the database holds now."""
    return await uow.session.get(Account, account_id, populate_existing=True)


# --- step-up grants (MFA-3) -------------------------------------------------------------------------


async def add_grant(uow: Uow, grant: StepUpGrant) -> None:
    uow.session.add(grant)
    await uow.session.flush()


def _live_grant(digest: str, account_id: int, session_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        StepUpGrant.token_hash == digest,
        StepUpGrant.account_id == account_id,
        StepUpGrant.session_id == session_id,
        StepUpGrant.consumed_at.is_(None),
        StepUpGrant.expires_at > now,
    )


async def consume_live_grant(uow: Uow, digest: str, account_id: int, session_id: int, now: datetime) -> str | None:
    """Use up the session's unexpired, unused grant with this token hash, atomically: its factor, or None."""
    result = await uow.session.execute(
        update(StepUpGrant)
        .where(*_live_grant(digest, account_id, session_id, now))
        .values(consumed_at=now)
        .returning(StepUpGrant.factor)
    )
    return result.scalar_one_or_none()


async def live_grant_factor(uow: Uow, digest: str, account_id: int, session_id: int, now: datetime) -> str | None:
    """The factor of the session's unexpired, unused grant with this token hash, or None; uses nothing."""
    return await uow.session.scalar(select(StepUpGrant.factor).where(*_live_grant(digest, account_id, session_id, now)))
