"""The signed-in caller as services see it: the account and the session it acts through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.accounts import Account
from services.client import ClientInfo

SIGN_IN_FIRST = "Sign in first: the session is missing or has expired."  # the answer without a live session


@dataclass(frozen=True, slots=True)
class Viewer:
    account: Account
    session_id: int
    last_seen_at: datetime
    needs_touch: bool = False
    client: ClientInfo | None = None  # the request's client, for the security history (HIST-1)
