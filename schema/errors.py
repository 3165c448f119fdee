"""One error model for the whole API: `UserError` with one `ErrorCode` enum.

Every expected failure of a mutation is a `UserError` in its payload's `errors`, never a top-level
GraphQL error, so a client needs one fragment (`... on Error { message code path }`) and one switch.
Each domain keeps its own typed codes (services/*/errors.py); the edge maps them by name onto
`ErrorCode`, and tests prove every domain code has its value and every value is described.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types.enum import has_enum_definition

import logs
from schema.enums import COMMON, SPECIFIC
from schema.error_returns import REST_RETURNS, RETURNS
from schema.observability import note_user_error
from services.errors import ServiceError

log = logs.get_logger("account_center.graphql")


class ErrorCode(Enum):
    """What went wrong, for every expected failure of the API (and of `POST /uploads`)."""

    ACCOUNT_DAILY_LIMIT_REACHED = "ACCOUNT_DAILY_LIMIT_REACHED"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    ACCOUNT_NUMBER_INVALID = "ACCOUNT_NUMBER_INVALID"
    ADDRESS_LIMIT_REACHED = "ADDRESS_LIMIT_REACHED"
    AGE_BELOW_MINIMUM = "AGE_BELOW_MINIMUM"
    AGREEMENTS_REQUIRED = "AGREEMENTS_REQUIRED"
    AGREEMENT_VERSION_OUTDATED = "AGREEMENT_VERSION_OUTDATED"
    ALREADY_ACTIVATED = "ALREADY_ACTIVATED"
    ALREADY_STUDENT = "ALREADY_STUDENT"
    ALREADY_VERIFIED = "ALREADY_VERIFIED"
    AMOUNT_DEADLINE_PASSED = "AMOUNT_DEADLINE_PASSED"
    AMOUNT_FORMAT_INVALID = "AMOUNT_FORMAT_INVALID"
    AMOUNT_WRONG = "AMOUNT_WRONG"
    AMOUNT_WRONG_TWICE = "AMOUNT_WRONG_TWICE"
    APPEAL_ALREADY_OPEN = "APPEAL_ALREADY_OPEN"
    APPEAL_NOT_FOUND = "APPEAL_NOT_FOUND"
    APPEAL_TOKEN_INVALID = "APPEAL_TOKEN_INVALID"
    APPLICATION_IN_PROGRESS = "APPLICATION_IN_PROGRESS"
    VERIFICATION_REQUIRED = "VERIFICATION_REQUIRED"
    CHANGE_NOT_SUPPORTED = "CHANGE_NOT_SUPPORTED"
    CHANGE_IN_PROGRESS = "CHANGE_IN_PROGRESS"
    CHANGE_TOO_SOON = "CHANGE_TOO_SOON"
    CHANGE_NOT_FOUND = "CHANGE_NOT_FOUND"
    CHANGE_STEP_NOT_CURRENT = "CHANGE_STEP_NOT_CURRENT"
    CHANGE_ENDED = "CHANGE_ENDED"
    CHANGE_EXPIRED = "CHANGE_EXPIRED"
    SAME_PERSON = "SAME_PERSON"
    CHANGE_ORGANISATION_MISMATCH = "CHANGE_ORGANISATION_MISMATCH"
    CHANGE_NOT_ELIGIBLE_ONLINE = "CHANGE_NOT_ELIGIBLE_ONLINE"
    CHANGE_USCC_UNCHANGED = "CHANGE_USCC_UNCHANGED"
    CHANGE_REASON_INVALID = "CHANGE_REASON_INVALID"
    NAME_UNCHANGED = "NAME_UNCHANGED"
    TOO_MANY_UPLOADS = "TOO_MANY_UPLOADS"
    APPLICATION_NOT_FOUND = "APPLICATION_NOT_FOUND"
    EXPORT_NOT_FOUND = "EXPORT_NOT_FOUND"
    EXPORT_TOO_LARGE = "EXPORT_TOO_LARGE"
    CANCELLATION_NOT_FOUND = "CANCELLATION_NOT_FOUND"
    CANCELLATION_STEP_NOT_CURRENT = "CANCELLATION_STEP_NOT_CURRENT"
    PRECHECK_UNMET = "PRECHECK_UNMET"
    FORFEITURE_NOT_ACKNOWLEDGED = "FORFEITURE_NOT_ACKNOWLEDGED"
    CONFIRMATION_STALE = "CONFIRMATION_STALE"
    APPLICATION_SUPERSEDED = "APPLICATION_SUPERSEDED"
    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    AUTHORISATION_LETTER_REQUIRED = "AUTHORISATION_LETTER_REQUIRED"
    AUTHORISED_EMPLOYEE_NOT_ALLOWED = "AUTHORISED_EMPLOYEE_NOT_ALLOWED"
    BANK_CARD_ATTEMPTS_EXHAUSTED = "BANK_CARD_ATTEMPTS_EXHAUSTED"
    BANK_NAME_WRONG = "BANK_NAME_WRONG"
    BOT_CHECK_FAILED = "BOT_CHECK_FAILED"
    BOT_CHECK_UNAVAILABLE = "BOT_CHECK_UNAVAILABLE"
    CARD_ELEMENTS_MISMATCH = "CARD_ELEMENTS_MISMATCH"
    CERTIFICATE_REQUIRED = "CERTIFICATE_REQUIRED"
    CARD_NOT_UNIONPAY = "CARD_NOT_UNIONPAY"
    CARD_NUMBER_INVALID = "CARD_NUMBER_INVALID"
    CODE_ATTEMPTS_EXHAUSTED = "CODE_ATTEMPTS_EXHAUSTED"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_FORMAT_INVALID = "CODE_FORMAT_INVALID"
    CODE_INVALID = "CODE_INVALID"
    CODE_REQUIRED = "CODE_REQUIRED"
    DAILY_LIMIT_REACHED = "DAILY_LIMIT_REACHED"
    DESTINATION_NOT_ALLOWED = "DESTINATION_NOT_ALLOWED"
    DESTINATION_REQUIRED = "DESTINATION_REQUIRED"
    DOCUMENT_LIMIT_REACHED = "DOCUMENT_LIMIT_REACHED"
    DOCUMENT_NOT_FOUND = "DOCUMENT_NOT_FOUND"
    DOCUMENT_NUMBER_INVALID = "DOCUMENT_NUMBER_INVALID"
    EMAIL_NOT_EDU = "EMAIL_NOT_EDU"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    ENTERPRISE_ATTEMPTS_EXHAUSTED = "ENTERPRISE_ATTEMPTS_EXHAUSTED"
    FACE_DAILY_LIMIT_REACHED = "FACE_DAILY_LIMIT_REACHED"
    FACTOR_NOT_ENABLED = "FACTOR_NOT_ENABLED"
    FILE_REQUIRED = "FILE_REQUIRED"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_TYPE_MISMATCH = "FILE_TYPE_MISMATCH"
    GRADUATION_INVALID = "GRADUATION_INVALID"
    GRADUATION_IN_PAST = "GRADUATION_IN_PAST"
    IDENTITY_NOT_FOUND = "IDENTITY_NOT_FOUND"
    ID_NUMBER_INVALID = "ID_NUMBER_INVALID"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    INVALID_ACCOUNT_ID = "INVALID_ACCOUNT_ID"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_USERNAME = "INVALID_USERNAME"
    LEGAL_REP_MISMATCH = "LEGAL_REP_MISMATCH"
    LOGIN_CHALLENGE_ATTEMPTS_EXHAUSTED = "LOGIN_CHALLENGE_ATTEMPTS_EXHAUSTED"
    LOGIN_CHALLENGE_EXPIRED = "LOGIN_CHALLENGE_EXPIRED"
    LOGIN_CHALLENGE_INVALID = "LOGIN_CHALLENGE_INVALID"
    LOGIN_NAME_INVALID = "LOGIN_NAME_INVALID"
    LOGIN_NAME_REQUIRED = "LOGIN_NAME_REQUIRED"
    LOOKUP_LIMIT_REACHED = "LOOKUP_LIMIT_REACHED"
    MATERIAL_DUPLICATE = "MATERIAL_DUPLICATE"
    MATERIAL_MISSING = "MATERIAL_MISSING"
    MATERIAL_NOT_EXPECTED = "MATERIAL_NOT_EXPECTED"
    METHOD_NOT_OFFERED = "METHOD_NOT_OFFERED"
    MFA_BINDING_NOT_STARTED = "MFA_BINDING_NOT_STARTED"
    MFA_BIND_CODES_INVALID = "MFA_BIND_CODES_INVALID"
    MFA_DEVICE_ALREADY_BOUND = "MFA_DEVICE_ALREADY_BOUND"
    MFA_DEVICE_NOT_BOUND = "MFA_DEVICE_NOT_BOUND"
    NAME_INVALID = "NAME_INVALID"
    NAME_MISMATCH = "NAME_MISMATCH"
    NAME_REQUIRED = "NAME_REQUIRED"
    NETWORK_DAILY_LIMIT_REACHED = "NETWORK_DAILY_LIMIT_REACHED"
    NOT_AN_IMAGE = "NOT_AN_IMAGE"
    NOT_AWAITING_AMOUNT = "NOT_AWAITING_AMOUNT"
    NOT_A_PORTAL_ACCOUNT = "NOT_A_PORTAL_ACCOUNT"
    NOT_WAITING_FOR_MATERIAL = "NOT_WAITING_FOR_MATERIAL"
    NO_PENDING_APPLICATION = "NO_PENDING_APPLICATION"
    ORGANISATION_NAME_INVALID = "ORGANISATION_NAME_INVALID"
    ORGANISATION_NOT_FOUND = "ORGANISATION_NOT_FOUND"
    OWN_LOGIN_NAME_REQUIRED = "OWN_LOGIN_NAME_REQUIRED"
    PASSWORD_SAME_AS_PHONE = "PASSWORD_SAME_AS_PHONE"
    PASSWORD_SAME_AS_USERNAME = "PASSWORD_SAME_AS_USERNAME"
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    PAYMENT_LICENCE_HOLDER = "PAYMENT_LICENCE_HOLDER"
    PAYOUT_NOT_ARRIVED = "PAYOUT_NOT_ARRIVED"
    PERSONAL_VERIFICATION_REQUIRED = "PERSONAL_VERIFICATION_REQUIRED"
    PHONE_PORTAL_QUOTA_REACHED = "PHONE_PORTAL_QUOTA_REACHED"
    PHONE_QUOTA_REACHED = "PHONE_QUOTA_REACHED"
    PHONE_UNCHANGED = "PHONE_UNCHANGED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    QR_LOGIN_NOT_AVAILABLE = "QR_LOGIN_NOT_AVAILABLE"
    QR_TICKET_EXPIRED = "QR_TICKET_EXPIRED"
    QR_TICKET_NOT_FOUND = "QR_TICKET_NOT_FOUND"
    QR_TICKET_PENDING = "QR_TICKET_PENDING"
    QR_TICKET_USED = "QR_TICKET_USED"
    RECHARGE_DAILY_LIMIT_REACHED = "RECHARGE_DAILY_LIMIT_REACHED"
    RECOVERY_CODE_INVALID = "RECOVERY_CODE_INVALID"
    REGISTERED_RECENTLY = "REGISTERED_RECENTLY"
    RESEND_TOO_SOON = "RESEND_TOO_SOON"
    RESERVED_PHONE_MISMATCH = "RESERVED_PHONE_MISMATCH"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    STEP_UP_FACTOR_NOT_ALLOWED = "STEP_UP_FACTOR_NOT_ALLOWED"
    STEP_UP_INVALID = "STEP_UP_INVALID"
    STEP_UP_REQUIRED = "STEP_UP_REQUIRED"
    TICKET_INVALID = "TICKET_INVALID"
    TIMEOUT_OUT_OF_RANGE = "TIMEOUT_OUT_OF_RANGE"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    TOTP_CODE_INVALID = "TOTP_CODE_INVALID"
    TOTP_CODE_USED = "TOTP_CODE_USED"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    UPLOAD_QUOTA_REACHED = "UPLOAD_QUOTA_REACHED"
    USCC_INVALID = "USCC_INVALID"
    USERNAME_CHANGE_TOO_SOON = "USERNAME_CHANGE_TOO_SOON"
    USERNAME_CHECK_LIMIT_REACHED = "USERNAME_CHECK_LIMIT_REACHED"
    USERNAME_IMMUTABLE = "USERNAME_IMMUTABLE"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    VALUE_INVALID = "VALUE_INVALID"
    VALUE_REQUIRED = "VALUE_REQUIRED"
    VALUE_TOO_LONG = "VALUE_TOO_LONG"
    WRONG_PASSWORD = "WRONG_PASSWORD"


# Codes answered by a mutation that does not declare them, by mutation: a bug the tests look for.
UNDECLARED: set[tuple[str, str]] = set()


def returned_by(code: ErrorCode) -> list[str]:
    """The mutations (and routes) that may answer with `code`, in schema order."""
    return [name for name, names in (RETURNS | REST_RETURNS).items() if code.name in names]


def _describe(code: ErrorCode) -> str:
    where = ", ".join(f"`{name}`" for name in returned_by(code))
    return f"{(COMMON | SPECIFIC)[code.name]} Returned by {where}."


_registered = strawberry.enum(
    ErrorCode,
    description="What went wrong: the `code` of every `UserError`. One enum for the whole API, so a client "
    "switches on it once; each value says what it means and which mutations return it.",
)
if has_enum_definition(_registered):
    for _value in _registered.__strawberry_definition__.values:
        _value.description = _describe(ErrorCode[_value.name])


@strawberry.interface(
    description="An expected failure: switch on `code`, show `message`, mark the input field at `path`."
)
class Error:
    message: str = strawberry.field(description="A human-readable explanation; do not parse it.")
    code: ErrorCode = strawberry.field(description="What went wrong; switch on it.")
    path: list[str] | None = strawberry.field(
        description="Where in the operation's arguments the problem is, from the argument down: "
        '`["input", "organisation", "name"]`, `["input", "agreements", "1"]`. Null when the error is about '
        "the request as a whole (no session, a limit, a provider that did not answer)."
    )


@strawberry.type(
    description="Why a mutation was refused. Several may come back together when the input has several "
    "problems that need no state to find (formats, lengths, required values), so a form can mark every field "
    "at once; a refusal that depends on state comes alone."
)
class UserError(Error):
    retry_after: int | None = strawberry.field(
        default=None, description="Seconds to wait before trying again, when waiting helps; null otherwise."
    )
    attempts_remaining: int | None = strawberry.field(
        default=None,
        description="Tries left before the code, ticket, method or account is locked, when they are counted; "
        "null otherwise.",
    )

    @classmethod
    def of(cls, err: ServiceError) -> UserError:
        return cls(
            message=err.message,
            code=ErrorCode[err.code.name],
            path=input_path(err.field),
            retry_after=err.retry_after,
            attempts_remaining=err.attempts_remaining,
        )


def input_path(field: str | None) -> list[str] | None:
    """A service's dotted field (`organisation.name`) as the input path `["input", "organisation", "name"]`."""
    return None if field is None else ["input", *field.split(".")]


def user_errors(info: Any, err: ServiceError) -> list[UserError]:
    """Every problem `err` reports, as the payload's `errors` of the mutation `info` resolves.

    A code the mutation does not declare in RETURNS is still reported (the client gets the truth) but is
    logged as a bug, so tests and the fuzz run catch a service raising what its mutation does not document."""
    mutation = getattr(info, "field_name", None)
    declared = RETURNS.get(mutation or "", frozenset())
    errors = []
    for problem in err.errors:
        if problem.code.name not in declared:
            log.error("undeclared_error_code", mutation=mutation, code=problem.code.name)
            UNDECLARED.add((str(mutation), problem.code.name))
        note_user_error(problem.code.name)
        errors.append(UserError.of(problem))
    return errors


def rest_errors(err: ServiceError) -> list[dict[str, Any]]:
    """The same model as JSON for the REST routes: `code`, `message`, `path` (and `retryAfter`)."""
    out: list[dict[str, Any]] = []
    for problem in err.errors:
        item: dict[str, Any] = {
            "code": ErrorCode[problem.code.name].value,
            "message": problem.message,
            "path": None if problem.field is None else problem.field.split("."),
        }
        if problem.retry_after is not None:
            item["retryAfter"] = problem.retry_after
        out.append(item)
    return out
