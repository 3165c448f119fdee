"""The signed-in caller as services see it: the account and the session it acts through."""

from __future__ import annotations

from dataclasses import dataclass

from models.accounts import Account
from models.auth import AuthSession


@dataclass(frozen=True, slots=True)
class Viewer:
    account: Account
    session: AuthSession
    needs_touch: bool = False

    @property
    def session_id(self) -> int:
        return self.session.id
