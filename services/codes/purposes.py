from __future__ import annotations

from datetime import timedelta
from enum import Enum


class CodePurpose(Enum):
    """What a code may be used for (CODE-2: a code is bound to its purpose and destination)."""

    REGISTRATION = "REGISTRATION"
    LOGIN = "LOGIN"
    PHONE_CHANGE_NEW = "PHONE_CHANGE_NEW"
    EMAIL_BIND = "EMAIL_BIND"
    OPERATION = "OPERATION"
    PASSWORD_RESET = "PASSWORD_RESET"
    ACCOUNT_REVEAL = "ACCOUNT_REVEAL"
    BANK_CARD = "BANK_CARD"
    REMITTANCE_ACCOUNT = "REMITTANCE_ACCOUNT"
    LOGIN_CHALLENGE = "LOGIN_CHALLENGE"
    STUDENT_EMAIL = "STUDENT_EMAIL"


LABELS = {
    CodePurpose.REGISTRATION: ("注册", "registration"),
    CodePurpose.LOGIN: ("登录", "sign-in"),
    CodePurpose.PHONE_CHANGE_NEW: ("绑定新手机", "binding a new phone"),
    CodePurpose.EMAIL_BIND: ("绑定邮箱", "binding an e-mail address"),
    CodePurpose.OPERATION: ("身份验证", "confirming a sensitive operation"),
    CodePurpose.PASSWORD_RESET: ("重置密码", "resetting your password"),
    CodePurpose.ACCOUNT_REVEAL: ("找回账号", "recovering your account name"),
    CodePurpose.BANK_CARD: ("银行卡实名认证", "bank-card real-name verification"),
    CodePurpose.REMITTANCE_ACCOUNT: ("开通专属汇款账户", "opening your dedicated remittance account"),
    CodePurpose.LOGIN_CHALLENGE: ("登录二次验证", "the second step of signing in"),
    CodePurpose.STUDENT_EMAIL: ("学生认证", "student verification"),
}


class CodeBudget(Enum):
    """CODE-3: the daily budgets of a destination, one per class of purposes. A send draws on its
    purpose's budget only, so what anyone can trigger cannot use up the codes the owner needs."""

    # Anyone, without a session or a secret, for any phone (verificationCodeSend): registration.
    PUBLIC = "public"
    # Anyone, for any phone (verificationCodeSend), but only a portal account's owner needs it: SMS sign-in
    # (AUTH-2). Apart from registration, so registration sends cannot keep an owner from signing in.
    LOGIN = "login"
    # Anyone who passes the bot check, to the bound phone of an account they name (REC-1). Its own, so
    # account lookups cannot spend the owner's reset codes.
    RESET = "reset"
    # Anyone who passes the bot check, to the bound phone of the accounts they look up (REC-2).
    RECOVERY = "recovery"
    # A signed-in account, to a destination it is about to prove (a new phone or e-mail address, the
    # phone reserved at the bank, a school address): any signed-in account may name any destination.
    # Also the new phone of a signed-out phone-rebind appeal, behind the bot check (APL-2).
    SIGNED_IN = "signed_in"
    # The bound phone of the account that asks, with its session (OPERATION, REMITTANCE_ACCOUNT) or its
    # password (LOGIN_CHALLENGE): only the owner, or someone holding the owner's secrets, spends it.
    OWNER = "owner"


BUDGETS = {
    CodePurpose.REGISTRATION: CodeBudget.PUBLIC,
    CodePurpose.LOGIN: CodeBudget.LOGIN,
    CodePurpose.PASSWORD_RESET: CodeBudget.RESET,
    CodePurpose.ACCOUNT_REVEAL: CodeBudget.RECOVERY,
    CodePurpose.PHONE_CHANGE_NEW: CodeBudget.SIGNED_IN,
    CodePurpose.EMAIL_BIND: CodeBudget.SIGNED_IN,
    CodePurpose.BANK_CARD: CodeBudget.SIGNED_IN,
    CodePurpose.STUDENT_EMAIL: CodeBudget.SIGNED_IN,
    CodePurpose.OPERATION: CodeBudget.OWNER,
    CodePurpose.REMITTANCE_ACCOUNT: CodeBudget.OWNER,
    CodePurpose.LOGIN_CHALLENGE: CodeBudget.OWNER,
}
# Codes that can reach a destination the caller does not own count against the client's address as
# well; codes to the caller's own bound phone do not, so a noisy neighbour behind the same NAT cannot
# keep an owner from a step-up or sign-in code.
ADDRESS_CAPPED = frozenset(p for p, b in BUDGETS.items() if b is not CodeBudget.OWNER)
# CODE-3: budgets the owner needs but anyone can spend (SMS sign-in; reset behind the bot check). One
# client network may spend only part of a destination's budget a day, so a single network cannot use
# it all up; the destination's whole budget stays the bound on what reaches the phone.
NETWORK_CAPPED = frozenset({CodeBudget.LOGIN, CodeBudget.RESET})

CODE_LENGTH = 6  # CODE-1
MAX_WRONG_ENTRIES = 5  # CODE-2
RESEND_GAP = timedelta(seconds=60)  # CODE-3
SMS_TTL = timedelta(minutes=5)  # CODE-1
EMAIL_TTL = timedelta(minutes=30)  # CODE-1 / STU-3
