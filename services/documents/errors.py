from __future__ import annotations

from enum import Enum


class DocumentErrorCode(Enum):
    """Why an uploaded document was refused (ORG-2). A refused file is never stored."""

    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    FILE_REQUIRED = "FILE_REQUIRED"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    NOT_AN_IMAGE = "NOT_AN_IMAGE"
    FILE_TYPE_MISMATCH = "FILE_TYPE_MISMATCH"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    DOCUMENT_NOT_FOUND = "DOCUMENT_NOT_FOUND"
    # The account's uploads for today (Asia/Shanghai) are used up; HTTP 429 with Retry-After.
    UPLOAD_QUOTA_REACHED = "UPLOAD_QUOTA_REACHED"
