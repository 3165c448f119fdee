"""The public "send me a code" use case: which purposes go where, and who may ask (CODE-2)."""

from __future__ import annotations

from services.codes import service as codes
from services.codes.errors import CodeErrorCode
from services.codes.purposes import CodePurpose
from services.errors import ServiceError
from services.identifiers import normalize_email, normalize_phone
from services.uow import Uow
from services.verification import personal
from services.viewer import Viewer

ANONYMOUS_PHONE = {CodePurpose.REGISTRATION, CodePurpose.LOGIN}
# BANK_CARD goes to the phone reserved at the bank, which need not be the bound phone (RNP-4).
SIGNED_IN_PHONE = {CodePurpose.PHONE_CHANGE_NEW, CodePurpose.BANK_CARD}
SIGNED_IN_EMAIL = {CodePurpose.EMAIL_BIND}
# REMITTANCE_ACCOUNT: creating the dedicated remittance account of recharge verification (RNE-8).
BOUND_PHONE = {CodePurpose.OPERATION, CodePurpose.REMITTANCE_ACCOUNT}
# These are sent only by their own mutations: the recovery codes go to the bound phone of an account
# the user names, with a bot check, and never reveal the phone (REC-1, REC-2); the student e-mail code
# goes to the school address of a checked application (STU-2, STU-3).
OWN_FLOW = {
    CodePurpose.PASSWORD_RESET: "passwordResetStart",
    CodePurpose.ACCOUNT_REVEAL: "accountRecoveryLookup",
    CodePurpose.STUDENT_EMAIL: "studentStatusApply",
    CodePurpose.LOGIN_CHALLENGE: "loginChallengeCodeSend",
}


async def request_code(
    uow: Uow,
    viewer: Viewer | None,
    purpose: CodePurpose,
    phone: str | None,
    email: str | None,
    client_ip: str | None,
) -> codes.SentCode:
    """Send a code of `purpose` where it may go; `client_ip` is the caller's address (per-address caps)."""
    if purpose in OWN_FLOW:
        raise ServiceError(
            CodeErrorCode.PURPOSE_NOT_ALLOWED,
            f"Codes for {purpose.value} are sent by {OWN_FLOW[purpose]}.",
            "purpose",
        )
    if purpose not in ANONYMOUS_PHONE and viewer is None:
        raise ServiceError(CodeErrorCode.AUTHENTICATION_REQUIRED, "Sign in first.", None)
    if purpose is CodePurpose.BANK_CARD:
        assert viewer is not None
        await personal.check_bank_card_code(uow, viewer.account.id)
    if purpose in BOUND_PHONE:
        if phone or email:
            raise ServiceError(
                CodeErrorCode.DESTINATION_NOT_ALLOWED,
                "This code always goes to the bound phone; leave phone and email empty.",
                "phone" if phone else "email",
            )
        assert viewer is not None
        return await codes.send(
            uow,
            channel="sms",
            destination=viewer.account.phone,
            purpose=purpose,
            client_ip=client_ip,
            account_id=viewer.account.id,
        )
    if purpose in SIGNED_IN_EMAIL:
        if phone:
            raise ServiceError(CodeErrorCode.DESTINATION_NOT_ALLOWED, "This code goes to an e-mail address.", "phone")
        if not email:
            raise ServiceError(CodeErrorCode.DESTINATION_REQUIRED, "Enter the e-mail address.", "email")
        address = normalize_email(email)
        if address is None:
            raise ServiceError(CodeErrorCode.INVALID_EMAIL, "Enter a valid e-mail address.", "email")
        return await codes.send(
            uow,
            channel="email",
            destination=address,
            purpose=purpose,
            client_ip=client_ip,
            account_id=viewer.account.id if viewer else None,
        )
    if email:
        raise ServiceError(CodeErrorCode.DESTINATION_NOT_ALLOWED, "This code goes to a phone.", "email")
    if not phone:
        raise ServiceError(CodeErrorCode.DESTINATION_REQUIRED, "Enter the phone number.", "phone")
    number = normalize_phone(phone)
    if number is None:
        raise ServiceError(CodeErrorCode.INVALID_PHONE, "Enter a mainland mobile number (11 digits).", "phone")
    return await codes.send(
        uow,
        channel="sms",
        destination=number,
        purpose=purpose,
        client_ip=client_ip,
        account_id=viewer.account.id if viewer else None,
    )
