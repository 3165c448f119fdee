"""Assembles the Strawberry schema: root fields from resolvers/, guards from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry import relay
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from resolvers import (
    accounts,
    appeals,
    auth,
    changes,
    changes_enterprise,
    changes_name,
    changes_person,
    enterprise,
    lifecycle,
    mfa,
    recovery,
    students,
    verification,
)
from resolvers import viewer as viewer_resolvers
from schema import guards
from schema.context import Context
from schema.observability import OperationLog, log_errors
from schema.scalars import DATE_TIME
from schema.types.account import AccountType, Agreement, SessionType
from schema.types.appeals import AppealType
from schema.types.changes import SubjectChangeType
from schema.types.changes_enterprise import SubjectChangeContactFaceStartPayload
from schema.types.changes_person import SubjectChangeIdentityFaceStartPayload
from schema.types.documents import UploadedDocument
from schema.types.enterprise import EnterpriseVerification, OrganisationTypeInfo
from schema.types.lifecycle import AccountCancellationPayload, AccountDataExportCreatePayload
from schema.types.mfa import (
    LoginChallengeCodeSendPayload,
    MfaAccountPayload,
    MfaDeviceBindingStartPayload,
    MfaRecoveryCodesPayload,
)
from schema.types.payloads import (
    AccountActivatePayload,
    AccountEmailBindPayload,
    AccountIdleTimeoutSetPayload,
    AccountPasswordChangePayload,
    AccountPhoneChangePayload,
    AccountProfileUpdatePayload,
    AccountRecoveryLookupPayload,
    AccountRecoveryRevealPayload,
    AccountRegisterPayload,
    AccountUsernameSetPayload,
    AppealPayload,
    EnterpriseVerificationPayload,
    EnterpriseVerificationStartPayload,
    OperationChallengeVerifyPayload,
    PasswordResetCompletePayload,
    PasswordResetStartPayload,
    PersonalVerificationBankCardSubmitPayload,
    PersonalVerificationFaceStartPayload,
    PhoneRebindAppealStartPayload,
    QrLoginTicketConfirmPayload,
    QrLoginTicketCreatePayload,
    QrLoginTicketState,
    SessionCreatePayload,
    SessionDeletePayload,
    SessionRevokePayload,
    StudentStatusPayload,
    SubjectChangePayload,
    VerificationCodeSendPayload,
)
from schema.types.students import StudentStatusType
from schema.types.verification import PersonalVerification, VerificationAttemptType
from settings import Settings


@strawberry.type(description="Read the signed-in account and public reference data.")
class Query:
    viewer: AccountType | None = strawberry.field(
        resolver=viewer_resolvers.viewer,
        description="The signed-in account, or null without a live session (send `Authorization: Bearer <token>`).",
    )
    agreements: list[Agreement] = strawberry.field(
        resolver=viewer_resolvers.agreements,
        description="The agreements in force, with the versions to accept and the step each belongs to: "
        "USER_SERVICE, ONLINE_ORDERING and PRIVACY_POLICY at sign-up (REG-5, REG-6); REAL_NAME_VERIFICATION with "
        "each verification (RN-6); STUDENT_VERIFICATION and STUDENT_PERSONAL_INFORMATION for student status (STU-3).",
    )
    qr_login_ticket: QrLoginTicketState | None = strawberry.field(
        resolver=auth.qr_login_ticket,
        description="Poll a QR login ticket with the `token` from `qrLoginTicketCreate`; null when unknown.",
    )
    organisation_types: list[OrganisationTypeInfo] = strawberry.field(
        resolver=enterprise.organisation_type_list,
        description="The 18 organisation types with their certificates, and which count as enterprises (ORG-1).",
    )
    banks: list[str] = strawberry.field(
        resolver=enterprise.banks,
        description="The opening banks a corporate bank transfer may name (RNE-4, RNE-9).",
    )
    appeal_by_token: AppealType | None = strawberry.field(
        resolver=appeals.appeal_by_token,
        description="The appeal an appeal token follows, for a filer without a session (APL-2): its status, "
        "`dueAt`, `moreMaterialMessage` and decision (`rejectReason`, `rejectText`). Null for an unknown or expired "
        "token and for a draft not filed yet. Reads nothing else of the account.",
    )
    node: relay.Node | None = strawberry.field(
        resolver=viewer_resolvers.node,
        description="Fetch an object of the viewer by global ID; another account's ID behaves as unknown (null). "
        "A string this API never gave out as an ID is an error with `extensions.code` BAD_USER_INPUT.",
    )


@strawberry.type(description="Every change goes through a mutation with one `input` and a payload with `errors`.")
class Mutation:
    verification_code_send: VerificationCodeSendPayload = strawberry.mutation(
        resolver=auth.verification_code_send,
        description="Send a 6-digit code (CODE-1..4): SMS codes live 5 minutes, e-mail codes 30; one per "
        "destination and purpose every 60 s; a daily cap per destination for each kind of code (see "
        "DAILY_LIMIT_REACHED), of which one network may spend only part for sign-in codes "
        "(NETWORK_DAILY_LIMIT_REACHED), and per-address caps (ADDRESS_LIMIT_REACHED). A new code voids the previous "
        "one.",
    )
    account_register: AccountRegisterPayload = strawberry.mutation(
        resolver=accounts.account_register,
        description="Register a cloud account with an SMS code and the three agreements (REG-2, 3, 5, 6, 7). "
        "At most 10 cloud accounts per phone. Answers the new account's ID and username only: sign in afterwards "
        "with `sessionCreateByPassword`.",
    )
    account_activate: AccountActivatePayload = strawberry.mutation(
        resolver=accounts.account_activate,
        description="Activate a portal account: accept the three agreements, get the account ID (REG-6).",
    )
    account_profile_update: AccountProfileUpdatePayload = strawberry.mutation(
        resolver=accounts.account_profile_update, description="Edit the basic information (PROF-1)."
    )
    account_idle_timeout_set: AccountIdleTimeoutSetPayload = strawberry.mutation(
        resolver=accounts.account_idle_timeout_set,
        description="Set the session idle timeout, 15 to 1439 minutes (AUTH-3).",
    )
    account_username_set: AccountUsernameSetPayload = strawberry.mutation(
        resolver=accounts.account_username_set,
        description="Give a portal account a username to sign in with, or change it: the first choice at any time, "
        "then at most one change a year (PROF-5; see `Account.usernameChangeableAt`). A name given up is never given "
        "to another account. Whether a name is taken is answered at most 10 times per account and Asia/Shanghai day. "
        "A cloud account's username never changes (PROF-4).",
    )
    account_password_change: AccountPasswordChangePayload = strawberry.mutation(
        resolver=accounts.account_password_change,
        description="Change the password; protected (MFA-3); ends every other session (AUTH-4). Wrong current "
        "passwords count against the account's sign-in budget (5 per 15 minutes, then a 15-minute lock; AUTH-5).",
    )
    account_phone_change: AccountPhoneChangePayload = strawberry.mutation(
        resolver=accounts.account_phone_change,
        description="Change the bound phone with a code to the current phone (the SMS step-up grant) and a code "
        "to the new phone (PROF-2). The old phone is told by SMS.",
    )
    account_email_bind: AccountEmailBindPayload = strawberry.mutation(
        resolver=accounts.account_email_bind,
        description="Bind or change the e-mail address with a code sent to it (PROF-3); protected (MFA-3).",
    )
    operation_challenge_verify: OperationChallengeVerifyPayload = strawberry.mutation(
        resolver=auth.operation_challenge_verify,
        description="Pass a second factor (SMS: the OPERATION code from `verificationCodeSend`; TOTP; or a recovery "
        "code) and receive a step-up token for one protected operation of this session, valid 5 minutes (MFA-2, "
        "MFA-3). Five wrong TOTP or recovery codes in 15 minutes lock those factors for 15 minutes.",
    )
    session_create_by_password: SessionCreatePayload = strawberry.mutation(
        resolver=auth.session_create_by_password,
        description="Sign in with login name + password (AUTH-1, AUTH-2): a session, or a `LoginChallenge` when "
        "login protection is on (AUTH-6). Wrong passwords are throttled per login name (5 per 15 minutes), per "
        "account (5, shared by its phone, username and e-mail) and per address (20), each then locked for 15 "
        "minutes, with the same answer for unknown accounts (AUTH-5).",
    )
    session_create_by_sms_code: SessionCreatePayload = strawberry.mutation(
        resolver=auth.session_create_by_sms_code,
        description="Sign in to the phone's portal account with a LOGIN code; creates it on first use (REG-4). "
        "A `LoginChallenge` instead of a session when login protection asks for TOTP only (AUTH-6).",
    )
    qr_login_ticket_create: QrLoginTicketCreatePayload = strawberry.mutation(
        resolver=auth.qr_login_ticket_create,
        description="Start a QR login on a signed-out client (AUTH-2): show `code` as a QR code, keep `token`. "
        "Its `input` may be left out.",
    )
    qr_login_ticket_confirm: QrLoginTicketConfirmPayload = strawberry.mutation(
        resolver=auth.qr_login_ticket_confirm,
        description="Confirm a scanned QR code from a client signed in to a portal account (AUTH-2).",
    )
    session_create_by_qr_ticket: SessionCreatePayload = strawberry.mutation(
        resolver=auth.session_create_by_qr_ticket,
        description="Exchange a confirmed QR login ticket for a session, once (AUTH-2).",
    )
    session_delete: SessionDeletePayload = strawberry.mutation(
        resolver=auth.session_delete,
        description="Sign out: end the session of the bearer token at once (AUTH-4). Its `input` may be left out.",
    )
    session_revoke: SessionRevokePayload = strawberry.mutation(
        resolver=auth.session_revoke,
        description="End one of the viewer's sessions at once (AUTH-4); answers the viewer with its sessions.",
    )
    password_reset_start: PasswordResetStartPayload = strawberry.mutation(
        resolver=recovery.password_reset_start,
        description="Forgot password (REC-1): pass the bot check; a code goes to the bound phone. The answer "
        "is the same whether or not the account exists.",
    )
    password_reset_complete: PasswordResetCompletePayload = strawberry.mutation(
        resolver=recovery.password_reset_complete,
        description="Set a new password with the code; ends every session of the account (AUTH-4). The password "
        "is set when `errors` is empty; nothing else comes back to the signed-out caller.",
    )
    account_recovery_lookup: AccountRecoveryLookupPayload = strawberry.mutation(
        resolver=recovery.account_recovery_lookup,
        description="Forgot account (REC-2): find accounts by exactly one of phone, real-name information (name + ID "
        "number) or account ID (`by`); masked login names; a code goes to the bound phone and reveals the accounts bound to it "
        "(found by name + ID number on several phones: the phone of the most recently verified account).",
    )
    phone_rebind_appeal_file: AppealPayload = strawberry.mutation(
        resolver=appeals.phone_rebind_appeal_file,
        description="Lost the bound phone? Appeal to bind a new one (APL-2): the new phone proven by a "
        "PHONE_CHANGE_NEW code, plus the account's materials uploaded with `POST /uploads`. Reviewed within "
        "5 working days (`appeal.dueAt`); on approval the new phone becomes the bound phone and both numbers are "
        "told. With a session, or, when login protection asks for the lost phone, with the `LoginChallenge.token` "
        "of a right password as the bearer token (same client, 5 minutes; also for `POST /uploads`): the answer "
        "then carries an `appealToken` to follow the appeal. Without either, use `phoneRebindAppealCodeSend`, "
        "`phoneRebindAppealStart` and `phoneRebindAppealSubmit`.",
    )
    phone_rebind_appeal_code_send: VerificationCodeSendPayload = strawberry.mutation(
        resolver=appeals.phone_rebind_appeal_code_send,
        description="Signed-out phone-rebind appeal, step 1 (APL-2): pass the bot check; a PHONE_CHANGE_NEW code "
        "goes to the new phone, with the limits of `verificationCodeSend` (60 s gap, daily budget, address caps). "
        "Names no account.",
    )
    phone_rebind_appeal_start: PhoneRebindAppealStartPayload = strawberry.mutation(
        resolver=appeals.phone_rebind_appeal_start,
        description="Signed-out phone-rebind appeal, step 2 (APL-2): the login name and the new phone's code give a "
        "draft `appealToken` (24 hours). The code is checked and counted before anything about the login name is "
        "answered; no answer before it depends on whether the account exists.",
    )
    phone_rebind_appeal_submit: AppealPayload = strawberry.mutation(
        resolver=appeals.phone_rebind_appeal_submit,
        description="Signed-out phone-rebind appeal, step 3 (APL-2): file the draft with a person's or an "
        "enterprise's materials, uploaded with the token (`POST /uploads`, `Authorization: Bearer <appealToken>`). "
        "Reviewed within 5 working days (`appeal.dueAt`); follow it with `appealByToken`. The bound phone is told "
        "an appeal was filed.",
    )
    mfa_unbind_appeal_file: AppealPayload = strawberry.mutation(
        resolver=appeals.mfa_unbind_appeal_file,
        description="Lost the virtual MFA device (and its recovery codes)? Appeal to unbind it (APL-1, MFA-6): "
        "the account's materials uploaded with `POST /uploads`. Needs a bound device; one open MFA-unbind appeal "
        "at a time. Reviewed within 5 working days; on approval the device and its recovery codes are removed "
        "and the protections no longer ask for TOTP (login protection with TOTP only is then off). A user whom "
        "login protection locks out sends the `LoginChallenge.token` of a right password as the bearer token, here, "
        "in `appealAnswer` and in `POST /uploads` (same client, 5 minutes); the answer then carries an "
        "`appealToken` to follow the appeal (`appealByToken`, `appealAnswerByToken`).",
    )
    appeal_answer: AppealPayload = strawberry.mutation(
        resolver=appeals.appeal_answer,
        description="Send the material a reviewer asked for; the review clock starts again (REV-4).",
    )
    appeal_answer_by_token: AppealPayload = strawberry.mutation(
        resolver=appeals.appeal_answer_by_token,
        description="Send the material a reviewer asked for with an appeal token (REV-4, APL-2), each uploaded with "
        "that token; the review clock starts again.",
    )
    personal_verification_face_start: PersonalVerificationFaceStartPayload = strawberry.mutation(
        resolver=verification.personal_verification_face_start,
        description="Verify as a person by face (RNP-2): the registry checks document, name and number, then the "
        "user opens `faceCheck.url` (or scans `faceCheck.qrCodeSvg`) on a phone within 10 minutes. The outcome "
        "arrives from the liveness provider; poll the returned attempt. A failed check voids the QR code (RNP-3). "
        "Starting again voids an earlier pending check.",
    )
    personal_verification_bank_card_submit: PersonalVerificationBankCardSubmitPayload = strawberry.mutation(
        resolver=verification.personal_verification_bank_card_submit,
        description="Verify as a person by bank card (RNP-4): name, ID number, UnionPay card, reserved phone and the "
        "BANK_CARD code sent to it. The result is immediate. At most 10 attempts per account, counted when the bank "
        "is asked (RNP-5); then the method closes and face verification remains.",
    )
    enterprise_verification_legal_rep_face_start: EnterpriseVerificationStartPayload = strawberry.mutation(
        resolver=enterprise.enterprise_verification_legal_rep_face_start,
        description="Verify an organisation by the legal representative's face (RNE-2): the business registry checks "
        "name, USCC, type and legal representative (RNE-9), then the legal representative (or, for other "
        "organisations, an authorised employee with the signed letter, RNE-3) opens `faceCheck.url`. An enterprise "
        "is verified at once; another organisation goes to review, due within 2 working days. At most 10 attempts "
        "per account.",
    )
    enterprise_verification_bank_transfer_start: EnterpriseVerificationStartPayload = strawberry.mutation(
        resolver=enterprise.enterprise_verification_bank_transfer_start,
        description="Verify an organisation by corporate bank transfer (RNE-4): the handler passes a face check, "
        "then a random 0.01-1.00 CNY is paid into the account; confirm it within 8 days with "
        "`enterpriseVerificationAmountConfirm`. At most 10 attempts per account; not for public institutions or "
        "payment-licence holders (RNE-6).",
    )
    enterprise_verification_amount_confirm: EnterpriseVerificationPayload = strawberry.mutation(
        resolver=enterprise.enterprise_verification_amount_confirm,
        description="Enter the amount the corporate account received (RNE-4). The second wrong amount fails the "
        "verification (RNE-5); a right amount verifies it, or sends it to review after a risk hit (RNE-7).",
    )
    enterprise_verification_recharge_start: EnterpriseVerificationPayload = strawberry.mutation(
        resolver=enterprise.enterprise_verification_recharge_start,
        description="Verify an organisation by recharge (RNE-8): get remittance instructions (a dedicated account, "
        "created once after a REMITTANCE_ACCOUNT code, and a random amount); pay exactly that amount from an "
        "account named as the organisation within 3 days. The money is credited to the balance in every case.",
    )
    enterprise_verification_material_answer: EnterpriseVerificationPayload = strawberry.mutation(
        resolver=enterprise.enterprise_verification_material_answer,
        description="Upload the authorisation letter again when the reviewer asked for more material (RNE-3); the "
        "review clock starts again (REV-4).",
    )
    subject_change_start: SubjectChangePayload = strawberry.mutation(
        resolver=changes.subject_change_start,
        description="Start a change of the account's verified subject with the application agreement (CHG-2..5); a "
        "protected operation (MFA-2). Refused for an enterprise changing to a person (CHG-1), while another change is "
        "open, and within 30 days of the last completed one (CHG-6). The answer's `steps` say what comes next.",
    )
    subject_change_accept: SubjectChangePayload = strawberry.mutation(
        resolver=changes.subject_change_accept,
        description="Accept the SUBJECT_CHANGE_ACCEPTANCE agreement (CHG-3..5); then the new subject verifies, "
        "passing the change's ID as `changeId`.",
    )
    subject_change_identity_face_start: SubjectChangeIdentityFaceStartPayload = strawberry.mutation(
        resolver=changes_person.subject_change_identity_face_start,
        description="CHG-4, CHG-5: the account's verified person proves it is them by face (nothing to type: the "
        "check is of the verified name and document). Open the URL on a phone; when the check passes the change "
        "moves to ACCEPTANCE_PENDING.",
    )
    subject_change_identity_bank_card_submit: SubjectChangePayload = strawberry.mutation(
        resolver=changes_person.subject_change_identity_bank_card_submit,
        description="CHG-4, CHG-5: the account's verified person proves it is them by bank card (RNP-4: a card of "
        "the verified name and ID number, its reserved phone and the BANK_CARD code sent with this `changeId`). "
        "The result is immediate; a pass moves the change to ACCEPTANCE_PENDING. CHG-5: at most 5 attempts in one "
        "change (refusals say `attemptsRemaining`); provider failures are not counted.",
    )
    subject_change_withdraw: SubjectChangePayload = strawberry.mutation(
        resolver=changes.subject_change_withdraw,
        description="Withdraw an open subject change at any step (CHG-7); the account keeps its verified subject, "
        "and a new change may start at once; a change in review leaves the review queue.",
    )
    subject_change_name_submit: SubjectChangePayload = strawberry.mutation(
        resolver=changes_name.subject_change_name_submit,
        description="CHG-2: send the new name and the new business licence of a name change, with the acceptance "
        "agreement (at DETAILS_PENDING, or at MATERIAL_PENDING to correct them). Every problem is answered at once and "
        "nothing changes on a refusal. The business registry is asked whether the account's USCC is registered under "
        "the new name: if so the change completes at once and the account's verification shows the new name; if not "
        "it waits for supplementary material (MATERIAL_PENDING).",
    )
    subject_change_name_material_submit: SubjectChangePayload = strawberry.mutation(
        resolver=changes_name.subject_change_name_material_submit,
        description="CHG-2: send the supplementary material (a registry change certificate or a change application "
        "form) when the automatic check failed; the change goes to the 2-working-day review (`reviewDueAt`).",
    )
    subject_change_material_answer: SubjectChangePayload = strawberry.mutation(
        resolver=changes_name.subject_change_material_answer,
        description="Answer a reviewer's request for more material on a subject change (WAITING_USER, see "
        "`moreMaterialMessage`); it goes back to the review queue, due later by the time spent waiting (REV-4).",
    )
    subject_change_enterprise_details_submit: SubjectChangePayload = strawberry.mutation(
        resolver=changes_enterprise.subject_change_enterprise_details_submit,
        description="CHG-3, at DETAILS_PENDING: the new enterprise (another USCC), the reason and the original "
        "subject's contact; then CONTACT_FACE_PENDING.",
    )
    subject_change_contact_face_start: SubjectChangeContactFaceStartPayload = strawberry.mutation(
        resolver=changes_enterprise.subject_change_contact_face_start,
        description="CHG-3, at CONTACT_FACE_PENDING: the original subject's contact's face check (identity registry, "
        "then liveness). A pass generates the change application form (FORM_PENDING, `formDownloadUrl`); a failure "
        "leaves the change where it is, to start again.",
    )
    subject_change_stamped_form_submit: SubjectChangePayload = strawberry.mutation(
        resolver=changes_enterprise.subject_change_stamped_form_submit,
        description="CHG-3, at FORM_PENDING: the change application form stamped by both subjects; the change goes to "
        "the 2-working-day review (IN_REVIEW). On approval: ACCEPTANCE_PENDING and 9 days for the acceptance and the "
        "new enterprise's verification.",
    )
    mfa_device_binding_start: MfaDeviceBindingStartPayload = strawberry.mutation(
        resolver=mfa.mfa_device_binding_start,
        description="Start binding a virtual MFA device (MFA-4): a new secret, its `otpauth://` URI (issuer and "
        "account label) and QR code. Replaces an unfinished binding; at most one device per account. Its `input` may "
        "be left out.",
    )
    mfa_device_bind: MfaRecoveryCodesPayload = strawberry.mutation(
        resolver=mfa.mfa_device_bind,
        description="Bind the device with two consecutive codes (MFA-4); answers the ten recovery codes, once.",
    )
    mfa_device_unbind: MfaAccountPayload = strawberry.mutation(
        resolver=mfa.mfa_device_unbind,
        description="Unbind the device with a current code or a recovery code (MFA-6); protected (MFA-2). Operation "
        "protection continues with SMS; login protection keeps SMS if enabled and is off otherwise. Lost the device "
        "and the recovery codes? File an MFA-unbind appeal.",
    )
    security_protections_set: MfaAccountPayload = strawberry.mutation(
        resolver=mfa.security_protections_set,
        description="Switch login and operation protection on or off, each with SMS and/or TOTP (MFA-1, MFA-2); "
        "protected. TOTP needs a bound device (MFA-4).",
    )
    account_data_export_create: AccountDataExportCreatePayload = strawberry.mutation(
        resolver=lifecycle.account_data_export_create,
        description="Prepare a copy of everything this service holds about the account (profile, login names, "
        "verification data masked as the API shows it, agreements accepted, sessions, appeals and their decisions, "
        "subject changes, balance ledger) as a JSON document; protected (MFA-2). Its owner downloads it from "
        "`downloadUrl` with the session's bearer token until `expiresAt` (24 hours); a new export replaces the "
        "previous one.",
    )
    account_cancellation_start: AccountCancellationPayload = strawberry.mutation(
        resolver=lifecycle.account_cancellation_start,
        description="CAN-4 step 1: after reading the `notes` (CAN-1: irreversible; back up first with "
        "accountDataExportCreate), accept the ACCOUNT_CANCELLATION agreement. Replaces an earlier flow of the account.",
    )
    account_cancellation_precheck: AccountCancellationPayload = strawberry.mutation(
        resolver=lifecycle.account_cancellation_precheck,
        description="CAN-4 steps 2 and 3: operation protection where on (MFA-2; the step-up grant is used here), then "
        "the pre-check: each item passed or not, an unmet blocker naming where to resolve it (CAN-2); the cash "
        "balance, vouchers and resources in use listed with their amounts as forfeited (CAN-3). May run again; each "
        "run voids an earlier confirmation token.",
    )
    account_cancellation_acknowledge: AccountCancellationPayload = strawberry.mutation(
        resolver=lifecycle.account_cancellation_acknowledge,
        description="CAN-3 / CAN-4 step 4: after a passed pre-check, acknowledge the forfeiture (always asked, even "
        "with nothing to forfeit); answers the `confirmation` token of the second confirmation.",
    )
    account_cancellation_confirm: AccountCancellationPayload = strawberry.mutation(
        resolver=lifecycle.account_cancellation_confirm,
        description="CAN-4 step 5, the second confirmation: the pre-check runs again, and the account is cancelled "
        "(CAN-5): it can no longer sign in, every session and step-up grant ends, open verifications, subject changes "
        "and appeals are withdrawn, and its username can never be registered again (REG-2).",
    )
    mfa_recovery_codes_regenerate: MfaRecoveryCodesPayload = strawberry.mutation(
        resolver=mfa.mfa_recovery_codes_regenerate,
        description="Replace the ten recovery codes (the old ones stop working); protected (MFA-2).",
    )
    login_challenge_code_send: LoginChallengeCodeSendPayload = strawberry.mutation(
        resolver=mfa.login_challenge_code_send,
        description="Send the SMS code of a pending protected sign-in to the bound phone (AUTH-6).",
    )
    session_create_by_challenge: SessionCreatePayload = strawberry.mutation(
        resolver=mfa.session_create_by_challenge,
        description="Finish a protected sign-in with an enabled second factor (AUTH-6): from the client that gave "
        "the password, within 5 minutes, at most 5 wrong codes.",
    )
    account_recovery_reveal: AccountRecoveryRevealPayload = strawberry.mutation(
        resolver=recovery.account_recovery_reveal,
        description="Reveal the login names in full with the code (REC-2).",
    )
    student_status_apply: StudentStatusPayload = strawberry.mutation(
        resolver=students.student_status_apply,
        description="Apply for student status (STU-1, STU-2): only an account verified as a person; school name "
        "and major (1 to 64 characters), level, expected graduation month (not past) and a school e-mail address "
        "with an `edu` domain label. A 6-digit code goes to that address, valid 30 minutes (STU-3). A new "
        "application replaces one still waiting for its code; a verified student cannot apply until it expires.",
    )
    student_status_confirm: StudentStatusPayload = strawberry.mutation(
        resolver=students.student_status_confirm,
        description="Confirm student status with the code from `studentStatusApply` and both student agreements "
        "(STU-3): the account is a verified student until the end of its graduation month (Asia/Shanghai). "
        "A wrong code counts; after 5 the code is void (CODE-2).",
    )


TYPES: list[Any] = [
    SessionType,
    AppealType,
    SubjectChangeType,
    UploadedDocument,
    VerificationAttemptType,
    PersonalVerification,
    EnterpriseVerification,
    StudentStatusType,
]


class Guards(SchemaExtension):
    """One extension for the request guards and the connection release (fewer hooks per request).

    - the token limit, enforced while parsing;
    - the cost guard (depth, aliases, complexity; schema/guards.py), then graphql-core's validation
      rules only for a document it lets through, cached (this replaces Strawberry's ValidationCache,
      which would validate every document first); no introspection outside development (a rule);
    - a document with several operations runs only with an `operationName` (OPERATION_RESOLUTION_FAILURE);
    - the request's read connection is given back as soon as execution ends, before the response
      is serialised and sent (a slow client must not hold a pooled connection).
    """

    def __init__(self, rules: tuple[type[ASTValidationRule], ...], max_tokens: int, limits: guards.QueryLimits) -> None:
        self.rules = rules
        self.max_tokens = max_tokens
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        self.execution_context.validation_rules = self.execution_context.validation_rules + self.rules
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = guards.validate(
            self.limits, context.schema._schema, context.graphql_document, tuple(context.validation_rules)
        ) or guards.operation_errors(context.graphql_document, _provided_operation_name(context))
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            await context.close()


def _provided_operation_name(context: ExecutionContext) -> object:
    """The `operationName` the request gave: Strawberry's `operation_name` falls back to the name of the
    document's first operation, so a missing name would look given."""
    return getattr(context, "_provided_operation_name", None)


def _extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    rules: tuple[type[ASTValidationRule], ...] = () if settings.is_development else (NoSchemaIntrospectionCustomRule,)
    max_tokens = settings.max_tokens
    limits = guards.QueryLimits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_complexity=settings.max_query_complexity,
    )
    factories: list[Callable[[], SchemaExtension]] = [
        lambda: Guards(rules, max_tokens, limits),
        lambda: ParserCache(maxsize=256),
    ]
    return factories


class Schema(strawberry.Schema):
    """Logs errors by code and path, never their messages, the document or the variables: all may quote
    a password, a code or an ID number (Strawberry's default logs each error with the variables). What
    the client sees of an error (its code; no message of a bug in production) is the HTTP view's
    (app.GraphQLApp), which sees every error, also those raised outside the operation's extensions."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


def build_schema(settings: Settings) -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=TYPES,
        extensions=[*_extensions(settings), OperationLog],
        config=StrawberryConfig(disable_field_suggestions=not settings.is_development),
        scalar_overrides={datetime: DATE_TIME},
    )


def export_sdl() -> str:
    """The SDL, the same in every environment (the guards do not change the types)."""
    return build_schema(Settings(environment="test")).as_str() + "\n"
