"""Which `ErrorCode` values each mutation (and REST route) may return: one declarative table.

Read from the services each mutation calls. The edge (schema/errors.py) checks every refusal against
it, an undeclared code being logged as a bug that the test suite fails on, and every ErrorCode value's
description lists the mutations that return it.
"""

from __future__ import annotations

from enum import Enum

from services.accounts.errors import AccountErrorCode
from services.appeals.errors import AppealErrorCode
from services.auth.errors import AuthErrorCode
from services.codes.errors import CodeErrorCode
from services.documents.errors import DocumentErrorCode
from services.lifecycle.errors import LifecycleErrorCode
from services.mfa.errors import MfaErrorCode
from services.recovery.errors import RecoveryErrorCode
from services.students.errors import StudentErrorCode
from services.verification.changes.errors import ChangeErrorCode
from services.verification.errors import VerificationErrorCode

# Codes the account and recovery mutations return alike, by the step that raises them.
_PASSWORD_RULES = (  # REG-7's cheap rules
    AccountErrorCode.PASSWORD_TOO_SHORT,
    AccountErrorCode.PASSWORD_TOO_LONG,
    AccountErrorCode.PASSWORD_SAME_AS_USERNAME,
    AccountErrorCode.PASSWORD_SAME_AS_PHONE,
)
_CODE_ENTERED = (  # a one-time code entered: its format, then codes.check / codes.verify (CODE-1, CODE-2)
    CodeErrorCode.CODE_FORMAT_INVALID,
    CodeErrorCode.CODE_INVALID,
    CodeErrorCode.CODE_EXPIRED,
    CodeErrorCode.CODE_ATTEMPTS_EXHAUSTED,
)


def codes(*items: type[Enum] | Enum) -> frozenset[str]:
    """Code names from whole domain enums or single members: `codes(CodeErrorCode, AuthErrorCode.TOO_MANY_ATTEMPTS)`."""
    names: set[str] = set()
    for item in items:
        names |= {item.name} if isinstance(item, Enum) else set(item.__members__)
    return frozenset(names)


# Codes several of the verification, appeal and student mutations return, by the step that raises them.
_CODE_TRIES = (  # codes.check / codes.verify (CODE-2)
    CodeErrorCode.CODE_INVALID,
    CodeErrorCode.CODE_EXPIRED,
    CodeErrorCode.CODE_ATTEMPTS_EXHAUSTED,
)
_RN_PERSON_FORM = (  # a person's name and mainland ID number (RNP-6, RN-4)
    VerificationErrorCode.NAME_INVALID,
    VerificationErrorCode.ID_NUMBER_INVALID,
    VerificationErrorCode.AGE_BELOW_MINIMUM,
)
_RN_PERSON_CLAIM = (  # RN-5, RN-1, RN-3
    VerificationErrorCode.ALREADY_VERIFIED,
    VerificationErrorCode.APPLICATION_IN_PROGRESS,
    VerificationErrorCode.DOCUMENT_LIMIT_REACHED,
)
_RN_ORGANISATION_FORM = (  # RNE-9's local checks: name, USCC, legal representative; ORG-4: the certificate
    VerificationErrorCode.ORGANISATION_NAME_INVALID,
    VerificationErrorCode.USCC_INVALID,
    VerificationErrorCode.NAME_INVALID,
    VerificationErrorCode.CERTIFICATE_REQUIRED,
    VerificationErrorCode.DOCUMENT_NOT_FOUND,
)
_RN_ENTERPRISE_CLAIM = (  # RN-5; one enterprise verification at a time
    VerificationErrorCode.ALREADY_VERIFIED,
    VerificationErrorCode.APPLICATION_IN_PROGRESS,
)
_RN_REGISTRY = (  # RNE-9: the business registry, and a start that lost its race or its provider
    VerificationErrorCode.ORGANISATION_NOT_FOUND,
    VerificationErrorCode.TYPE_MISMATCH,
    VerificationErrorCode.REGISTERED_RECENTLY,
    VerificationErrorCode.LEGAL_REP_MISMATCH,
    VerificationErrorCode.APPLICATION_SUPERSEDED,
    VerificationErrorCode.PROVIDER_UNAVAILABLE,
)

# Which codes each mutation may return. The edge checks each refusal against it (an undeclared code
# is logged as a bug and noted in `UNDECLARED`, which the test suite asserts stays empty), and every
# ErrorCode value's description lists the mutations that return it.
_CHANGE_OPEN = (  # services.verification.changes.service.open_of_account
    ChangeErrorCode.AUTHENTICATION_REQUIRED,
    ChangeErrorCode.CHANGE_NOT_FOUND,
    ChangeErrorCode.CHANGE_ENDED,
    ChangeErrorCode.CHANGE_EXPIRED,
)

_ENTERPRISE_IN_CHANGE = (  # services.verification.enterprise.applications.claim_change (CHG-3, CHG-4)
    *_CHANGE_OPEN,
    ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
    ChangeErrorCode.CHANGE_NOT_SUPPORTED,
    ChangeErrorCode.CHANGE_ORGANISATION_MISMATCH,
)

_STEP_UP = (  # services.mfa.service.require_step_up (MFA-2)
    MfaErrorCode.STEP_UP_REQUIRED,
    MfaErrorCode.STEP_UP_INVALID,
    MfaErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
)
_CANCELLATION_OPEN = (LifecycleErrorCode.AUTHENTICATION_REQUIRED, LifecycleErrorCode.CANCELLATION_NOT_FOUND)
RETURNS: dict[str, frozenset[str]] = {
    # Issue 15 item 3 and CAN-1..5 (services.lifecycle)
    "accountDataExportCreate": codes(
        LifecycleErrorCode.AUTHENTICATION_REQUIRED, *_STEP_UP, LifecycleErrorCode.EXPORT_TOO_LARGE
    ),
    "accountCancellationStart": codes(
        LifecycleErrorCode.AUTHENTICATION_REQUIRED, LifecycleErrorCode.AGREEMENT_VERSION_OUTDATED
    ),
    "accountCancellationPrecheck": codes(*_CANCELLATION_OPEN, *_STEP_UP, LifecycleErrorCode.PROVIDER_UNAVAILABLE),
    "accountCancellationAcknowledge": codes(
        *_CANCELLATION_OPEN,
        LifecycleErrorCode.CANCELLATION_STEP_NOT_CURRENT,
        LifecycleErrorCode.PRECHECK_UNMET,
        LifecycleErrorCode.FORFEITURE_NOT_ACKNOWLEDGED,
    ),
    "accountCancellationConfirm": codes(
        *_CANCELLATION_OPEN,
        LifecycleErrorCode.CANCELLATION_STEP_NOT_CURRENT,
        LifecycleErrorCode.FORFEITURE_NOT_ACKNOWLEDGED,
        LifecycleErrorCode.PRECHECK_UNMET,
        LifecycleErrorCode.CONFIRMATION_STALE,
        LifecycleErrorCode.PROVIDER_UNAVAILABLE,
    ),
    "subjectChangeStart": codes(
        ChangeErrorCode.AUTHENTICATION_REQUIRED,
        ChangeErrorCode.AGREEMENT_VERSION_OUTDATED,
        MfaErrorCode.STEP_UP_REQUIRED,
        MfaErrorCode.STEP_UP_INVALID,
        MfaErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
        ChangeErrorCode.VERIFICATION_REQUIRED,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        ChangeErrorCode.CHANGE_IN_PROGRESS,
        ChangeErrorCode.CHANGE_TOO_SOON,
        ChangeErrorCode.CHANGE_NOT_ELIGIBLE_ONLINE,  # CHG-3
        ChangeErrorCode.PROVIDER_UNAVAILABLE,  # CHG-3: the eligibility service
    ),
    "subjectChangeWithdraw": codes(*_CHANGE_OPEN),
    # CHG-3 (services.verification.changes.enterprise)
    "subjectChangeEnterpriseDetailsSubmit": codes(
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        VerificationErrorCode.ORGANISATION_NAME_INVALID,
        VerificationErrorCode.USCC_INVALID,
        *_RN_PERSON_FORM,
        ChangeErrorCode.CHANGE_REASON_INVALID,
        ChangeErrorCode.CHANGE_USCC_UNCHANGED,
    ),
    "subjectChangeContactFaceStart": codes(
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        VerificationErrorCode.IDENTITY_NOT_FOUND,
        VerificationErrorCode.NAME_MISMATCH,
        VerificationErrorCode.PROVIDER_UNAVAILABLE,
    ),
    "subjectChangeStampedFormSubmit": codes(
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        VerificationErrorCode.DOCUMENT_NOT_FOUND,
    ),
    "subjectChangeIdentityFaceStart": codes(
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        VerificationErrorCode.PROVIDER_UNAVAILABLE,
    ),
    "subjectChangeIdentityBankCardSubmit": codes(
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        VerificationErrorCode.CARD_NUMBER_INVALID,
        VerificationErrorCode.CARD_NOT_UNIONPAY,
        VerificationErrorCode.INVALID_PHONE,
        CodeErrorCode.CODE_FORMAT_INVALID,
        VerificationErrorCode.METHOD_NOT_OFFERED,
        VerificationErrorCode.BANK_CARD_ATTEMPTS_EXHAUSTED,
        *_CODE_TRIES,
        VerificationErrorCode.CARD_ELEMENTS_MISMATCH,
        VerificationErrorCode.RESERVED_PHONE_MISMATCH,
        VerificationErrorCode.PROVIDER_UNAVAILABLE,
    ),
    "subjectChangeAccept": codes(
        *_CHANGE_OPEN, ChangeErrorCode.AGREEMENT_VERSION_OUTDATED, ChangeErrorCode.CHANGE_STEP_NOT_CURRENT
    ),
    "subjectChangeNameSubmit": codes(  # services.verification.changes.name.submit_name (CHG-2)
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        VerificationErrorCode.ORGANISATION_NAME_INVALID,
        ChangeErrorCode.AGREEMENT_VERSION_OUTDATED,
        ChangeErrorCode.DOCUMENT_NOT_FOUND,
        ChangeErrorCode.NAME_UNCHANGED,
        ChangeErrorCode.PROVIDER_UNAVAILABLE,
    ),
    "subjectChangeNameMaterialSubmit": codes(
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        ChangeErrorCode.DOCUMENT_NOT_FOUND,
    ),
    "subjectChangeMaterialAnswer": codes(  # services.verification.changes.review.answer_material (REV-4)
        *_CHANGE_OPEN,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        ChangeErrorCode.MATERIAL_MISSING,
        ChangeErrorCode.TOO_MANY_UPLOADS,
        ChangeErrorCode.DOCUMENT_NOT_FOUND,
    ),
    "verificationCodeSend": codes(
        CodeErrorCode.AUTHENTICATION_REQUIRED,
        CodeErrorCode.DESTINATION_NOT_ALLOWED,
        CodeErrorCode.DESTINATION_REQUIRED,
        CodeErrorCode.INVALID_EMAIL,
        CodeErrorCode.INVALID_PHONE,
        CodeErrorCode.ALREADY_VERIFIED,
        CodeErrorCode.BANK_CARD_ATTEMPTS_EXHAUSTED,
        CodeErrorCode.ACCOUNT_DAILY_LIMIT_REACHED,
        *_CHANGE_OPEN,  # BANK_CARD with `changeId` (CHG-4, CHG-5)
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        CodeErrorCode.ADDRESS_LIMIT_REACHED,
        CodeErrorCode.RESEND_TOO_SOON,
        CodeErrorCode.DAILY_LIMIT_REACHED,
        CodeErrorCode.NETWORK_DAILY_LIMIT_REACHED,
        AccountErrorCode.PHONE_QUOTA_REACHED,
    ),
    "accountRegister": codes(
        *_PASSWORD_RULES,
        AccountErrorCode.INVALID_USERNAME,
        AccountErrorCode.INVALID_PHONE,
        AccountErrorCode.AGREEMENTS_REQUIRED,
        AccountErrorCode.AGREEMENT_VERSION_OUTDATED,
        *_CODE_ENTERED,
        AccountErrorCode.USERNAME_TAKEN,
        AccountErrorCode.PHONE_QUOTA_REACHED,
        AccountErrorCode.PASSWORD_TOO_WEAK,
    ),
    "accountActivate": codes(
        AccountErrorCode.AUTHENTICATION_REQUIRED,
        AccountErrorCode.AGREEMENTS_REQUIRED,
        AccountErrorCode.AGREEMENT_VERSION_OUTDATED,
        AccountErrorCode.VALUE_INVALID,
        AccountErrorCode.VALUE_TOO_LONG,
        AccountErrorCode.NOT_A_PORTAL_ACCOUNT,
        AccountErrorCode.ALREADY_ACTIVATED,
    ),
    "accountProfileUpdate": codes(
        AccountErrorCode.AUTHENTICATION_REQUIRED, AccountErrorCode.VALUE_INVALID, AccountErrorCode.VALUE_TOO_LONG
    ),
    "accountIdleTimeoutSet": codes(AccountErrorCode.AUTHENTICATION_REQUIRED, AccountErrorCode.TIMEOUT_OUT_OF_RANGE),
    "accountUsernameSet": codes(
        AccountErrorCode.AUTHENTICATION_REQUIRED,
        AccountErrorCode.INVALID_USERNAME,
        AccountErrorCode.USERNAME_IMMUTABLE,
        AccountErrorCode.USERNAME_CHANGE_TOO_SOON,  # PROF-5
        AccountErrorCode.USERNAME_CHECK_LIMIT_REACHED,
        AccountErrorCode.USERNAME_TAKEN,
    ),
    "accountPasswordChange": codes(
        AccountErrorCode.AUTHENTICATION_REQUIRED,
        *_PASSWORD_RULES,
        AccountErrorCode.PASSWORD_TOO_WEAK,
        AccountErrorCode.STEP_UP_REQUIRED,
        AccountErrorCode.STEP_UP_INVALID,
        AccountErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
        AccountErrorCode.WRONG_PASSWORD,
        AccountErrorCode.TOO_MANY_ATTEMPTS,
    ),
    # PROF-2: the grant is a required input, so STEP_UP_REQUIRED cannot come back.
    "accountPhoneChange": codes(
        AccountErrorCode.AUTHENTICATION_REQUIRED,
        AccountErrorCode.INVALID_PHONE,
        AccountErrorCode.STEP_UP_INVALID,
        AccountErrorCode.PHONE_UNCHANGED,
        AccountErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
        *_CODE_ENTERED,
        AccountErrorCode.PHONE_QUOTA_REACHED,
        AccountErrorCode.PHONE_PORTAL_QUOTA_REACHED,
        AccountErrorCode.OWN_LOGIN_NAME_REQUIRED,
    ),
    "accountEmailBind": codes(
        AccountErrorCode.AUTHENTICATION_REQUIRED,
        AccountErrorCode.INVALID_EMAIL,
        AccountErrorCode.STEP_UP_REQUIRED,
        AccountErrorCode.STEP_UP_INVALID,
        AccountErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
        *_CODE_ENTERED,
        AccountErrorCode.EMAIL_TAKEN,
    ),
    "operationChallengeVerify": codes(
        MfaErrorCode.AUTHENTICATION_REQUIRED,
        MfaErrorCode.CODE_FORMAT_INVALID,
        MfaErrorCode.MFA_DEVICE_NOT_BOUND,
        MfaErrorCode.FACTOR_NOT_ENABLED,
        MfaErrorCode.TOTP_CODE_INVALID,
        MfaErrorCode.TOTP_CODE_USED,
        MfaErrorCode.TOO_MANY_ATTEMPTS,
        MfaErrorCode.RECOVERY_CODE_INVALID,
        CodeErrorCode.CODE_INVALID,
        CodeErrorCode.CODE_EXPIRED,
        CodeErrorCode.CODE_ATTEMPTS_EXHAUSTED,
    ),
    "sessionCreateByPassword": codes(AuthErrorCode.INVALID_CREDENTIALS, AuthErrorCode.TOO_MANY_ATTEMPTS),
    "sessionCreateBySmsCode": codes(
        AuthErrorCode.INVALID_PHONE,
        CodeErrorCode.CODE_FORMAT_INVALID,
        CodeErrorCode.CODE_INVALID,
        CodeErrorCode.CODE_EXPIRED,
        CodeErrorCode.CODE_ATTEMPTS_EXHAUSTED,
        AccountErrorCode.PHONE_PORTAL_QUOTA_REACHED,  # REG-4: no held portal account, 5 bind the phone
    ),
    "qrLoginTicketCreate": codes(),
    "qrLoginTicketConfirm": codes(
        AuthErrorCode.AUTHENTICATION_REQUIRED,
        AuthErrorCode.QR_LOGIN_NOT_AVAILABLE,
        AuthErrorCode.QR_TICKET_NOT_FOUND,
        AuthErrorCode.QR_TICKET_EXPIRED,
        AuthErrorCode.QR_TICKET_USED,
    ),
    "sessionCreateByQrTicket": codes(
        AuthErrorCode.QR_TICKET_NOT_FOUND,
        AuthErrorCode.QR_TICKET_EXPIRED,
        AuthErrorCode.QR_TICKET_PENDING,
        AuthErrorCode.QR_TICKET_USED,
    ),
    "sessionDelete": codes(AuthErrorCode.AUTHENTICATION_REQUIRED),
    "sessionRevoke": codes(AuthErrorCode.AUTHENTICATION_REQUIRED, AuthErrorCode.SESSION_NOT_FOUND),
    "passwordResetStart": codes(
        RecoveryErrorCode.LOGIN_NAME_REQUIRED,
        RecoveryErrorCode.LOGIN_NAME_INVALID,
        RecoveryErrorCode.BOT_CHECK_FAILED,
        RecoveryErrorCode.BOT_CHECK_UNAVAILABLE,
        RecoveryErrorCode.ADDRESS_LIMIT_REACHED,
        RecoveryErrorCode.RESEND_TOO_SOON,
    ),
    "passwordResetComplete": codes(
        *_PASSWORD_RULES,
        *_CODE_ENTERED,
        RecoveryErrorCode.TICKET_INVALID,
        RecoveryErrorCode.PASSWORD_TOO_WEAK,
    ),
    # REC-2: the criteria are a @oneOf input, so exactly one always comes.
    "accountRecoveryLookup": codes(
        RecoveryErrorCode.INVALID_PHONE,
        RecoveryErrorCode.INVALID_ACCOUNT_ID,
        RecoveryErrorCode.NAME_REQUIRED,
        RecoveryErrorCode.NAME_INVALID,
        RecoveryErrorCode.ID_NUMBER_INVALID,
        RecoveryErrorCode.BOT_CHECK_FAILED,
        RecoveryErrorCode.BOT_CHECK_UNAVAILABLE,
        RecoveryErrorCode.LOOKUP_LIMIT_REACHED,  # REC-2: failed identity look-ups per client network
        RecoveryErrorCode.ADDRESS_LIMIT_REACHED,
        RecoveryErrorCode.RESEND_TOO_SOON,
        RecoveryErrorCode.DAILY_LIMIT_REACHED,
    ),
    "accountRecoveryReveal": codes(*_CODE_ENTERED, RecoveryErrorCode.TICKET_INVALID),
    "phoneRebindAppealFile": codes(
        AppealErrorCode.AUTHENTICATION_REQUIRED,
        AppealErrorCode.MATERIAL_DUPLICATE,
        AppealErrorCode.INVALID_PHONE,
        CodeErrorCode.CODE_FORMAT_INVALID,
        AppealErrorCode.PHONE_UNCHANGED,
        AppealErrorCode.MATERIAL_MISSING,
        AppealErrorCode.MATERIAL_NOT_EXPECTED,
        AppealErrorCode.DOCUMENT_NOT_FOUND,
        AppealErrorCode.APPEAL_ALREADY_OPEN,
        *_CODE_TRIES,
        AccountErrorCode.PHONE_QUOTA_REACHED,
        AccountErrorCode.PHONE_PORTAL_QUOTA_REACHED,
        AccountErrorCode.OWN_LOGIN_NAME_REQUIRED,
    ),
    # APL-2 signed out: the bot check, then the send's limits (CODE-3); no account is read.
    "phoneRebindAppealCodeSend": codes(
        AppealErrorCode.INVALID_PHONE,
        AppealErrorCode.BOT_CHECK_FAILED,
        AppealErrorCode.BOT_CHECK_UNAVAILABLE,
        CodeErrorCode.ADDRESS_LIMIT_REACHED,
        CodeErrorCode.RESEND_TOO_SOON,
        CodeErrorCode.DAILY_LIMIT_REACHED,
    ),
    # APL-2 signed out: the input, the code (counted), then, each costing a try, what depends on the name.
    "phoneRebindAppealStart": codes(
        AppealErrorCode.LOGIN_NAME_REQUIRED,
        AppealErrorCode.LOGIN_NAME_INVALID,
        AppealErrorCode.INVALID_PHONE,
        CodeErrorCode.CODE_FORMAT_INVALID,
        *_CODE_TRIES,
        AppealErrorCode.ACCOUNT_NOT_FOUND,
        AppealErrorCode.PHONE_UNCHANGED,
        AccountErrorCode.PHONE_QUOTA_REACHED,
        AccountErrorCode.PHONE_PORTAL_QUOTA_REACHED,
        AccountErrorCode.OWN_LOGIN_NAME_REQUIRED,
        AppealErrorCode.APPEAL_ALREADY_OPEN,
    ),
    "phoneRebindAppealSubmit": codes(
        AppealErrorCode.MATERIAL_DUPLICATE,
        AppealErrorCode.APPEAL_TOKEN_INVALID,
        AppealErrorCode.MATERIAL_MISSING,
        AppealErrorCode.MATERIAL_NOT_EXPECTED,
        AppealErrorCode.DOCUMENT_NOT_FOUND,
        AppealErrorCode.APPEAL_ALREADY_OPEN,
    ),
    "appealAnswerByToken": codes(
        AppealErrorCode.MATERIAL_DUPLICATE,
        AppealErrorCode.MATERIAL_MISSING,
        AppealErrorCode.APPEAL_TOKEN_INVALID,
        AppealErrorCode.NOT_WAITING_FOR_MATERIAL,
        AppealErrorCode.MATERIAL_NOT_EXPECTED,
        AppealErrorCode.DOCUMENT_NOT_FOUND,
    ),
    "mfaUnbindAppealFile": codes(
        AppealErrorCode.AUTHENTICATION_REQUIRED,
        AppealErrorCode.MATERIAL_DUPLICATE,
        AppealErrorCode.MFA_DEVICE_NOT_BOUND,
        AppealErrorCode.MATERIAL_MISSING,
        AppealErrorCode.MATERIAL_NOT_EXPECTED,
        AppealErrorCode.DOCUMENT_NOT_FOUND,
        AppealErrorCode.APPEAL_ALREADY_OPEN,
    ),
    "appealAnswer": codes(
        AppealErrorCode.AUTHENTICATION_REQUIRED,
        AppealErrorCode.MATERIAL_DUPLICATE,
        AppealErrorCode.MATERIAL_MISSING,
        AppealErrorCode.APPEAL_NOT_FOUND,
        AppealErrorCode.NOT_WAITING_FOR_MATERIAL,
        AppealErrorCode.MATERIAL_NOT_EXPECTED,
        AppealErrorCode.DOCUMENT_NOT_FOUND,
    ),
    "personalVerificationFaceStart": codes(
        VerificationErrorCode.AUTHENTICATION_REQUIRED,
        *_CHANGE_OPEN,  # CHG-5: with `changeId`
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        ChangeErrorCode.SAME_PERSON,
        *_RN_PERSON_FORM,
        VerificationErrorCode.DOCUMENT_NUMBER_INVALID,
        VerificationErrorCode.AGREEMENT_VERSION_OUTDATED,
        *_RN_PERSON_CLAIM,
        VerificationErrorCode.FACE_DAILY_LIMIT_REACHED,
        VerificationErrorCode.IDENTITY_NOT_FOUND,
        VerificationErrorCode.NAME_MISMATCH,
        VerificationErrorCode.PROVIDER_UNAVAILABLE,
    ),
    "personalVerificationBankCardSubmit": codes(
        VerificationErrorCode.AUTHENTICATION_REQUIRED,
        *_CHANGE_OPEN,  # CHG-5: with `changeId`
        ChangeErrorCode.CHANGE_NOT_SUPPORTED,
        ChangeErrorCode.CHANGE_STEP_NOT_CURRENT,
        ChangeErrorCode.SAME_PERSON,
        *_RN_PERSON_FORM,
        VerificationErrorCode.CARD_NUMBER_INVALID,
        VerificationErrorCode.CARD_NOT_UNIONPAY,
        VerificationErrorCode.INVALID_PHONE,
        CodeErrorCode.CODE_FORMAT_INVALID,
        VerificationErrorCode.AGREEMENT_VERSION_OUTDATED,
        *_RN_PERSON_CLAIM,
        VerificationErrorCode.BANK_CARD_ATTEMPTS_EXHAUSTED,
        *_CODE_TRIES,
        VerificationErrorCode.IDENTITY_NOT_FOUND,
        VerificationErrorCode.NAME_MISMATCH,
        VerificationErrorCode.CARD_ELEMENTS_MISMATCH,
        VerificationErrorCode.RESERVED_PHONE_MISMATCH,
        VerificationErrorCode.PROVIDER_UNAVAILABLE,
    ),
    "enterpriseVerificationLegalRepFaceStart": codes(
        VerificationErrorCode.AUTHENTICATION_REQUIRED,
        *_ENTERPRISE_IN_CHANGE,
        *_RN_ORGANISATION_FORM,
        *_RN_PERSON_FORM,
        VerificationErrorCode.AUTHORISED_EMPLOYEE_NOT_ALLOWED,
        VerificationErrorCode.AUTHORISATION_LETTER_REQUIRED,
        VerificationErrorCode.AGREEMENT_VERSION_OUTDATED,
        *_RN_ENTERPRISE_CLAIM,
        VerificationErrorCode.DOCUMENT_NOT_FOUND,
        VerificationErrorCode.ENTERPRISE_ATTEMPTS_EXHAUSTED,
        *_RN_REGISTRY,
        VerificationErrorCode.IDENTITY_NOT_FOUND,
        VerificationErrorCode.NAME_MISMATCH,
    ),
    "enterpriseVerificationBankTransferStart": codes(
        VerificationErrorCode.AUTHENTICATION_REQUIRED,
        *_ENTERPRISE_IN_CHANGE,
        *_RN_ORGANISATION_FORM,
        VerificationErrorCode.METHOD_NOT_OFFERED,
        VerificationErrorCode.BANK_NAME_WRONG,
        VerificationErrorCode.ACCOUNT_NUMBER_INVALID,
        *_RN_PERSON_FORM,
        VerificationErrorCode.AGREEMENT_VERSION_OUTDATED,
        *_RN_ENTERPRISE_CLAIM,
        VerificationErrorCode.ENTERPRISE_ATTEMPTS_EXHAUSTED,
        *_RN_REGISTRY,
        VerificationErrorCode.IDENTITY_NOT_FOUND,
        VerificationErrorCode.NAME_MISMATCH,
        VerificationErrorCode.PAYMENT_LICENCE_HOLDER,
    ),
    "enterpriseVerificationAmountConfirm": codes(
        VerificationErrorCode.AUTHENTICATION_REQUIRED,
        VerificationErrorCode.AMOUNT_FORMAT_INVALID,
        VerificationErrorCode.APPLICATION_NOT_FOUND,
        VerificationErrorCode.NOT_AWAITING_AMOUNT,
        VerificationErrorCode.PAYOUT_NOT_ARRIVED,
        VerificationErrorCode.AMOUNT_DEADLINE_PASSED,
        VerificationErrorCode.AMOUNT_WRONG,
        VerificationErrorCode.AMOUNT_WRONG_TWICE,
    ),
    "enterpriseVerificationRechargeStart": codes(
        VerificationErrorCode.AUTHENTICATION_REQUIRED,
        *_ENTERPRISE_IN_CHANGE,
        *_RN_ORGANISATION_FORM,
        CodeErrorCode.CODE_FORMAT_INVALID,
        VerificationErrorCode.AGREEMENT_VERSION_OUTDATED,
        *_RN_ENTERPRISE_CLAIM,
        VerificationErrorCode.CODE_REQUIRED,
        *_CODE_TRIES,
        VerificationErrorCode.RECHARGE_DAILY_LIMIT_REACHED,
        *_RN_REGISTRY,
    ),
    "enterpriseVerificationMaterialAnswer": codes(
        VerificationErrorCode.AUTHENTICATION_REQUIRED,
        VerificationErrorCode.MATERIAL_MISSING,
        VerificationErrorCode.APPLICATION_NOT_FOUND,
        VerificationErrorCode.NOT_WAITING_FOR_MATERIAL,
        VerificationErrorCode.DOCUMENT_NOT_FOUND,
    ),
    "mfaDeviceBindingStart": codes(MfaErrorCode.AUTHENTICATION_REQUIRED, MfaErrorCode.MFA_DEVICE_ALREADY_BOUND),
    "mfaDeviceBind": codes(
        MfaErrorCode.AUTHENTICATION_REQUIRED,
        MfaErrorCode.CODE_FORMAT_INVALID,
        MfaErrorCode.MFA_BINDING_NOT_STARTED,
        MfaErrorCode.MFA_DEVICE_ALREADY_BOUND,
        MfaErrorCode.MFA_BIND_CODES_INVALID,
    ),
    "mfaDeviceUnbind": codes(
        MfaErrorCode.AUTHENTICATION_REQUIRED,
        MfaErrorCode.CODE_FORMAT_INVALID,
        MfaErrorCode.STEP_UP_REQUIRED,
        MfaErrorCode.STEP_UP_INVALID,
        MfaErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
        MfaErrorCode.MFA_DEVICE_NOT_BOUND,
        MfaErrorCode.TOTP_CODE_INVALID,
        MfaErrorCode.TOTP_CODE_USED,
        MfaErrorCode.TOO_MANY_ATTEMPTS,
        MfaErrorCode.RECOVERY_CODE_INVALID,
    ),
    "securityProtectionsSet": codes(
        MfaErrorCode.AUTHENTICATION_REQUIRED,
        MfaErrorCode.STEP_UP_REQUIRED,
        MfaErrorCode.STEP_UP_INVALID,
        MfaErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
        MfaErrorCode.MFA_DEVICE_NOT_BOUND,
    ),
    "mfaRecoveryCodesRegenerate": codes(
        MfaErrorCode.AUTHENTICATION_REQUIRED,
        MfaErrorCode.STEP_UP_REQUIRED,
        MfaErrorCode.STEP_UP_INVALID,
        MfaErrorCode.STEP_UP_FACTOR_NOT_ALLOWED,
        MfaErrorCode.MFA_DEVICE_NOT_BOUND,
    ),
    "loginChallengeCodeSend": codes(
        AuthErrorCode.LOGIN_CHALLENGE_INVALID,
        AuthErrorCode.LOGIN_CHALLENGE_EXPIRED,
        AuthErrorCode.LOGIN_CHALLENGE_ATTEMPTS_EXHAUSTED,
        AuthErrorCode.FACTOR_NOT_ENABLED,
        CodeErrorCode.RESEND_TOO_SOON,
        CodeErrorCode.DAILY_LIMIT_REACHED,
    ),
    "sessionCreateByChallenge": codes(
        MfaErrorCode.CODE_FORMAT_INVALID,
        AuthErrorCode.LOGIN_CHALLENGE_INVALID,
        AuthErrorCode.LOGIN_CHALLENGE_EXPIRED,
        AuthErrorCode.LOGIN_CHALLENGE_ATTEMPTS_EXHAUSTED,
        AuthErrorCode.FACTOR_NOT_ENABLED,
        CodeErrorCode.CODE_INVALID,
        CodeErrorCode.CODE_EXPIRED,
        CodeErrorCode.CODE_ATTEMPTS_EXHAUSTED,
        MfaErrorCode.MFA_DEVICE_NOT_BOUND,
        MfaErrorCode.TOTP_CODE_INVALID,
        MfaErrorCode.TOTP_CODE_USED,
        MfaErrorCode.TOO_MANY_ATTEMPTS,
        MfaErrorCode.RECOVERY_CODE_INVALID,
    ),
    "studentStatusApply": codes(
        StudentErrorCode.AUTHENTICATION_REQUIRED,
        StudentErrorCode.VALUE_REQUIRED,
        StudentErrorCode.VALUE_INVALID,
        StudentErrorCode.VALUE_TOO_LONG,
        StudentErrorCode.GRADUATION_INVALID,
        StudentErrorCode.GRADUATION_IN_PAST,
        StudentErrorCode.INVALID_EMAIL,
        StudentErrorCode.EMAIL_NOT_EDU,
        StudentErrorCode.PERSONAL_VERIFICATION_REQUIRED,
        StudentErrorCode.ALREADY_STUDENT,
        StudentErrorCode.DAILY_LIMIT_REACHED,
        CodeErrorCode.RESEND_TOO_SOON,
        CodeErrorCode.ADDRESS_LIMIT_REACHED,
    ),
    "studentStatusConfirm": codes(
        StudentErrorCode.AUTHENTICATION_REQUIRED,
        AccountErrorCode.AGREEMENTS_REQUIRED,
        AccountErrorCode.AGREEMENT_VERSION_OUTDATED,
        CodeErrorCode.CODE_FORMAT_INVALID,
        StudentErrorCode.NO_PENDING_APPLICATION,
        StudentErrorCode.PERSONAL_VERIFICATION_REQUIRED,
        StudentErrorCode.GRADUATION_IN_PAST,
        *_CODE_TRIES,
    ),
}
# The REST routes with the same error model (their JSON body holds `errors` of the same shape).
UPLOADS = "POST /uploads"
DOWNLOAD = "GET /uploads/{id}"
CHANGE_FORM = "GET /subject-changes/{id}/form"
EXPORT_DOWNLOAD = "GET /exports/{id}"
REST_RETURNS: dict[str, frozenset[str]] = {
    UPLOADS: codes(
        DocumentErrorCode.AUTHENTICATION_REQUIRED,
        DocumentErrorCode.FILE_REQUIRED,
        DocumentErrorCode.FILE_TOO_LARGE,
        DocumentErrorCode.UNSUPPORTED_TYPE,
        DocumentErrorCode.NOT_AN_IMAGE,
        DocumentErrorCode.FILE_TYPE_MISMATCH,
        DocumentErrorCode.IMAGE_TOO_LARGE,
        DocumentErrorCode.UPLOAD_QUOTA_REACHED,
    ),
    DOWNLOAD: codes(DocumentErrorCode.AUTHENTICATION_REQUIRED, DocumentErrorCode.DOCUMENT_NOT_FOUND),
    CHANGE_FORM: codes(ChangeErrorCode.AUTHENTICATION_REQUIRED, ChangeErrorCode.CHANGE_NOT_FOUND),  # CHG-3
    EXPORT_DOWNLOAD: codes(LifecycleErrorCode.AUTHENTICATION_REQUIRED, LifecycleErrorCode.EXPORT_NOT_FOUND),
}
