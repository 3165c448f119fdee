"""Service enums exposed as GraphQL enums, each value described for client authors."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

from services.accounts.agreements import AcceptanceContext, AgreementKind, AgreementStep
from services.codes.requests import CodeSendPurpose
from services.review.kinds import RejectReason
from services.students.status import StudentLevel, StudentState
from services.verification.documents import DocumentType
from services.verification.enterprise.checks import FaceBy, LegalRepFaceBy
from services.verification.errors import AttemptReason
from services.verification.organisations import TYPES, OrganisationType

E = TypeVar("E", bound=type[Enum])

COMMON = {
    "AUTHENTICATION_REQUIRED": "No live session: sign in (the session may have expired after inactivity, AUTH-3).",
    "CODE_FORMAT_INVALID": "A code is 6 digits; nothing was counted.",
    "CODE_INVALID": "Wrong code, or no code was sent (for a student-status confirmation: to the application's address); "
    "`attemptsRemaining` tells how many tries are left (CODE-2).",
    "CODE_EXPIRED": "The code has expired (SMS codes live 5 minutes, e-mail codes 30, CODE-1; STU-3); request a new one "
    "(for student status: apply again).",
    "CODE_ATTEMPTS_EXHAUSTED": "The code was entered wrongly 5 times and is void (CODE-2); request a new one (for "
    "student status: apply again).",
    "RESEND_TOO_SOON": "At most one code per destination and purpose every 60 seconds (CODE-3), a student-status "
    "application to the same school address included; see `retryAfter`.",
    "DAILY_LIMIT_REACHED": "The destination's daily budget for codes of this kind is used up (CODE-3; Asia/Shanghai "
    "day): 10 registration codes, 10 SMS sign-in codes, 5 password-reset codes, 5 account-recovery codes, 10 codes "
    "proving a new phone, e-mail, bank-reserved phone or school address, 20 codes to the account's own bound phone "
    "(step-up, login challenge) by default. Each kind has its own budget, so one kind never uses up another.",
    "NETWORK_DAILY_LIMIT_REACHED": "Requests from this network have had their share of the destination's daily "
    "budget for codes of this kind sent (CODE-3; by default 3 SMS sign-in and 3 password-reset codes per "
    "destination, IPv4 address or IPv6 /64 and Asia/Shanghai day); see `retryAfter`. The rest of the budget stays "
    "for other networks, so one network cannot use up the owner's codes.",
    "ADDRESS_LIMIT_REACHED": "Too many codes were sent for requests from this network (by default 40 an hour and "
    "300 an Asia/Shanghai day per IPv4 address or IPv6 /64, codes to the account's own bound phone not counted); "
    "see `retryAfter`. It says nothing about the destination.",
    "INVALID_PHONE": "Not a mainland mobile number (11 digits starting with 1, second digit 3-9).",
    "INVALID_EMAIL": "Not a valid e-mail address.",
    "STEP_UP_REQUIRED": "Operation protection is on (MFA-3): pass a second factor with `operationChallengeVerify` "
    "and send its `stepUpGrant.token` as `stepUpToken`.",
    "STEP_UP_INVALID": "The step-up token is unknown, already used, expired or from another session.",
    "STEP_UP_FACTOR_NOT_ALLOWED": "The step-up grant was obtained with a factor this operation does not accept: one "
    "not enabled for operation protection (MFA-1), or, for a phone change, anything but an SMS code to the bound "
    "phone (PROF-2).",
    "PASSWORD_TOO_SHORT": "Passwords have at least 8 characters (REG-7).",
    "PASSWORD_TOO_LONG": "Passwords have at most 128 characters (REG-7).",
    "PASSWORD_SAME_AS_USERNAME": "The password may not equal the username (REG-7).",
    "PASSWORD_SAME_AS_PHONE": "The password may not equal the phone number (REG-7).",
    "PASSWORD_TOO_WEAK": "The password is too easy to guess: its zxcvbn score is under 3, counting the user's own "
    "username, phone, e-mail and names as known words; the message carries zxcvbn's warning and suggestions "
    "(REG-7). Only the first 32 characters are judged (16 when they hold more than 4 different digits or symbols "
    "zxcvbn reads as letters).",
}

SPECIFIC = {
    "EXPORT_NOT_FOUND": "No such data export of this account: unknown, another account's, or expired (24 hours) alike.",
    "EXPORT_TOO_LARGE": "The copy of the account's data would pass the size bound; nothing was prepared.",
    "CANCELLATION_NOT_FOUND": "No such cancellation of this account in progress: start one with "
    "accountCancellationStart (a newer start replaces an earlier one).",
    "CANCELLATION_STEP_NOT_CURRENT": "CAN-4: the steps run in order (agreement, operation protection and pre-check, "
    "forfeiture acknowledgement, second confirmation); this one is not next. Nothing changed.",
    "PRECHECK_UNMET": "CAN-2: an item of the pre-check stands in the way (unfinished orders or services, arrears, open "
    "complaints, organisation settings); each names where to resolve it. Nothing changed.",
    "FORFEITURE_NOT_ACKNOWLEDGED": "CAN-3: acknowledge that the cash balance, vouchers and resources in use are "
    "forfeited (accountCancellationAcknowledge with forfeitureAcknowledged: true). Nothing changed.",
    "CONFIRMATION_STALE": "CAN-4: the confirmation token is not the latest (a later pre-check ran) or the account's "
    "standing changed since the pre-check; run the pre-check again. Nothing changed.",
    "INVALID_USERNAME": "4 to 32 characters: a letter first, then letters, digits, '_', '-' or '.'.",
    "USERNAME_TAKEN": "The username is used by another account, or was used by a cancelled one or given up by a "
    "portal account that changed it (REG-2, PROF-5). At registration answered only after a right code, and it "
    "costs one of the code's 5 tries: `attemptsRemaining` tells how many are left for a corrected name. For "
    "`accountUsernameSet` it counts against the account's 10 username tries a day.",
    "USERNAME_IMMUTABLE": "A cloud account's username can never be changed (PROF-4).",
    "USERNAME_CHANGE_TOO_SOON": "A portal account's username can be changed once a year (PROF-5; choosing the "
    "first one is not a change): the message says from when the next change is possible, `retryAfter` in how many "
    "seconds, and `Account.usernameChangeableAt` shows it beforehand.",
    "USERNAME_CHECK_LIMIT_REACHED": "This account has tried 10 usernames today (Asia/Shanghai day): whether a "
    "name is taken is told a signed-in account at most that often; see `retryAfter`.",
    "WRONG_PASSWORD": "The current password is wrong; `attemptsRemaining` tells the tries left before a "
    "15-minute lock of the account, for its sign-ins too (AUTH-5).",
    "PHONE_QUOTA_REACHED": "This phone already has 10 cloud accounts (REG-3). `verificationCodeSend` answers it "
    "for a REGISTRATION code and sends nothing, but the answer costs what a send costs (the phone's daily budget, "
    "the 60-second gap, the caller's address caps). Otherwise answered only after a right code sent to that phone "
    "(at registration, a phone change or a phone-rebind appeal), and it costs one of the code's tries: "
    "`attemptsRemaining` tells how many are left.",
    "PHONE_UNCHANGED": "The new phone equals the bound phone.",
    "PHONE_PORTAL_QUOTA_REACHED": "The phone is already bound to 5 portal accounts: the one it holds (which SMS "
    "sign-in with it reaches) and others that bind it (REG-4). After a right code sent to that phone (a phone "
    "change or a phone-rebind appeal) it costs one of the code's tries: `attemptsRemaining` tells how many are "
    "left. `sessionCreateBySmsCode` answers it when the phone holds no portal account to sign in to and a new "
    "one would be the 6th bound to it.",
    "OWN_LOGIN_NAME_REQUIRED": "The phone holds another portal account, whose SMS sign-in it reaches (REG-4): a "
    "portal account binding it signs in with its own username or e-mail address only, and this one has neither. "
    "Choose a username (`accountUsernameSet`) or bind an e-mail address first. Answered only after a right code "
    "sent to that phone, and it costs one of the code's tries.",
    "EMAIL_TAKEN": "The e-mail address is bound to another account. Answered only after a right code sent to that "
    "address, and it costs one of the code's tries: `attemptsRemaining` tells how many are left.",
    "AGREEMENTS_REQUIRED": "Every agreement of the step must be accepted: the three sign-up agreements (REG-5, REG-6), "
    "or both student agreements (STU-3).",
    "AGREEMENT_VERSION_OUTDATED": "An accepted agreement version is not the current one; see `agreements`.",
    "ALREADY_ACTIVATED": "The portal account is already activated (REG-6).",
    "NOT_A_PORTAL_ACCOUNT": "Only portal accounts need activation (REG-6).",
    "TIMEOUT_OUT_OF_RANGE": "The idle timeout is between 15 and 1439 minutes (AUTH-3).",
    "VALUE_TOO_LONG": "The value is longer than the field allows (the input's field descriptions give each limit; "
    "school name and major have at most 64 characters, STU-2).",
    "VALUE_INVALID": "The value holds a control character (NUL, a line break, ESC, ...): the field is one line of "
    "text.",
    "INVALID_CREDENTIALS": "The login name or the password is wrong, or sign-in to the account is paused after too "
    "many wrong passwords through its other login names; the same answer whether or not the account exists "
    "(AUTH-5). `attemptsRemaining` tells the tries left with this login name before a 15-minute lock.",
    "TOO_MANY_ATTEMPTS": "Too many wrong passwords for this login name, address or account (AUTH-5), or too many wrong "
    "TOTP or recovery codes (5 in 15 minutes); see `retryAfter`.",
    "SESSION_NOT_FOUND": "No such session among the viewer's live sessions.",
    "QR_TICKET_NOT_FOUND": "The QR login ticket or code is not known.",
    "QR_TICKET_EXPIRED": "The QR login ticket expired (it lives 2 minutes); create a new one.",
    "QR_TICKET_PENDING": "Not confirmed yet by a signed-in client; keep polling.",
    "QR_TICKET_USED": "The QR login ticket was already confirmed or redeemed.",
    "QR_LOGIN_NOT_AVAILABLE": "QR login is for portal accounts only (AUTH-2).",
    "MFA_DEVICE_NOT_BOUND": "No virtual MFA device is bound: the TOTP factor needs one (offer the binding flow, "
    "MFA-4); an MFA-unbind appeal has nothing to unbind (APL-1).",
    "MFA_DEVICE_ALREADY_BOUND": "A virtual MFA device is bound already; at most one per account (MFA-4).",
    "MFA_BINDING_NOT_STARTED": "Call `mfaDeviceBindingStart` first.",
    "MFA_BIND_CODES_INVALID": "The two codes are not two consecutive codes of the new device (MFA-4); nothing was "
    "bound.",
    "TOTP_CODE_INVALID": "Not a current code of the bound device (one 30-second step of drift either way).",
    "TOTP_CODE_USED": "This TOTP code was accepted before; each code works once (MFA-5). Wait for the next one.",
    "RECOVERY_CODE_INVALID": "Not an unused recovery code of this account.",
    "FACTOR_NOT_ENABLED": "This factor is not enabled for this protection (MFA-1, MFA-2).",
    "LOGIN_CHALLENGE_INVALID": "The sign-in challenge is unknown, used, from another client, or the password changed; "
    "sign in with the password again.",
    "LOGIN_CHALLENGE_EXPIRED": "The sign-in challenge expired (5 minutes); sign in with the password again.",
    "LOGIN_CHALLENGE_ATTEMPTS_EXHAUSTED": "Five wrong codes ended this sign-in challenge; sign in with the password "
    "again.",
    "MATERIAL_MISSING": "A required material is missing (APL-1, APL-2), or an answer to a request for more "
    "material sends none (REV-4); see the message.",
    "MATERIAL_NOT_EXPECTED": "A material that is not part of this account's set was sent.",
    "MATERIAL_DUPLICATE": "The same material (role) was sent twice; send each once (APL-1, APL-2, REV-4).",
    "DOCUMENT_NOT_FOUND": "No upload with this ID belongs to the viewer (ORG-3); an ID that `POST /uploads` did not "
    "give out is answered the same.",
    "APPEAL_ALREADY_OPEN": "An appeal of this kind is already under review.",
    "APPEAL_NOT_FOUND": "No such appeal of the viewer.",
    "ACCOUNT_NOT_FOUND": "No account has this login name (APL-2). Told only once the new phone's code was checked; "
    "it costs one of the code's 5 tries (`attemptsRemaining`).",
    "APPEAL_TOKEN_INVALID": "The appeal token is unknown or expired (a draft lives 24 hours; a filed appeal's token "
    "until 30 days after the decision), its draft was already filed, or nothing was filed with it yet (APL-2).",
    "NOT_WAITING_FOR_MATERIAL": "The appeal is not waiting for material.",
    "DESTINATION_REQUIRED": "This purpose needs a destination (phone or email).",
    "DESTINATION_NOT_ALLOWED": "Codes of this purpose do not go to this kind of destination (a phone for an e-mail "
    "code, an e-mail address for an SMS code, anything for a code that always goes to the bound phone); leave the "
    "field empty.",
    "BOT_CHECK_FAILED": "The bot check did not pass: the verifier refused the token, or it was empty or over 2048 "
    "characters (REC-1, REC-2, APL-2).",
    "BOT_CHECK_UNAVAILABLE": "The bot check could not be done (no verifier configured, or it did not answer in "
    "time or answered nonsense); nothing was sent or counted. Retry later (REC-1, REC-2, APL-2).",
    "LOGIN_NAME_REQUIRED": "Enter the login name.",
    "LOGIN_NAME_INVALID": "A login name holds no control character (NUL, a line break, ESC, ...).",
    "NAME_REQUIRED": "Enter the verified name together with the ID number (REC-2).",
    "INVALID_ACCOUNT_ID": "An account ID is 16 digits.",
    "LOOKUP_LIMIT_REACHED": "Too many look-ups by real-name information or account ID found nothing for requests "
    "from this network (REC-2: 10 an hour per IPv4 address or IPv6 /64); until the window ends every such look-up is "
    "refused, whether or not it would find an account; see `retryAfter`. Look-ups by phone are not counted.",
    "TICKET_INVALID": "The recovery ticket is unknown, used or expired (15 minutes); start again.",
    "ALREADY_VERIFIED": "The account is already verified; a verification cannot be redone or undone (RN-5).",
    "NAME_INVALID": "Enter the name as on the document: 1 to 64 characters on one line, no control character.",
    "ID_NUMBER_INVALID": "Not a valid mainland resident ID number: 18 characters, a real birth date and the GB 11643 "
    "check character (RNP-6). Nothing was counted.",
    "DOCUMENT_NUMBER_INVALID": "Enter the document number (1 to 32 letters and digits). Nothing was counted.",
    "AGE_BELOW_MINIMUM": "The ID number's birth date shows a person under 14, who cannot be verified (RN-4).",
    "DOCUMENT_LIMIT_REACHED": "This document already verifies 5 accounts (RN-3): 该证件已被多个账号认证.",
    "IDENTITY_NOT_FOUND": "The identity registry does not know this document (counted as an attempt, RN-7).",
    "NAME_MISMATCH": "The name does not match the document number (counted as an attempt, RN-7).",
    "CARD_NUMBER_INVALID": "Not a valid bank-card number (12-19 digits, Luhn check; RNP-6). Nothing was counted.",
    "CARD_NOT_UNIONPAY": "Only UnionPay cards (starting with 62) are accepted (RNP-4). Nothing was counted.",
    "CARD_ELEMENTS_MISMATCH": "The bank says card, name and ID number do not belong together (counted, RNP-5); "
    "`attemptsRemaining` tells the bank-card attempts left.",
    "RESERVED_PHONE_MISMATCH": "The phone is not the one reserved at the bank (counted, RNP-5); "
    "`attemptsRemaining` tells the bank-card attempts left.",
    "BANK_CARD_ATTEMPTS_EXHAUSTED": "The 10 bank-card attempts of this account are used up (RNP-5): offer face "
    "verification (`personalVerificationFaceStart`) instead.",
    "PROVIDER_UNAVAILABLE": "An outside check (identity registry, bank, liveness) did not answer; nothing was "
    "decided or counted. Retry after `retryAfter` seconds.",
    "ORGANISATION_NAME_INVALID": "Enter the organisation's registered name: 1 to 128 characters on one line, no "
    "control character.",
    "USCC_INVALID": "Not a valid unified social credit code: 18 characters and the GB 32100 check character. "
    "Nothing was counted.",
    "AUTHORISED_EMPLOYEE_NOT_ALLOWED": "Only other organisations (types 3-18) may have an authorised employee do the "
    "face check (RNE-3); an enterprise's legal representative does it.",
    "AUTHORISATION_LETTER_REQUIRED": "An authorised employee needs the signed and stamped authorisation letter, "
    "uploaded with `POST /uploads` (RNE-3).",
    "CERTIFICATE_REQUIRED": "An organisation's verification carries the image of the licence or registration "
    "certificate named for its type (`organisationTypes.certificateName`, ORG-1, ORG-4): upload it with "
    "`POST /uploads` and pass it as `organisation.certificateUploadId`. Nothing was counted.",
    "METHOD_NOT_OFFERED": "Corporate bank transfer is not offered to public institutions (RNE-6).",
    "PAYMENT_LICENCE_HOLDER": "Corporate bank transfer is not offered to holders of a third-party payment licence "
    "(RNE-6); not counted.",
    "BANK_NAME_WRONG": "The opening bank is not one of the `banks` list (RNE-9).",
    "ACCOUNT_NUMBER_INVALID": "Enter the corporate account number (6 to 32 digits).",
    "ORGANISATION_NOT_FOUND": "The business registry does not know the organisation (RNE-9; counted).",
    "TYPE_MISMATCH": "The chosen organisation type does not match the certificate (RNE-9; counted).",
    "REGISTERED_RECENTLY": "The organisation was registered less than 7 days ago; try again later (RNE-9; counted).",
    "LEGAL_REP_MISMATCH": "The legal representative does not match the registry (RNE-9; counted).",
    "ENTERPRISE_ATTEMPTS_EXHAUSTED": "The 10 attempts of this method are used up for this account (RNE-2, RNE-4); "
    "another method remains.",
    "VERIFICATION_REQUIRED": "Only a verified account can change its verified subject (CHG).",
    "CHANGE_NOT_SUPPORTED": "This change does not start from the account's verified subject: an enterprise never "
    "changes to a person (CHG-1); NAME and ENTERPRISE start from an enterprise, the others from a person; or the "
    "verification started inside a change is not of its new subject's type.",
    "CHANGE_IN_PROGRESS": "A subject change of this account is open; withdraw it (`subjectChangeWithdraw`) or finish "
    "it first. Nothing was started.",
    "CHANGE_TOO_SOON": "At most one completed subject change per 30 days (CHG-6); `retryAfter` says when the next "
    "may start.",
    "CHANGE_NOT_FOUND": "No such subject change of this account.",
    "NAME_UNCHANGED": "CHG-2: the new name equals the account's verified name; enter the enterprise's new registered "
    "name.",
    "TOO_MANY_UPLOADS": "At most 10 uploads in one answer to a request for more material (REV-4); nothing was sent.",
    "CHANGE_STEP_NOT_CURRENT": "The subject change is at another step (see its `state` and `steps`); nothing changed.",
    "CHANGE_ENDED": "The subject change has ended (completed, rejected or withdrawn); start a new one.",
    "CHANGE_EXPIRED": "The subject change ran out of time: the new person did not submit within 1 day (CHG-5), or "
    "the new enterprise did not verify within 9 days of the approval (CHG-3). Start a new one.",
    "SAME_PERSON": "CHG-5: the person verifying inside the change is the account's current person; a change to "
    "another person verifies someone else. Nothing was counted.",
    "CHANGE_ORGANISATION_MISMATCH": "A verification inside a change to another enterprise (CHG-3) is of the "
    "organisation named in the change's request: the same name and USCC. Nothing was counted.",
    "CHANGE_NOT_ELIGIBLE_ONLINE": "不支持在线变更 / The account is not eligible for an online change to another "
    "enterprise (CHG-3): contact your account manager or open a ticket. Nothing was started.",
    "CHANGE_USCC_UNCHANGED": "The new enterprise has the current one's USCC: a new name under the same code is a "
    "NAME change (CHG-2), not a change to another enterprise (CHG-3).",
    "CHANGE_REASON_INVALID": "State the reason for the change, 1 to 500 characters (CHG-3).",
    "APPLICATION_IN_PROGRESS": "An enterprise verification is in progress (amount, review or remittance pending); "
    "finish it first.",
    "APPLICATION_NOT_FOUND": "No such enterprise verification of the viewer.",
    "APPLICATION_SUPERSEDED": "A newer start of this account replaced this one while it was being checked (or it ran "
    "out); follow the newer one in `viewer.enterpriseVerifications`.",
    "NOT_AWAITING_AMOUNT": "The verification is not waiting for an amount.",
    "PAYOUT_NOT_ARRIVED": "The payout has not arrived in the corporate account yet (RNE-4: it may take up to 2 "
    "days; `payoutArrivedAt` is null until then), so there is no amount to enter; nothing was counted. "
    "`retryAfter` tells the seconds until it arrives, when the bank said.",
    "AMOUNT_FORMAT_INVALID": "Enter an amount in CNY with at most two decimals, 0.01 to 1.00. Nothing was counted.",
    "AMOUNT_WRONG": "Not the amount paid; `attemptsRemaining` tells the tries left (2 in all; RNE-5).",
    "AMOUNT_WRONG_TWICE": "The second wrong amount ended this verification as failed (RNE-5); start a new one. "
    "`attemptsRemaining` tells the bank-transfer attempts left.",
    "RECHARGE_DAILY_LIMIT_REACHED": "At most 10 recharge verifications per account and Asia/Shanghai day (each asks "
    "the business registry); see `retryAfter`.",
    "AMOUNT_DEADLINE_PASSED": "The amount was not confirmed within 8 days of the payout's arrival in the account "
    "(RNE-4); start a new one.",
    "CODE_REQUIRED": "Creating the dedicated remittance account needs a REMITTANCE_ACCOUNT code (RNE-8).",
    "FACE_DAILY_LIMIT_REACHED": "At most 10 face checks per account and Asia/Shanghai day (each asks the identity "
    "registry); see `retryAfter`.",
    "ACCOUNT_DAILY_LIMIT_REACHED": "At most 20 BANK_CARD codes per account and Asia/Shanghai day, whatever the "
    "phones; see `retryAfter`.",
    "PERSONAL_VERIFICATION_REQUIRED": "Only an account verified as a person may apply for student status (STU-1); "
    "unverified and enterprise-verified accounts are refused.",
    "ALREADY_STUDENT": "The account is a verified student until the end of its graduation month (STU-3); it can "
    "apply again once the status has expired.",
    "VALUE_REQUIRED": "The field is empty.",
    "GRADUATION_INVALID": "The month is not 1 to 12, or the year is more than 10 years ahead.",
    "GRADUATION_IN_PAST": "The expected graduation month has passed (STU-2); the current month (Asia/Shanghai) is "
    "allowed.",
    "EMAIL_NOT_EDU": "The address's domain has no label that is exactly `edu` (STU-2): `name@mail.example.edu.cn` is "
    "accepted, `name@myedu.cn` and `name@education.com` are not.",
    "FILE_REQUIRED": "Send the file as the multipart part `file` (ORG-2).",
    "FILE_TOO_LARGE": "The file is larger than 4 MB (ORG-2); nothing was stored.",
    "UNSUPPORTED_TYPE": "Upload a JPG, JPEG or PNG image (ORG-2); nothing was stored.",
    "NOT_AN_IMAGE": "The file is not a readable image (ORG-2); nothing was stored.",
    "FILE_TYPE_MISMATCH": "The file's content is not the image type its name says (a PNG named .jpg, say; ORG-2); "
    "nothing was stored.",
    "IMAGE_TOO_LARGE": "The image has too many pixels or would need too much memory to check (ORG-2); nothing was "
    "stored.",
    "UPLOAD_QUOTA_REACHED": "The account's uploads for today (Asia/Shanghai) are used up (ORG-2); see `retryAfter` "
    "(and the `Retry-After` header). With an appeal token: its 12 uploads are used up (APL-2; no `retryAfter`).",
    "NO_PENDING_APPLICATION": "No student-status application is waiting for a code; call `studentStatusApply` first.",
}


def gql_enum(cls: E, description: str, values: dict[str, str] | None = None) -> E:
    """`strawberry.enum` for an enum defined in services/, with a description on every value."""
    registered = strawberry.enum(cls, description=description)
    descriptions = values if values is not None else COMMON | SPECIFIC
    if has_enum_definition(registered):
        for value in registered.__strawberry_definition__.values:
            value.description = descriptions.get(value.name, value.description)
    return registered


gql_enum(
    DocumentType,
    "An identity document a person verifies with (RNP-2).",
    {
        "MAINLAND_ID_CARD": "Mainland resident identity card, 2nd generation (中华人民共和国居民身份证); "
        "18 characters with the GB 11643 check character (RNP-6).",
        "HMT_TRAVEL_PERMIT": "Mainland travel permit for Hong Kong, Macao and Taiwan residents "
        "(港澳台居民来往内地通行证).",
        "FOREIGN_PERMANENT_RESIDENCE_CARD": "Foreigner's permanent residence card (外国人永久居留身份证).",
        "CHINESE_PASSPORT_ABROAD": "Passport of a Chinese citizen settled abroad (定居国外的中国公民护照).",
    },
)
gql_enum(
    AttemptReason,
    "Why a verification attempt did not pass, as kept in the history (RN-7).",
    {
        "IDENTITY_NOT_FOUND": "The identity registry does not know the document.",
        "NAME_MISMATCH": "The name does not match the document number.",
        "CARD_ELEMENTS_MISMATCH": "The bank says card, name and ID number do not belong together.",
        "RESERVED_PHONE_MISMATCH": "The phone is not the one reserved at the bank.",
        "FACE_CHECK_FAILED": "The liveness check failed; its QR code is void (RNP-3).",
        "FACE_CHECK_EXPIRED": "The liveness check was not completed within 10 minutes.",
        "SUPERSEDED": "A newer face check was started; this one is void.",
        "DOCUMENT_LIMIT_REACHED": "The document already verifies 5 accounts (RN-3).",
        "ALREADY_VERIFIED": "Another method verified the account first (RN-5).",
        "PROVIDER_UNAVAILABLE": "An outside check did not answer; not counted against the account.",
        "ORGANISATION_NOT_FOUND": "The business registry does not know the organisation (RNE-9).",
        "TYPE_MISMATCH": "The organisation type does not match the certificate (RNE-9).",
        "REGISTERED_RECENTLY": "Registered less than 7 days ago (RNE-9).",
        "LEGAL_REP_MISMATCH": "The legal representative does not match the registry (RNE-9).",
        "PAYMENT_LICENCE_HOLDER": "Holds a third-party payment licence: no bank transfer (RNE-6); not counted.",
        "BANK_NAME_WRONG": "The opening bank is wrong (RNE-9).",
        "ACCOUNT_MISMATCH": "The account name and number do not match (RNE-9).",
        "CANNOT_RECEIVE": "The account cannot receive transfers (RNE-9).",
        "AMOUNT_WRONG_TWICE": "The amount was entered wrongly twice (RNE-5).",
        "PAYMENT_NOT_RECEIVED": "No remittance arrived within 3 days (RNE-8).",
        "AMOUNT_DEADLINE_PASSED": "The amount was not confirmed within 8 days (RNE-4).",
        "PAYMENT_LATE": "The remittance did not arrive within 3 days (RNE-8).",
        "PAYER_NAME_MISMATCH": "The paying account is not named as the organisation (RNE-8).",
        "PAYMENT_AMOUNT_WRONG": "The remittance was not the amount asked for (RNE-8).",
        "REJECTED_IN_REVIEW": "A reviewer rejected it; see the review's reason.",
        "CHANGE_ENDED": "It ran inside a subject change that ended (withdrawn or out of time) before it passed.",
        "ACCOUNT_CANCELLED": "The account was cancelled while it was open (CAN-5).",
    },
)
gql_enum(
    OrganisationType,
    "An organisation type (ORG-1); see the `organisationTypes` query for certificates.",
    {
        t.type.name: f"{t.number}. {t.name_zh} / {t.name_en}; certificate: {t.certificate_zh} / {t.certificate_en}"
        + ("; an enterprise." if t.is_enterprise else "; an other organisation (RNE-3).")
        for t in TYPES.values()
    },
)
gql_enum(
    FaceBy,
    "Who does the face check of an enterprise verification (RNE-2, RNE-3, RNE-4).",
    {
        "LEGAL_REPRESENTATIVE": "The legal representative.",
        "AUTHORISED_EMPLOYEE": "An employee authorised by the legal representative with a signed and stamped letter; "
        "other organisations only (RNE-3).",
        "HANDLER": "The person handling a corporate bank transfer (RNE-4); set by that method, not an input.",
    },
)
gql_enum(
    LegalRepFaceBy,
    "Who does the face check of a legal-representative face verification (RNE-2, RNE-3): the values of `FaceBy` "
    "this method takes.",
    {
        "LEGAL_REPRESENTATIVE": "The legal representative, with `legalRepresentativeIdNumber`.",
        "AUTHORISED_EMPLOYEE": "An employee authorised by the legal representative, with `employeeName`, "
        "`employeeIdNumber` and the signed and stamped letter (`authorisationLetterUploadId`); other organisations "
        "only (RNE-3).",
    },
)
gql_enum(
    RejectReason,
    "Why a reviewer rejected an appeal or an enterprise verification: the list the reason is chosen from (REV-4); "
    "the reviewer's own words are in `rejectText`.",
    {
        "CERTIFICATE_WRONG_TYPE": "ORG-4: the certificate image is not of the licence or registration certificate named "
        "for the organisation's type (`organisationTypes.certificateName`, ORG-1).",
        "CERTIFICATE_NOT_ORIGINAL": "ORG-4: the certificate image is neither a colour photo or colour scan of the "
        "original nor a copy bearing a fresh company stamp (electronic seals are not accepted).",
        "CERTIFICATE_NOT_LEGIBLE": "ORG-4: the certificate is not taken from the front with all four corners visible "
        "and the text and stamp legible.",
        "CERTIFICATE_ALTERED": "ORG-4: the certificate image is re-photographed, a screenshot, mirrored or edited.",
        "MATERIAL_UNCLEAR": "A material cannot be read: blurred, cut off or too dark.",
        "MATERIAL_MISSING": "A material the decision needs is missing.",
        "MATERIAL_MISMATCH": "A material does not belong to this account or request (another person's ID card, another "
        "organisation's licence).",
        "INFORMATION_INCONSISTENT": "The materials and the information given do not agree.",
        "SUSPECTED_FRAUD": "A material appears altered or forged.",
        "NOT_ELIGIBLE": "The request does not meet the rule's conditions.",
        "OTHER": "Another reason: see `rejectText`.",
    },
)
gql_enum(
    AcceptanceContext,
    "Where an agreement acceptance was recorded.",
    {
        "REGISTRATION": "Registering a cloud account (REG-5).",
        "ACTIVATION": "Activating a portal account (REG-6).",
        "VERIFICATION": "A real-name verification, recorded when it verified the account with the version accepted "
        "at its submission (RN-6).",
        "STUDENT": "Confirming student status (STU-3).",
        "SUBJECT_CHANGE": "A subject change, recorded when it completed with the versions accepted during it (CHG-2..5).",
        "CANCELLATION": "An account cancellation, recorded when it started (CAN-4).",
    },
)
gql_enum(
    StudentLevel,
    "The level of study (STU-2).",
    {
        "JUNIOR_COLLEGE": "Junior college (专科).",
        "BACHELOR": "Bachelor (本科).",
        "MASTER": "Master (硕士).",
        "DOCTORATE": "Doctorate (博士).",
    },
)
gql_enum(
    StudentState,
    "Where the viewer's student status stands (STU-3).",
    {
        "PENDING_EMAIL": "Applied; waiting for the code sent to the school e-mail address (valid 30 minutes): "
        "confirm with `studentStatusConfirm`.",
        "VERIFIED": "A verified student until `validUntil`, the end of the graduation month (Asia/Shanghai).",
        "EXPIRED": "Was a verified student; the graduation month has passed. Apply again if still studying.",
        "ENDED": "Ended because the account's verified person changed (CHG-5, `endedAt`): the status was the "
        "previous person's and is not verified. The new person may apply (`studentStatusApply`).",
    },
)


@strawberry.enum(description="The kind of login account (REG-1).")
class AccountKind(Enum):
    CLOUD = strawberry.enum_value("cloud", description="Signs in with username + password only (AUTH-1).")
    PORTAL = strawberry.enum_value(
        "portal", description="Keyed by a phone; signs in by SMS code, login name + password, or QR (AUTH-2)."
    )


@strawberry.enum(description="How a session was created.")
class SignInMethod(Enum):
    PASSWORD = strawberry.enum_value("password", description="Login name + password.")
    SMS = strawberry.enum_value("sms", description="Phone + SMS code.")
    QR = strawberry.enum_value("qr", description="QR login confirmed from a signed-in client.")


@strawberry.enum(description="A second factor (MFA-1).")
class SecondFactor(Enum):
    SMS = strawberry.enum_value("sms", description="A 6-digit code sent to the bound phone.")
    TOTP = strawberry.enum_value(
        "totp",
        description="A code from the virtual MFA device (RFC 6238: 6 digits, 30-second steps; accepted from one step "
        "before to one step after the current one, and each code only once, MFA-5).",
    )
    RECOVERY_CODE = strawberry.enum_value(
        "recovery_code",
        description="One of the ten single-use recovery codes shown when the device was bound; passes where TOTP "
        "is enabled.",
    )


@strawberry.enum(
    description="A factor a protection is switched on with (MFA-2). Recovery codes are no setting: they pass "
    "wherever TOTP is on."
)
class ProtectionFactor(Enum):
    SMS = strawberry.enum_value("sms", description="A 6-digit code sent to the bound phone.")
    TOTP = strawberry.enum_value("totp", description="A code from the bound virtual MFA device (or a recovery code).")


def factor_name(factor: SecondFactor) -> str:
    """The services' name of a second factor."""
    return {SecondFactor.SMS: "sms", SecondFactor.TOTP: "totp", SecondFactor.RECOVERY_CODE: "recovery_code"}[factor]


@strawberry.enum(description="Where a QR login ticket stands.")
class QrLoginTicketStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Shown, waiting for a signed-in client to confirm.")
    CONFIRMED = strawberry.enum_value("CONFIRMED", description="Confirmed: redeem it with `sessionCreateByQrTicket`.")
    REDEEMED = strawberry.enum_value("REDEEMED", description="Already exchanged for a session.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="Expired (2 minutes); create a new ticket.")


gql_enum(
    CodeSendPurpose,
    "What a code sent by `verificationCodeSend` is for; a code only works for its purpose and destination (CODE-2). "
    "The other codes are sent by their own mutations: password reset (`passwordResetStart`), account recovery "
    "(`accountRecoveryLookup`), the login challenge (`loginChallengeCodeSend`) and student status "
    "(`studentStatusApply`).",
    {
        "REGISTRATION": "Cloud-account registration; to `phone`; no sign-in needed.",
        "LOGIN": "Portal sign-in by SMS; to `phone`; no sign-in needed.",
        "PHONE_CHANGE_NEW": "The new phone in a phone change (PROF-2) or a phone-rebind appeal (APL-2); to `phone`; "
        "signed in.",
        "EMAIL_BIND": "Binding an e-mail address (PROF-3); to `email`; signed in; valid 30 minutes.",
        "OPERATION": "The SMS second factor for a protected operation (MFA-3); always to the bound phone; signed in.",
        "BANK_CARD": "Bank-card verification (RNP-4); to `phone`, the number reserved at the bank; signed in.",
        "REMITTANCE_ACCOUNT": "Opening the dedicated remittance account of recharge verification (RNE-8); always to the "
        "bound phone; signed in.",
    },
)

gql_enum(
    AgreementKind,
    "An agreement a user accepts: three at sign-up (REG-5, REG-6), one with each real-name verification (RN-6), "
    "two for student status (STU-3), two in a subject change (CHG-2..5), one to cancel the account (CAN-4).",
    {
        "USER_SERVICE": "User service agreement (用户服务协议); at sign-up.",
        "ONLINE_ORDERING": "Online ordering agreement (线上订购协议); at sign-up.",
        "PRIVACY_POLICY": "Privacy policy (隐私政策); at sign-up.",
        "REAL_NAME_VERIFICATION": "Real-name verification agreement (实名认证服务协议), accepted with each "
        "verification (RN-6).",
        "STUDENT_VERIFICATION": "Student verification agreement (学生认证服务协议); for student status (STU-3).",
        "STUDENT_PERSONAL_INFORMATION": "Student verification personal information processing rules "
        "(学生认证个人信息处理规则); for student status (STU-3). Formerly STUDENT_BENEFITS "
        '("Student offer rules"); acceptances recorded under that name read as this one.',
        "SUBJECT_CHANGE_APPLICATION": "Verified subject change application agreement (实名认证变更申请协议), accepted "
        "when a subject change starts (CHG-2..5).",
        "SUBJECT_CHANGE_ACCEPTANCE": "Verified subject change acceptance agreement (实名认证变更承接协议), accepted for "
        "the new subject (CHG-2..5).",
        "ACCOUNT_CANCELLATION": "Account cancellation agreement (账号注销协议), accepted when a cancellation starts "
        "(CAN-4): cancellation is irreversible (CAN-1).",
    },
)

gql_enum(
    AgreementStep,
    "The step of the user's journey in which an agreement is accepted.",
    {
        "SIGN_UP": "Registration and portal activation: all three are required (REG-5, REG-6).",
        "REAL_NAME_VERIFICATION": "Each real-name verification submission (RN-6).",
        "STUDENT_STATUS": "Confirming student status: both are required (STU-3).",
        "SUBJECT_CHANGE": "Changing the verified subject: the application agreement at the start, the acceptance "
        "agreement for the new subject (CHG-2..5).",
        "ACCOUNT_CANCELLATION": "Cancelling the account: the cancellation agreement at the start (CAN-4).",
    },
)

__all__ = [
    "AcceptanceContext",
    "AccountKind",
    "AgreementKind",
    "AgreementStep",
    "AttemptReason",
    "CodeSendPurpose",
    "DocumentType",
    "FaceBy",
    "LegalRepFaceBy",
    "OrganisationType",
    "ProtectionFactor",
    "QrLoginTicketStatus",
    "RejectReason",
    "SecondFactor",
    "SignInMethod",
    "StudentLevel",
    "StudentState",
]
