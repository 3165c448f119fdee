"""Who is on the other end of a request, as the services see it (no web framework here)."""

from __future__ import annotations

from dataclasses import dataclass

USER_AGENT_MAX = 256  # stored user agents are cut to this length (sessions, security events)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None

    @property
    def stored_user_agent(self) -> str | None:
        """The user agent as stored: cut to USER_AGENT_MAX, None when empty."""
        return (self.user_agent or "")[:USER_AGENT_MAX] or None
