"""The bank that pays into corporate accounts (RNE-4, RNE-9), and CNY amounts as integer fen (RNE-4, RNE-8).

The service offers a fixed list of opening banks (`BANKS`: the large state-owned and the national
joint-stock commercial banks) and pays a random amount of 0.01-1.00 CNY (`random_amount_fen`) into
the corporate account.

Payouts are idempotent (RNE-4): the service chooses the payout's reference and stores it before it
calls `Bank.pay`, and a bank knows each payout by that reference. A request that fails or times out
may or may not have paid; the service then finds the payout with `Bank.lookup(reference)` (at once,
and later from the sweeper) and never pays again. The bank's answer says when the money arrives in
the account (RNE-4: within 0-2 days); the 8 days to enter the amount run from that arrival.

The sandbox (docs/sandbox.md "Bank") keeps its ledger in the memory of the process:
- an opening bank not in the offered list: bank name wrong;
- account numbers ending in `1`: account name and number do not match;
- ending in `2`: the account cannot receive transfers;
- ending in `3`: the payout arrives one day after it was sent;
- ending in `4`: the first request for a reference times out although the bank paid; `lookup` finds it;
- otherwise the payout succeeds and arrives at once.

Amounts are integer fen everywhere (docs/rules.md); text is parsed with `decimal.Decimal`, never a float.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Protocol

from services.clock import Clock
from services.providers.errors import ProviderUnavailable

BANKS: tuple[str, ...] = (
    # Large state-owned commercial banks
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "交通银行",
    "中国邮政储蓄银行",
    # National joint-stock commercial banks
    "招商银行",
    "中信银行",
    "中国光大银行",
    "华夏银行",
    "中国民生银行",
    "广发银行",
    "平安银行",
    "兴业银行",
    "上海浦东发展银行",
    "浙商银行",
    "渤海银行",
    "恒丰银行",
)

MIN_AMOUNT_FEN = 1  # RNE-4 / RNE-8: 0.01 CNY
MAX_AMOUNT_FEN = 100  # RNE-4 / RNE-8: 1.00 CNY

SANDBOX_ACCOUNT_MISMATCH_ENDING = "1"
SANDBOX_CANNOT_RECEIVE_ENDING = "2"
SANDBOX_ARRIVES_NEXT_DAY_ENDING = "3"
SANDBOX_TIMES_OUT_ENDING = "4"
SANDBOX_ARRIVAL_DELAY = timedelta(days=1)

_CNY = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?", re.ASCII)


class PayoutRefusal(Enum):
    """RNE-9's bank reasons."""

    BANK_NAME_WRONG = "BANK_NAME_WRONG"
    ACCOUNT_MISMATCH = "ACCOUNT_MISMATCH"  # account name and number do not match
    CANNOT_RECEIVE = "CANNOT_RECEIVE"  # the account cannot receive transfers


@dataclass(frozen=True, slots=True)
class PayoutAccount:
    """The corporate account a payout goes to (RNE-4)."""

    bank_name: str
    account_name: str
    account_number: str


@dataclass(frozen=True, slots=True)
class PayoutResult:
    """The bank's answer about the payout with `reference`: either refused (`refusal`), or paid, sent at
    `sent_at` and credited to the account at `arrives_at` (which may be later than now: RNE-4's 0-2 days)."""

    reference: str
    refusal: PayoutRefusal | None
    sent_at: datetime | None = None
    arrives_at: datetime | None = None

    @property
    def paid(self) -> bool:
        return self.refusal is None


class PayoutTimedOut(ProviderUnavailable):
    """The bank did not answer the payout request in time: it may or may not have paid (look it up)."""


class PayoutNotSent(ProviderUnavailable):
    """The request certainly never reached a bank (none is configured, or the connection was refused):
    nothing was paid. Any other failure of `Bank.pay` may have paid."""


class Bank(Protocol):
    def bank_names(self) -> tuple[str, ...]:
        """The opening banks the service offers (RNE-4)."""
        ...

    async def pay(self, reference: str, account: PayoutAccount, amount_fen: int) -> PayoutResult:
        """Pay `amount_fen` into the account, once per `reference`: a reference the bank knows answers that
        payout again and pays nothing. Raise `ProviderUnavailable` when the bank cannot answer (then the
        payout may or may not have been made)."""
        ...

    async def lookup(self, reference: str) -> PayoutResult | None:
        """The payout made with `reference`, or None when the bank has none. Raise `ProviderUnavailable`
        when the bank cannot answer."""
        ...


@dataclass(frozen=True, slots=True)
class SandboxPayout:
    """One line of the sandbox bank's ledger: a payout request it took, paid or refused."""

    reference: str
    account: PayoutAccount
    amount_fen: int
    result: PayoutResult


class SandboxBank:
    """The sandbox bank: it decides by the account number's last digit and keeps its ledger in memory."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._ledger: dict[str, SandboxPayout] = {}

    def bank_names(self) -> tuple[str, ...]:
        return BANKS

    @property
    def ledger(self) -> list[SandboxPayout]:
        """Every payout request the bank took, in order (tests count them: one per reference)."""
        return list(self._ledger.values())

    def payouts(self) -> list[SandboxPayout]:
        """The payouts the bank made (money moved), in order."""
        return [p for p in self._ledger.values() if p.result.paid]

    async def pay(self, reference: str, account: PayoutAccount, amount_fen: int) -> PayoutResult:
        if amount_fen <= 0:
            raise ValueError("a payout is a positive number of fen")
        known = self._ledger.get(reference)
        if known is not None:  # idempotent: the same reference never pays twice
            return known.result
        result = self._decide(reference, account)
        self._ledger[reference] = SandboxPayout(reference, account, amount_fen, result)
        if result.paid and account.account_number.endswith(SANDBOX_TIMES_OUT_ENDING):
            raise PayoutTimedOut("the bank did not answer in time")  # it paid all the same
        return result

    async def lookup(self, reference: str) -> PayoutResult | None:
        known = self._ledger.get(reference)
        return None if known is None else known.result

    def _decide(self, reference: str, account: PayoutAccount) -> PayoutResult:
        number = account.account_number
        if account.bank_name not in BANKS:
            return PayoutResult(reference, PayoutRefusal.BANK_NAME_WRONG)
        if number.endswith(SANDBOX_ACCOUNT_MISMATCH_ENDING):
            return PayoutResult(reference, PayoutRefusal.ACCOUNT_MISMATCH)
        if number.endswith(SANDBOX_CANNOT_RECEIVE_ENDING):
            return PayoutResult(reference, PayoutRefusal.CANNOT_RECEIVE)
        sent = self._clock.now()
        delay = SANDBOX_ARRIVAL_DELAY if number.endswith(SANDBOX_ARRIVES_NEXT_DAY_ENDING) else timedelta(0)
        return PayoutResult(reference, None, sent, sent + delay)


class UnconfiguredBank:
    """Outside sandbox mode, until a real adapter is configured: no payout can be made.

    The list of banks is the service's own offer, not the bank's answer, so it is still shown."""

    def bank_names(self) -> tuple[str, ...]:
        return BANKS

    async def pay(self, reference: str, account: PayoutAccount, amount_fen: int) -> PayoutResult:
        raise PayoutNotSent("no bank is configured")

    async def lookup(self, reference: str) -> PayoutResult | None:
        raise ProviderUnavailable("no bank is configured")


def random_amount_fen() -> int:
    """RNE-4 / RNE-8: a uniformly random amount of 1..100 fen (0.01-1.00 CNY), from `secrets`."""
    return MIN_AMOUNT_FEN + secrets.randbelow(MAX_AMOUNT_FEN - MIN_AMOUNT_FEN + 1)


def format_cny(fen: int) -> str:
    """Integer fen as CNY with two decimals: 37 -> "0.37", 100 -> "1.00", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def parse_cny(text: str) -> int | None:
    """A CNY amount typed by a user, as integer fen; None when it is not one.

    Accepts ASCII digits with at most two decimals ("0.37", "0.4", "1", "1.00"), surrounding blanks
    ignored. Refuses signs (so negatives), more than two decimals, exponents, separators, a bare or
    trailing point, and more than 12 integer digits.
    """
    candidate = (text or "").strip()
    if not _CNY.fullmatch(candidate):
        return None
    return int(Decimal(candidate).scaleb(2))
