"""Liveness (face) check (RNP-2, RNP-3; later RNE-2..4 and CHG-3..5).

The service creates a single-use ticket and asks the provider where the phone should go; the
provider reports the outcome back through the service's callback (`verification.face.complete`),
never through the client that submitted the verification. The sandbox's "phone" is the page
`/sandbox/face/{ticket}` with Pass and Fail buttons (docs/sandbox.md "Face (liveness) check").
"""

from __future__ import annotations

from typing import Protocol


class Liveness(Protocol):
    async def start(self, *, ticket: str, name: str, document_type: str) -> str:
        """Open a liveness session for `ticket`; return the URL the user's phone opens (as a QR code).
        Raise `ProviderUnavailable` when the provider cannot open one."""
        ...


class SandboxLiveness:
    def __init__(self, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")

    async def start(self, *, ticket: str, name: str, document_type: str) -> str:
        return f"{self.public_url}/sandbox/face/{ticket}"
