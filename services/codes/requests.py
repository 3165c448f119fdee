"""The public "send me a code" use case: which purposes go where, and who may ask (CODE-2)."""

from __future__ import annotations

from enum import Enum
from functools import partial

from services.accounts import phones
from services.codes import service as codes
from services.codes.errors import CodeErrorCode
from services.codes.purposes import CodePurpose
from services.errors import Problems, ServiceError
from services.identifiers import normalize_email, normalize_phone
from services.uow import Uow
from services.verification import personal
from services.verification.changes import identity
from services.viewer import Viewer


class CodeSendPurpose(Enum):
    """The purposes `request_code` sends codes for (CODE-2): every `CodePurpose` but those of `OWN_FLOW`."""

    REGISTRATION = "REGISTRATION"
    LOGIN = "LOGIN"
    PHONE_CHANGE_NEW = "PHONE_CHANGE_NEW"
    EMAIL_BIND = "EMAIL_BIND"
    OPERATION = "OPERATION"
    BANK_CARD = "BANK_CARD"
    REMITTANCE_ACCOUNT = "REMITTANCE_ACCOUNT"

    @property
    def purpose(self) -> CodePurpose:
        return CodePurpose(self.value)


ANONYMOUS_PHONE = {CodePurpose.REGISTRATION, CodePurpose.LOGIN}
# BANK_CARD goes to the phone reserved at the bank, which need not be the bound phone (RNP-4).
SIGNED_IN_PHONE = {CodePurpose.PHONE_CHANGE_NEW, CodePurpose.BANK_CARD}
SIGNED_IN_EMAIL = {CodePurpose.EMAIL_BIND}
# REMITTANCE_ACCOUNT: creating the dedicated remittance account of recharge verification (RNE-8).
BOUND_PHONE = {CodePurpose.OPERATION, CodePurpose.REMITTANCE_ACCOUNT}
# These are sent only by their own mutations, so `CodeSendPurpose` leaves them out: the recovery codes
# go to the bound phone of an account the user names, with a bot check, and never reveal the phone
# (REC-1, REC-2); the student e-mail code goes to the school address of a checked application (STU-2,
# STU-3); the login-challenge code goes to the bound phone of a pending sign-in (AUTH-6).
OWN_FLOW = {
    CodePurpose.PASSWORD_RESET: "passwordResetStart",
    CodePurpose.ACCOUNT_REVEAL: "accountRecoveryLookup",
    CodePurpose.STUDENT_EMAIL: "studentStatusApply",
    CodePurpose.LOGIN_CHALLENGE: "loginChallengeCodeSend",
}


async def request_code(
    uow: Uow,
    viewer: Viewer | None,
    requested: CodeSendPurpose,
    phone: str | None,
    email: str | None,
    client_ip: str | None,
    change_id: int | None = None,
) -> codes.SentCode:
    """Send a code of `requested` purpose where it may go; `client_ip` is the caller's address (per-address
    caps). Who may ask first; then the destination fields, every problem at once; then the limits."""
    purpose = requested.purpose
    if purpose not in ANONYMOUS_PHONE and viewer is None:
        raise ServiceError(CodeErrorCode.AUTHENTICATION_REQUIRED, "Sign in first.", None)
    channel, destination = _destination(purpose, phone, email)
    if change_id is not None and purpose is not CodePurpose.BANK_CARD:
        raise ServiceError(
            CodeErrorCode.DESTINATION_NOT_ALLOWED, "Only a BANK_CARD code is sent for a subject change.", "changeId"
        )
    if purpose is CodePurpose.BANK_CARD:
        assert viewer is not None
        if change_id is not None:  # CHG-4, CHG-5: for the change's current step
            await identity.check_code(uow, viewer.account.id, change_id)
        await personal.check_bank_card_code(uow, viewer.account.id, in_change=change_id is not None)
    if destination is None:  # BOUND_PHONE
        assert viewer is not None
        destination = viewer.account.phone
    # REG-3, refused early: no registration code to a phone that cannot register another cloud account,
    # so nobody types a code, a name and a password only to be refused. The quota is read only once the
    # send's budgets are reserved, and the refusal keeps them spent (`codes.send`): it costs what a send
    # costs. Registration checks the quota again (it can fill between the send and the registration).
    refuse = partial(phones.registration_refusal, uow, destination) if purpose is CodePurpose.REGISTRATION else None
    return await codes.send(
        uow,
        channel=channel,
        destination=destination,
        purpose=purpose,
        client_ip=client_ip,
        account_id=viewer.account.id if viewer else None,
        refuse=refuse,
    )


def _destination(purpose: CodePurpose, phone: str | None, email: str | None) -> tuple[str, str | None]:
    """The channel and the normalised destination the input names for `purpose` (None: the bound phone),
    or every problem of the `phone` and `email` fields at once."""
    problems = Problems()
    if purpose in BOUND_PHONE:
        for field, value in (("phone", phone), ("email", email)):
            if value:
                problems.add(
                    CodeErrorCode.DESTINATION_NOT_ALLOWED,
                    "This code always goes to the bound phone; leave phone and email empty.",
                    field,
                )
        channel, destination = "sms", None
    elif purpose in SIGNED_IN_EMAIL:
        if phone:
            problems.add(CodeErrorCode.DESTINATION_NOT_ALLOWED, "This code goes to an e-mail address.", "phone")
        destination = normalize_email(email) if email else None
        if not email:
            problems.add(CodeErrorCode.DESTINATION_REQUIRED, "Enter the e-mail address.", "email")
        elif destination is None:
            problems.add(CodeErrorCode.INVALID_EMAIL, "Enter a valid e-mail address.", "email")
        channel = "email"
    else:
        destination = normalize_phone(phone) if phone else None
        if not phone:
            problems.add(CodeErrorCode.DESTINATION_REQUIRED, "Enter the phone number.", "phone")
        elif destination is None:
            problems.add(CodeErrorCode.INVALID_PHONE, "Enter a mainland mobile number (11 digits).", "phone")
        if email:
            problems.add(CodeErrorCode.DESTINATION_NOT_ALLOWED, "This code goes to a phone.", "email")
        channel = "sms"
    if (refusal := problems.refusal()) is not None:
        raise refusal
    return channel, destination
