"""The bank that pays into corporate accounts (RNE-4, RNE-9), and CNY amounts as integer fen (RNE-4, RNE-8).

The service offers a fixed list of opening banks (`BANKS`: the large state-owned and the national
joint-stock commercial banks) and pays a random amount of 0.01-1.00 CNY (`random_amount_fen`) into
the corporate account. The bank is stateless here: the service keeps its own payout records, and the
sandbox statement page reads those.

The sandbox (docs/sandbox.md "Bank"):
- an opening bank not in the offered list: bank name wrong;
- account numbers ending in `1`: account name and number do not match;
- ending in `2`: the account cannot receive transfers;
- otherwise the payout succeeds and arrives at once.

Amounts are integer fen everywhere (docs/rules.md); text is parsed with `decimal.Decimal`, never a float.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Protocol

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

_CNY = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?", re.ASCII)


class PayoutRefusal(Enum):
    """RNE-9's bank reasons."""

    BANK_NAME_WRONG = "BANK_NAME_WRONG"
    ACCOUNT_MISMATCH = "ACCOUNT_MISMATCH"  # account name and number do not match
    CANNOT_RECEIVE = "CANNOT_RECEIVE"  # the account cannot receive transfers


@dataclass(frozen=True, slots=True)
class PayoutResult:
    """Exactly one of `reference` (paid; the caller's reference echoed) and `refusal` is set."""

    reference: str | None
    refusal: PayoutRefusal | None

    @property
    def paid(self) -> bool:
        return self.refusal is None


class Bank(Protocol):
    def bank_names(self) -> tuple[str, ...]:
        """The opening banks the service offers (RNE-4)."""
        ...

    async def pay_out(
        self, *, bank_name: str, account_name: str, account_number: str, amount_fen: int, reference: str
    ) -> PayoutResult:
        """Pay `amount_fen` into the account. Raise `ProviderUnavailable` when the bank cannot answer."""
        ...


class SandboxBank:
    def bank_names(self) -> tuple[str, ...]:
        return BANKS

    async def pay_out(
        self, *, bank_name: str, account_name: str, account_number: str, amount_fen: int, reference: str
    ) -> PayoutResult:
        if amount_fen <= 0:
            raise ValueError("a payout is a positive number of fen")
        if bank_name not in BANKS:
            return PayoutResult(None, PayoutRefusal.BANK_NAME_WRONG)
        if account_number.endswith(SANDBOX_ACCOUNT_MISMATCH_ENDING):
            return PayoutResult(None, PayoutRefusal.ACCOUNT_MISMATCH)
        if account_number.endswith(SANDBOX_CANNOT_RECEIVE_ENDING):
            return PayoutResult(None, PayoutRefusal.CANNOT_RECEIVE)
        return PayoutResult(reference, None)


class UnconfiguredBank:
    """Outside sandbox mode, until a real adapter is configured: no payout can be made.

    The list of banks is the service's own offer, not the bank's answer, so it is still shown."""

    def bank_names(self) -> tuple[str, ...]:
        return BANKS

    async def pay_out(
        self, *, bank_name: str, account_name: str, account_number: str, amount_fen: int, reference: str
    ) -> PayoutResult:
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
