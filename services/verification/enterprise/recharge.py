"""Enterprise verification by recharge (RNE-8): a dedicated remittance account and a payment into it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from models.enterprise import BalanceEntry, EnterpriseApplication, RemittanceAccount
from models.verification import VerificationAttempt
from services.accounts import repository as accounts_repo
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions
from services.errors import ServiceError
from services.providers.bank import parse_cny, random_amount_fen
from services.providers.business import RegisteredOrganisation, judge
from services.providers.errors import ProviderUnavailable
from services.security import random_digits
from services.uow import Uow
from services.verification import repository as repo
from services.verification import steps
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import (
    RECHARGE,
    REFUSAL_REASON,
    Started,
    claim_application,
    claim_change,
    close,
    end,
    get_application,
    in_progress,
    in_progress_id,
    move,
    provider_failed,
    read_started,
    refuse,
    verify,
)
from services.verification.enterprise.checks import Claim, Organisation, RechargeInput, check_recharge, shanghai_today
from services.verification.enterprise.states import State
from services.verification.errors import AttemptReason
from services.verification.errors import CallbackErrorCode as Callback
from services.verification.errors import VerificationErrorCode as Code

REMITTANCE_WINDOW = timedelta(days=3)  # RNE-8


async def start_recharge(tx: Transactions, account_id: int, data: RechargeInput) -> Started | ServiceError:
    try:
        claim = check_recharge(data)
    except ServiceError as err:
        return err
    organisation = claim.organisation
    claimed = await tx.write(_claim_recharge, account_id, claim, data.code)
    if isinstance(claimed, ServiceError):
        return claimed
    application_id, code_id = claimed
    try:
        found = await _check_registry_for_recharge(tx, application_id, organisation)
    except ProviderUnavailable:
        return await tx.write(provider_failed, application_id, (State.REMITTANCE_PENDING,), code_id)
    if isinstance(found, ServiceError):
        return found
    started = await tx.write(_await_remittance, application_id)
    if isinstance(started, ServiceError):
        return started
    application, attempt = await tx.read(read_started, application_id)
    return Started(application, attempt)


async def _check_registry_for_recharge(
    tx: Transactions, application_id: int, org: Organisation
) -> RegisteredOrganisation | ServiceError:
    today = shanghai_today(tx.deps.clock.now())
    found = await steps.ask(
        tx,
        tx.deps.providers.business.look_up(
            uscc=org.uscc, name=org.name, legal_representative=org.legal_rep_name, today=today
        ),
    )
    refusal = judge(
        found, chosen_type=org.organisation_type, legal_representative=org.legal_rep_name, today=today, name=org.name
    )
    if refusal is not None:
        return await tx.write(refuse, application_id, REFUSAL_REASON[refusal], (State.REMITTANCE_PENDING,))
    assert found is not None
    return found


async def _claim_recharge(uow: Uow, account_id: int, claim: Claim, code: str | None) -> tuple[int, int | None]:
    await accounts_repo.lock_account(uow, account_id)
    if claim.change_id is None and await repo.verification_of(uow, account_id) is not None:  # RN-5
        raise steps.already_verified()
    if claim.change_id is not None:  # CHG-3, CHG-4: the change is checked before a remittance account is made
        await claim_change(uow, account_id, RECHARGE, claim)
    if await in_progress_id(uow, account_id) is not None:
        raise in_progress()
    code_id: int | None = None
    account = await accounts_repo.get(uow, account_id)
    assert account is not None
    remittance = await enterprise_repo.remittance_account_of(uow, account_id)
    if remittance is None:
        # RNE-8: the dedicated remittance account is created after an SMS code to the bound phone.
        if not code:
            raise ServiceError(
                Code.CODE_REQUIRED,
                "Send a REMITTANCE_ACCOUNT code to the bound phone and enter it: a dedicated remittance account "
                "is created for this account.",
                "code",
            )
        code_id = await codes.verify(uow, destination=account.phone, purpose=CodePurpose.REMITTANCE_ACCOUNT, code=code)
        remittance = RemittanceAccount(account_id=account_id, number="6216" + random_digits(15), created_at=uow.now())
        uow.session.add(remittance)
        await uow.session.flush()
    application_id, _ = await claim_application(uow, account_id, RECHARGE, claim, change_claimed=True)
    application = await get_application(uow, application_id)
    application.remittance_account_id = remittance.id
    await uow.session.flush()
    return application_id, code_id


async def _await_remittance(uow: Uow, application_id: int) -> EnterpriseApplication:
    deadline = uow.now() + REMITTANCE_WINDOW
    application = await move(
        uow,
        application_id,
        (State.REMITTANCE_PENDING,),
        State.REMITTANCE_PENDING,
        amount_fen=random_amount_fen(),
        amount_deadline=deadline,
        step_expires_at=deadline,
    )
    if application is None:
        raise steps.unavailable()
    return application


@dataclass(frozen=True, slots=True)
class RemittanceOutcome:
    credited_fen: int
    application: EnterpriseApplication | None
    note: str


async def remittance_received(
    uow: Uow, *, payer_account_name: str, payer_account_number: str, amount_text: str, to_account: str
) -> RemittanceOutcome:
    """An incoming payment into a dedicated remittance account (RNE-8). The money is credited to the
    balance in every case; a pending application is verified by an exact match in time, else rejected."""
    amount = parse_cny(amount_text or "")
    if amount is None or amount <= 0:
        raise ServiceError(
            Callback.AMOUNT_FORMAT_INVALID, "The amount must be positive CNY with two decimals.", "amount"
        )
    remittance = await enterprise_repo.remittance_account_numbered(uow, to_account)
    if remittance is None:
        raise ServiceError(Callback.REMITTANCE_ACCOUNT_NOT_FOUND, "No such remittance account.", "to_account")
    await accounts_repo.lock_account(uow, remittance.account_id)
    now = uow.now()
    application = await enterprise_repo.latest_application_paid_into(uow, remittance.id, RECHARGE)
    note = "unmatched"
    if application is not None and application.amount_fen is not None:
        assert application.amount_deadline is not None
        late = application.amount_deadline <= now
        if application.state == State.REMITTANCE_PENDING and not late:
            if payer_account_name.strip() != application.organisation_name:
                reason: AttemptReason | None = AttemptReason.PAYER_NAME_MISMATCH
            elif amount != application.amount_fen:
                reason = AttemptReason.PAYMENT_AMOUNT_WRONG
            else:
                reason = None
            if reason is None:
                moved = await move(
                    uow, application.id, (State.REMITTANCE_PENDING,), State.DECIDING, step_expires_at=None
                )
                if moved is not None:
                    attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
                    assert attempt is not None
                    note = "matched" if await verify(uow, moved, attempt) else "already_verified"
            elif await end(uow, application.id, (State.REMITTANCE_PENDING,), State.REJECTED, reason) is not None:
                note = reason.value.lower()
        elif late and (
            application.state == State.REMITTANCE_PENDING
            or (application.state == State.EXPIRED and application.reason == AttemptReason.PAYMENT_NOT_RECEIVED.value)
        ):
            # RNE-8: a late payment rejects the application, whether or not the sweeper expired it first.
            moved = await move(uow, application.id, (State.REMITTANCE_PENDING, State.EXPIRED), State.REJECTED)
            if moved is not None:
                moved.reason = AttemptReason.PAYMENT_LATE.value
                attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
                assert attempt is not None
                if attempt.outcome in ("pending", "expired"):
                    await steps.end(uow, attempt, "failed", AttemptReason.PAYMENT_LATE)
                    attempt.completed_at = now
                await close(uow, moved, AttemptReason.PAYMENT_LATE)
                note = "payment_late"
    uow.session.add(
        BalanceEntry(
            account_id=remittance.account_id,
            amount_fen=amount,
            kind="remittance",
            payer_name=payer_account_name.strip()[:128],
            payer_account=payer_account_number.strip()[:40],
            application_id=application.id if application is not None else None,
            note=note,
            created_at=now,
        )
    )
    await uow.session.flush()
    return RemittanceOutcome(amount, application, note)
