"""SQLAlchemy ORM models only; no business rules live here."""

from models.accounts import Account, AgreementAcceptance, PhoneQuota, RetiredUsername
from models.appeals import Appeal, AppealDocument, AppealToken
from models.auth import AuthSession, LoginThrottle, QrLoginTicket, RecoveryTicket, StepUpGrant
from models.base import Base
from models.changes import SubjectChange, SubjectChangeAttempt, SubjectChangeDocument
from models.codes import (
    CodeAddressCount,
    CodeDailyCount,
    CodeNetworkCount,
    CodeSendWindow,
    OneTimeCode,
    OutboxMessage,
)
from models.documents import Document, DocumentBlob, DocumentDailyCount
from models.enterprise import BalanceEntry, BankPayout, EnterpriseApplication, RemittanceAccount
from models.history import SecurityEvent
from models.lifecycle import Cancellation, DataExport
from models.mfa import LoginChallenge, MfaDevice, MfaRecoveryCode
from models.review import ReviewAuditEntry, Reviewer, ReviewerSession, ReviewItem
from models.students import StudentStatus
from models.verification import IdentityDocumentUse, Verification, VerificationAttempt, VerificationMethodUse
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSequence

__all__ = [
    "Account",
    "AgreementAcceptance",
    "Appeal",
    "AppealDocument",
    "AppealToken",
    "AuthSession",
    "BalanceEntry",
    "BankPayout",
    "Base",
    "Cancellation",
    "CodeAddressCount",
    "CodeDailyCount",
    "CodeNetworkCount",
    "CodeSendWindow",
    "DataExport",
    "Document",
    "DocumentBlob",
    "DocumentDailyCount",
    "EnterpriseApplication",
    "IdentityDocumentUse",
    "LoginChallenge",
    "LoginThrottle",
    "MfaDevice",
    "MfaRecoveryCode",
    "OneTimeCode",
    "OutboxMessage",
    "PhoneQuota",
    "QrLoginTicket",
    "RecoveryTicket",
    "RemittanceAccount",
    "RetiredUsername",
    "ReviewAuditEntry",
    "ReviewItem",
    "Reviewer",
    "ReviewerSession",
    "SecurityEvent",
    "StepUpGrant",
    "StudentStatus",
    "SubjectChange",
    "SubjectChangeAttempt",
    "SubjectChangeDocument",
    "Verification",
    "VerificationAttempt",
    "VerificationMethodUse",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookSequence",
]
