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
    CHANGE_NOT_ELIGIBLE_ONLINE = "CHANGE_NOT_ELIGIBLE_ONLINE"  # CHG-3: contact the account manager instead
    CHANGE_USCC_UNCHANGED = "CHANGE_USCC_UNCHANGED"  # CHG-3: the new enterprise has another USCC (else CHG-2)
    CHANGE_REASON_INVALID = "CHANGE_REASON_INVALID"  # CHG-3: 1 to 500 characters
    APPLICATION_IN_PROGRESS = "APPLICATION_IN_PROGRESS"  # a verification of the account is still running
    DOCUMENT_NOT_FOUND = "DOCUMENT_NOT_FOUND"  # ORG-3: an upload that is not the account's
    NAME_UNCHANGED = "NAME_UNCHANGED"  # CHG-2: the new name is the verified name
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"  # CHG-2: the business registry; CHG-3: the eligibility service
    MATERIAL_MISSING = "MATERIAL_MISSING"  # REV-4: an answer to a request for more material with no upload
    TOO_MANY_UPLOADS = "TOO_MANY_UPLOADS"  # REV-4: at most 10 uploads in one answer
    SAME_PERSON = "SAME_PERSON"  # CHG-5: the new person is the account's current person
