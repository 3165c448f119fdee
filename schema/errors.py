"""Payload errors: every expected failure is one of these, never a top-level GraphQL error."""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Self

import strawberry

from schema.enums import (
    AccountErrorCode,
    AppealErrorCode,
    AuthErrorCode,
    CodeErrorCode,
    MfaErrorCode,
    RecoveryErrorCode,
    StudentErrorCode,
    VerificationErrorCode,
)
from schema.observability import note_user_error
from services.errors import ServiceError


@strawberry.interface(description="An expected failure of a mutation: switch on `code`, show `message`.")
class Error:
    field: str | None = strawberry.field(
        description="The input field (camelCase) the error is about; null when it is about the whole input."
    )
    message: str = strawberry.field(description="A human-readable explanation; do not parse it.")
    retry_after: int | None = strawberry.field(
        default=None, description="Seconds to wait before trying again, when waiting helps."
    )
    attempts_remaining: int | None = strawberry.field(
        default=None, description="Tries left before the code, ticket or account is locked, when counted."
    )

    code_enum: ClassVar[type[Enum]]

    @classmethod
    def from_service(cls, err: ServiceError) -> Self:
        """The payload error for a service error. A code raised by a lower service (a code check inside
        registration, say) maps by name onto this payload's enum; a missing name is a bug tests catch."""
        code = err.code if isinstance(err.code, cls.code_enum) else cls.code_enum[err.code.name]
        note_user_error(code.name)
        return cls(
            field=err.field,
            message=err.message,
            code=code,  # type: ignore[call-arg]  # `code` is declared by each concrete error type
            retry_after=err.retry_after,
            attempts_remaining=err.attempts_remaining,
        )


@strawberry.type(description="Why an account operation was refused.")
class AccountError(Error):
    code_enum = AccountErrorCode
    code: AccountErrorCode = strawberry.field(description="What went wrong; switch on it.")


@strawberry.type(description="Why a sign-in, session or QR login step was refused.")
class AuthError(Error):
    code_enum = AuthErrorCode
    code: AuthErrorCode = strawberry.field(description="What went wrong; switch on it.")


@strawberry.type(description="Why a one-time code was not sent.")
class VerificationCodeError(Error):
    code_enum = CodeErrorCode
    code: CodeErrorCode = strawberry.field(description="What went wrong; switch on it.")


@strawberry.type(description="Why a second-factor challenge was refused.")
class MfaError(Error):
    code_enum = MfaErrorCode
    code: MfaErrorCode = strawberry.field(description="What went wrong; switch on it.")


@strawberry.type(description="Why an appeal could not be filed or answered.")
class AppealError(Error):
    code_enum = AppealErrorCode
    code: AppealErrorCode = strawberry.field(description="What went wrong; switch on it.")


@strawberry.type(description="Why a recovery step was refused.")
class RecoveryError(Error):
    code_enum = RecoveryErrorCode
    code: RecoveryErrorCode = strawberry.field(description="What went wrong; switch on it.")


@strawberry.type(description="Why a real-name verification step was refused.")
class VerificationError(Error):
    code_enum = VerificationErrorCode
    code: VerificationErrorCode = strawberry.field(description="What went wrong; switch on it.")


@strawberry.type(description="Why a student-status application or confirmation was refused.")
class StudentStatusError(Error):
    code_enum = StudentErrorCode
    code: StudentErrorCode = strawberry.field(description="What went wrong; switch on it.")
