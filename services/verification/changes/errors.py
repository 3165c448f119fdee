from __future__ import annotations

from enum import Enum


class ChangeErrorCode(Enum):
    """Why a subject-change step was refused (CHG-1..7)."""

    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    VERIFICATION_REQUIRED = "VERIFICATION_REQUIRED"  # only a verified account changes its subject
    CHANGE_NOT_SUPPORTED = "CHANGE_NOT_SUPPORTED"  # CHG-1, or a kind that does not start from this subject
    CHANGE_IN_PROGRESS = "CHANGE_IN_PROGRESS"  # one open change per account
    CHANGE_TOO_SOON = "CHANGE_TOO_SOON"  # CHG-6: one completed change per 30 days
    CHANGE_NOT_FOUND = "CHANGE_NOT_FOUND"
    CHANGE_STEP_NOT_CURRENT = "CHANGE_STEP_NOT_CURRENT"  # the change is at another step
    CHANGE_ENDED = "CHANGE_ENDED"  # completed, rejected, withdrawn or lapsed
    CHANGE_EXPIRED = "CHANGE_EXPIRED"  # its step's deadline passed (CHG-3: 9 days, CHG-5: 1 day)
    AGREEMENT_VERSION_OUTDATED = "AGREEMENT_VERSION_OUTDATED"
    CHANGE_ORGANISATION_MISMATCH = "CHANGE_ORGANISATION_MISMATCH"  # CHG-3: not the organisation named in the change
    APPLICATION_IN_PROGRESS = "APPLICATION_IN_PROGRESS"  # a verification of the account is still running
    SAME_PERSON = "SAME_PERSON"  # CHG-5: the new person is the account's current person
