from __future__ import annotations

from enum import Enum


class LifecycleErrorCode(Enum):
    """Why a data export or a cancellation step was refused (issue 15 item 3, CAN-1..5). Nothing changed."""

    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    EXPORT_NOT_FOUND = "EXPORT_NOT_FOUND"  # unknown, another account's or expired: alike
    EXPORT_TOO_LARGE = "EXPORT_TOO_LARGE"  # the document would pass MAX_EXPORT_BYTES
    AGREEMENT_VERSION_OUTDATED = "AGREEMENT_VERSION_OUTDATED"  # CAN-4: the cancellation agreement, current version
    CANCELLATION_NOT_FOUND = "CANCELLATION_NOT_FOUND"  # no such flow of this account (start first)
    CANCELLATION_STEP_NOT_CURRENT = "CANCELLATION_STEP_NOT_CURRENT"  # CAN-4: a step out of order
    PRECHECK_UNMET = "PRECHECK_UNMET"  # CAN-2: a blocker stands
    FORFEITURE_NOT_ACKNOWLEDGED = "FORFEITURE_NOT_ACKNOWLEDGED"  # CAN-3
    CONFIRMATION_STALE = "CONFIRMATION_STALE"  # CAN-4: not the latest token, or the standing changed since
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"  # CAN-2: the outside systems did not answer
