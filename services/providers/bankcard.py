"""Bank-card four-element check (RNP-4, RNP-5): name, ID number, card number and reserved phone.

The sandbox (docs/sandbox.md "Bank-card four-element check"):
- cards whose four digits before the check digit are `9999`: the elements do not match;
- reserved phone `13800000002`: the reserved phone does not match;
- everything else matches.
The caller refuses a card that fails Luhn or is not UnionPay (`62...`) before any call.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

SANDBOX_MISMATCH_DIGITS = "9999"
SANDBOX_WRONG_RESERVED_PHONE = "+8613800000002"


class BankCardAnswer(Enum):
    MATCH = "MATCH"
    ELEMENTS_MISMATCH = "ELEMENTS_MISMATCH"
    RESERVED_PHONE_MISMATCH = "RESERVED_PHONE_MISMATCH"


class BankCardCheck(Protocol):
    async def check(self, *, name: str, id_number: str, card_number: str, reserved_phone: str) -> BankCardAnswer:
        """`reserved_phone` in E.164. Raise `ProviderUnavailable` when the check cannot answer."""
        ...


class SandboxBankCardCheck:
    async def check(self, *, name: str, id_number: str, card_number: str, reserved_phone: str) -> BankCardAnswer:
        if card_number[-5:-1] == SANDBOX_MISMATCH_DIGITS:
            return BankCardAnswer.ELEMENTS_MISMATCH
        if reserved_phone == SANDBOX_WRONG_RESERVED_PHONE:
            return BankCardAnswer.RESERVED_PHONE_MISMATCH
        return BankCardAnswer.MATCH
