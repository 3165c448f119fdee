"""Identity registry (RNP-2, RNP-4, RN-4): does this document exist, and is it held by this name?

The sandbox (docs/sandbox.md "Identity registry") knows every valid mainland ID number with the name that
was submitted, except:
- sequence code (characters 15-17) `999`: not found;
- name `王不符`: the name does not match the number.
Other documents are accepted when non-empty; the number `X0000000` is not found.
The caller checks the GB 11643 check digit before any call (RNP-6).
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

SANDBOX_NAME_MISMATCH = "王不符"
SANDBOX_UNKNOWN_SEQUENCE = "999"
SANDBOX_UNKNOWN_OTHER_DOCUMENT = "X0000000"


class RegistryAnswer(Enum):
    MATCH = "MATCH"
    NOT_FOUND = "NOT_FOUND"
    NAME_MISMATCH = "NAME_MISMATCH"


class IdentityRegistry(Protocol):
    async def check(self, *, document_type: str, name: str, number: str) -> RegistryAnswer:
        """Raise `ProviderUnavailable` when the registry cannot answer."""
        ...


class SandboxIdentityRegistry:
    async def check(self, *, document_type: str, name: str, number: str) -> RegistryAnswer:
        if document_type != "MAINLAND_ID_CARD":
            ok = number and number != SANDBOX_UNKNOWN_OTHER_DOCUMENT
            return RegistryAnswer.MATCH if ok else RegistryAnswer.NOT_FOUND
        if number[14:17] == SANDBOX_UNKNOWN_SEQUENCE:
            return RegistryAnswer.NOT_FOUND
        if name == SANDBOX_NAME_MISMATCH:
            return RegistryAnswer.NAME_MISMATCH
        return RegistryAnswer.MATCH
