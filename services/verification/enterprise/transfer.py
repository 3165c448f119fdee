"""Enterprise verification by corporate bank transfer (RNE-4..7): the payout, exactly once, and the amount."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.enterprise import BankPayout, EnterpriseApplication
from models.verification import VerificationAttempt
from services.accounts import repository as accounts_repo
from services.database import Transactions
from services.errors import ServiceError
from services.providers.bank import PayoutAccount, PayoutNotSent, PayoutResult, parse_cny, random_amount_fen
from services.providers.errors import ProviderUnavailable
from services.uow import Uow
from services.verification import steps
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.applications import (
    BANK_TRANSFER,
    STALE_STEP,
    Started,
    attempts_left,
    end,
    get_application,
    move,
    refusal_error,
    shown_state,
    submit_review,
    verify,
)
from services.verification.enterprise.checks import BankTransferInput, check_bank_transfer
from services.verification.enterprise.face import start_with_face
from services.verification.enterprise.states import State
from services.verification.errors import AttemptReason
from services.verification.errors import VerificationErrorCode as Code

MAX_WRONG_AMOUNTS = 2  # RNE-5
AMOUNT_WINDOW = timedelta(days=8)  # RNE-4


# RNE-4: a payout reference the bank still does not know this long after the request was never paid.
PAYOUT_NOT_FOUND_AFTER = STALE_STEP


PAYOUT_LOOKUPS_PER_ROUND = 100  # beyond the rules: bounds a sweeper round while the bank is down
PAYOUT_PAYER = "账号中心 Account Center Ltd."


async def start_bank_transfer(tx: Transactions, account_id: int, data: BankTransferInput) -> Started | ServiceError:
    try:
        claim = check_bank_transfer(data, tx.deps.clock.now(), tx.deps.providers.bank.bank_names())
    except ServiceError as err:
        return err
    return await start_with_face(tx, account_id, BANK_TRANSFER, claim)


async def after_face_check(tx: Transactions, attempt: VerificationAttempt) -> None:
    """What follows a face outcome outside its transaction: the payout of a bank transfer (RNE-4).
    Its refusals are recorded on the application, where the user reads them."""
    if attempt.subject_type != "enterprise" or attempt.method != BANK_TRANSFER or attempt.outcome != "pending":
        return
    found = await tx.read(enterprise_repo.application_of_attempt, attempt.id)
    if found is not None:
        await pay_out(tx, found[0].id)


@dataclass(frozen=True, slots=True)
class _PayoutRequest:
    reference: str
    account: PayoutAccount
    amount_fen: int
    requested_at: datetime


def _payout_reference(application_id: int) -> str:
    return f"ACV{application_id:010d}"


async def pay_out(tx: Transactions, application_id: int) -> EnterpriseApplication | ServiceError:
    """RNE-4: pay a random 0.01-1.00 CNY into the corporate account once the handler passed, exactly once.

    The payout and its reference are written before the bank is asked (`_request_payout`), by one caller
    only. When the request fails it may still have paid: the payout is then looked up by its reference
    (`resolve_payout`: now, later by the sweeper or when the user enters an amount), never paid again."""
    requested = await tx.write(_request_payout, application_id)
    if isinstance(requested, ServiceError):
        return requested
    if requested is None:  # not waiting for a payout, or another caller requested it (and pays)
        return await tx.read(get_application, application_id)
    try:
        result = await steps.ask(
            tx, tx.deps.providers.bank.pay(requested.reference, requested.account, requested.amount_fen)
        )
    except PayoutNotSent:  # certainly nothing paid: nothing decided, the attempt is given back
        return await tx.write(_payout_not_made, application_id)
    except ProviderUnavailable:  # timed out or failed after sending: it may have paid
        return await resolve_payout(tx, application_id)
    return await _settle(tx, application_id, result)


async def _request_payout(uow: Uow, application_id: int) -> _PayoutRequest | None:
    """The payout's reference and amount, stored before the bank is asked; None when there is nothing to
    pay (the step ran out or ended) or another caller requested it already. The payout step no longer runs
    out on its own (`step_expires_at` is cleared): it ends when the bank's answer is known."""
    account_id = await enterprise_repo.account_of(uow, application_id)
    if account_id is None:
        return None
    await accounts_repo.lock_account(uow, account_id)
    now = uow.now()
    if not await enterprise_repo.take_payout_step(uow, application_id, State.PAYOUT_PENDING, now):
        return None
    application = await get_application(uow, application_id)
    assert application.bank_name is not None
    assert application.account_number is not None
    payout = BankPayout(
        application_id=application_id,
        bank_name=application.bank_name,
        account_name=application.organisation_name,
        account_number=application.account_number,
        amount_fen=random_amount_fen(),
        reference=_payout_reference(application_id),
        status="requested",
        requested_at=now,
    )
    uow.session.add(payout)
    await uow.session.flush()
    return _request_of(payout)


def _request_of(payout: BankPayout) -> _PayoutRequest:
    return _PayoutRequest(
        payout.reference,
        PayoutAccount(payout.bank_name, payout.account_name, payout.account_number),
        payout.amount_fen,
        payout.requested_at,
    )


async def _requested_payout(uow: Uow, application_id: int) -> _PayoutRequest | None:
    payout = await enterprise_repo.requested_payout(uow, application_id)
    return None if payout is None else _request_of(payout)


async def resolve_payout(tx: Transactions, application_id: int) -> EnterpriseApplication | ServiceError:
    """RNE-4: a payout whose request failed is found by its reference, never paid again. Unknown to the bank
    `PAYOUT_NOT_FOUND_AFTER` after the request, it was never made: the attempt ends as the provider's failure
    and is given back. While the bank cannot answer, the verification stays PAYOUT_PENDING."""
    requested = await tx.read(_requested_payout, application_id)
    if requested is None:
        return await tx.read(get_application, application_id)
    try:
        found = await steps.ask(tx, tx.deps.providers.bank.lookup(requested.reference))
    except ProviderUnavailable:
        return await tx.read(get_application, application_id)
    if found is None:
        if requested.requested_at + PAYOUT_NOT_FOUND_AFTER <= tx.deps.clock.now():
            return await tx.write(_payout_not_made, application_id)
        return await tx.read(get_application, application_id)
    return await _settle(tx, application_id, found)


async def resolve_payout_of(tx: Transactions, account_id: int, application_id: int) -> None:
    """Before the user's amount is judged: resolve the account's payout whose outcome is unknown."""
    found = await tx.read(enterprise_repo.application_of_account, account_id, application_id)
    if found is not None and found[0].state == State.PAYOUT_PENDING and found[0].step_expires_at is None:
        await resolve_payout(tx, application_id)


async def resolve_payouts(tx: Transactions) -> int:
    """The sweeper's part (RNE-4): look up the payouts whose outcome is still unknown, oldest first and at most
    `PAYOUT_LOOKUPS_PER_ROUND` (each may wait for the bank's time-out); how many were resolved."""
    ids = await tx.read(_unresolved_payouts)
    resolved = 0
    for application_id in ids:
        if await tx.read(_requested_payout, application_id) is None:
            continue  # resolved meanwhile
        await resolve_payout(tx, application_id)
        if await tx.read(_requested_payout, application_id) is None:
            resolved += 1
    return resolved


async def _unresolved_payouts(uow: Uow) -> list[int]:
    return await enterprise_repo.unresolved_payouts(uow, PAYOUT_LOOKUPS_PER_ROUND)


async def _settle(tx: Transactions, application_id: int, result: PayoutResult) -> EnterpriseApplication | ServiceError:
    if result.refusal is not None:  # RNE-9: the bank's reason is the verification's `failureReason`
        return await tx.write(_payout_refused, application_id, AttemptReason[result.refusal.value])
    return await tx.write(_paid, application_id, result)


async def _close_payout(uow: Uow, application_id: int, status: str, **values: object) -> BankPayout | None:
    """Record the bank's answer on the requested payout, once (the caller locked the account)."""
    return await enterprise_repo.close_payout(uow, application_id, status, values)


async def _paid(uow: Uow, application_id: int, result: PayoutResult) -> EnterpriseApplication:
    """RNE-4: the bank paid; the 8 days to enter the amount run from the money's arrival in the account."""
    now = uow.now()
    sent = result.sent_at or now
    arrives = result.arrives_at or sent
    deadline = arrives + AMOUNT_WINDOW
    application = await move(
        uow,
        application_id,
        (State.PAYOUT_PENDING,),
        State.AMOUNT_PENDING,
        payout_arrives_at=arrives,
        amount_deadline=deadline,
        step_expires_at=deadline,
    )
    # The money went out whatever became of the verification meanwhile: the statement shows it.
    payout = await _close_payout(uow, application_id, "paid", paid_at=sent, arrives_at=arrives)
    if application is None:
        return await get_application(uow, application_id)
    if payout is None:  # another caller settled it first and moved it on
        return application
    application.amount_fen = payout.amount_fen
    await uow.session.flush()
    return application


async def _payout_refused(uow: Uow, application_id: int, reason: AttemptReason) -> EnterpriseApplication:
    """The bank refused (RNE-9): recorded on the verification, where the user reads it; nobody is answered."""
    application = await end(uow, application_id, (State.PAYOUT_PENDING,), State.FAILED, reason)
    await _close_payout(uow, application_id, "refused")
    return application if application is not None else await get_application(uow, application_id)


async def _payout_not_made(uow: Uow, application_id: int) -> EnterpriseApplication:
    """No payout was made: nothing decided, the attempt ends as the provider's failure and is given back."""
    application = await end(
        uow, application_id, (State.PAYOUT_PENDING,), State.FAILED, AttemptReason.PROVIDER_UNAVAILABLE, give_back=True
    )
    await _close_payout(uow, application_id, "not_found")
    return application if application is not None else await get_application(uow, application_id)


def _payout_not_arrived(retry_after: int | None) -> ServiceError:
    return ServiceError(
        Code.PAYOUT_NOT_ARRIVED,
        "The payout has not arrived in the corporate account yet (see payoutArrivedAt); enter the amount once it "
        "has. Nothing was counted.",
        "id",
        retry_after=retry_after,
    )


def _not_awaiting_amount() -> ServiceError:
    return ServiceError(Code.NOT_AWAITING_AMOUNT, "This verification is not waiting for an amount.", "id")


async def confirm_amount(uow: Uow, account_id: int, application_id: int, amount_text: str) -> EnterpriseApplication:
    """RNE-4, RNE-5, RNE-7: the amount received, within 8 days; two wrong entries fail it."""
    amount = parse_cny(amount_text or "")
    if amount is None or not 1 <= amount <= 100:
        raise ServiceError(
            Code.AMOUNT_FORMAT_INVALID, "Enter the amount received, in CNY between 0.01 and 1.00 (e.g. 0.37).", "amount"
        )
    application = await uow.session.get(EnterpriseApplication, application_id, populate_existing=True)
    if application is None or application.account_id != account_id:
        raise ServiceError(Code.APPLICATION_NOT_FOUND, "No such enterprise verification.", "id")
    now = uow.now()
    if application.state == State.PAYOUT_PENDING and shown_state(application, now) == State.PAYOUT_PENDING:
        raise _payout_not_arrived(None)
    if application.state != State.AMOUNT_PENDING:
        raise _not_awaiting_amount()
    # RNE-4: the amount can only be read once it is in the account; refused before, and nothing counted.
    arrives = application.payout_arrives_at
    if arrives is not None and arrives > now:
        raise _payout_not_arrived(max(1, math.ceil((arrives - now).total_seconds())))
    assert application.step_expires_at is not None
    if application.step_expires_at <= now:
        reason = AttemptReason.AMOUNT_DEADLINE_PASSED
        if await end(uow, application.id, (State.AMOUNT_PENDING,), State.EXPIRED, reason) is None:
            raise _not_awaiting_amount()
        raise refusal_error(reason, None)
    if amount != application.amount_fen:
        wrong = await enterprise_repo.count_wrong_amount(uow, application.id, State.AMOUNT_PENDING, MAX_WRONG_AMOUNTS)
        if wrong is None:
            raise _not_awaiting_amount()
        if wrong >= MAX_WRONG_AMOUNTS:  # RNE-5: the second wrong amount fails this verification
            reason = AttemptReason.AMOUNT_WRONG_TWICE
            if await end(uow, application.id, (State.AMOUNT_PENDING,), State.FAILED, reason) is None:
                raise _not_awaiting_amount()
            raise refusal_error(reason, await attempts_left(uow, account_id, BANK_TRANSFER))
        raise ServiceError(
            Code.AMOUNT_WRONG,
            f"This is not the amount paid; {MAX_WRONG_AMOUNTS - wrong} try left.",
            "amount",
            persist=True,
            attempts_remaining=MAX_WRONG_AMOUNTS - wrong,
        )
    if application.risk_hit:  # RNE-7: a right amount with a risk hit goes to review instead
        moved = await move(uow, application.id, (State.AMOUNT_PENDING,), State.IN_REVIEW, step_expires_at=None)
        if moved is None:
            raise _not_awaiting_amount()
        await submit_review(uow, moved)
        return moved
    moved = await move(uow, application.id, (State.AMOUNT_PENDING,), State.DECIDING, step_expires_at=None)
    if moved is None:
        raise _not_awaiting_amount()
    attempt = await uow.session.get(VerificationAttempt, moved.attempt_id, populate_existing=True)
    assert attempt is not None
    await verify(uow, moved, attempt)
    return moved


def payout_arrived_at(application: EnterpriseApplication, now: datetime) -> datetime | None:
    """RNE-4: when a bank transfer's payout arrived in the account; None before (or for other methods)."""
    arrives = application.payout_arrives_at
    if application.method != BANK_TRANSFER or arrives is None or arrives > now:
        return None
    return arrives
