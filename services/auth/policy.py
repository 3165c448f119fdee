"""AUTH-5 throttling policy, shared by sign-in and the current-password check of a password change."""

from __future__ import annotations

from datetime import timedelta

THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_MAX_FAILURES = 5
ACCOUNT_LOCK = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20
ADDRESS_LOCK = timedelta(minutes=15)


def retry_after_seconds(until_seconds: float) -> int:
    return max(1, int(until_seconds + 0.999))
