"""AUTH-6: login protection. A correct password yields a pending challenge, not a session, until a
second factor enabled for login protection passes (MFA-1, MFA-2).

A challenge lives 5 minutes, is bound to the client that gave the password (a keyed hash of its
address and user agent), allows 5 wrong factors, and ends when the password changes. Its answer
names the factors available and the phone masked only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.accounts import Account
from models.mfa import LoginChallenge
from services.accounts import repository as accounts_repo
from services.auth import repository as repo
from services.auth.errors import AuthErrorCode as Code
from services.client import ClientInfo
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.errors import ServiceError
from services.mfa import devices
from services.security import new_token, token_hash
from services.uow import Uow

CHALLENGE_TTL = timedelta(minutes=5)
MAX_WRONG = 5


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    token: str
    account: Account
    factors: list[str]
    expires_at: datetime
    attempts_remaining: int


def login_factors(account: Account) -> list[str]:
    """The factors login protection asks for (empty: protection off)."""
    return [f for f, on in (("sms", account.login_protection_sms), ("totp", account.login_protection_totp)) if on]


def accepted_factors(account: Account) -> list[str]:
    """What a challenge answer may use: the enabled factors, and recovery codes wherever TOTP is."""
    factors = login_factors(account)
    return factors + (["recovery_code"] if "totp" in factors else [])


def client_key(uow: Uow, ip: str | None, user_agent: str | None) -> str:
    return uow.keyed(f"login-client:{ip or ''}|{(user_agent or '')[:256]}")


async def issue(uow: Uow, account: Account, key: str) -> IssuedChallenge:
    token = new_token("lch")
    now = uow.now()
    await repo.add_challenge(
        uow,
        LoginChallenge(
            token_hash=token_hash(token),
            account_id=account.id,
            client_key=key,
            password_hash_seen=account.password_hash or "",
            attempts=0,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        ),
    )
    return IssuedChallenge(token, account, accepted_factors(account), now + CHALLENGE_TTL, MAX_WRONG)


def _invalid() -> ServiceError:
    return ServiceError(
        Code.LOGIN_CHALLENGE_INVALID,
        "The sign-in challenge is unknown, used, expired or from another client; sign in with the password again.",
        "token",
    )


async def live(uow: Uow, token: str, key: str) -> tuple[LoginChallenge, Account]:
    challenge = await repo.challenge_by_hash(uow, token_hash(token or ""))
    if challenge is None or challenge.consumed_at is not None or challenge.client_key != key:
        raise _invalid()
    if challenge.expires_at <= uow.now():
        raise ServiceError(
            Code.LOGIN_CHALLENGE_EXPIRED, "The sign-in challenge expired (5 minutes); sign in again.", "token"
        )
    if challenge.attempts >= MAX_WRONG:
        raise _exhausted()
    account = await accounts_repo.get(uow, challenge.account_id)
    if account is None or account.status != "active" or (account.password_hash or "") != challenge.password_hash_seen:
        raise _invalid()  # the password changed (or the account went) since the challenge was issued
    return challenge, account


def _exhausted() -> ServiceError:
    return ServiceError(
        Code.LOGIN_CHALLENGE_ATTEMPTS_EXHAUSTED,
        "Too many wrong codes for this sign-in; sign in with the password again.",
        "token",
        attempts_remaining=0,
    )


async def send_code(uow: Uow, token: str, key: str, client_ip: str | None) -> codes.SentCode:
    """The SMS factor: a LOGIN_CHALLENGE code to the bound phone (only when SMS is enabled)."""
    _, account = await live(uow, token, key)
    if "sms" not in login_factors(account):
        raise ServiceError(Code.FACTOR_NOT_ENABLED, "Login protection does not use SMS for this account.", "token")
    return await codes.send(
        uow,
        channel="sms",
        destination=account.phone,
        purpose=CodePurpose.LOGIN_CHALLENGE,
        client_ip=client_ip,
        account_id=account.id,
    )


async def answer(uow: Uow, token: str, key: str, factor: str, code: str, client: ClientInfo | None = None) -> Account:
    """Pass an enabled factor (a recovery code stands for TOTP); a wrong answer is counted (5 at most).
    A code malformed for its factor is refused first, before the challenge is looked up: it is no guess."""
    if (problem := devices.factor_code_problem(factor, code)) is not None:
        raise problem
    _, found = await live(uow, token, key)
    await accounts_repo.lock_account(uow, found.id)
    challenge, account = await live(uow, token, key)  # seen again under the lock: one answer at a time
    enabled = login_factors(account)
    if ("totp" if factor == "recovery_code" else factor) not in enabled:
        raise ServiceError(Code.FACTOR_NOT_ENABLED, f"Login protection asks for {' or '.join(enabled)}.", "factor")
    try:
        if factor == "sms":
            await codes.verify(uow, destination=account.phone, purpose=CodePurpose.LOGIN_CHALLENGE, code=code)
        elif factor == "totp":
            await devices.accept_code(uow, account.id, code, at_sign_in=True)
        else:
            await devices.accept_recovery_code(uow, account.id, code, at_sign_in=True, client=client)
    except ServiceError as err:
        if err.code.name in {"CODE_FORMAT_INVALID", "MFA_DEVICE_NOT_BOUND"} or (
            err.code.name == "TOO_MANY_ATTEMPTS" and err.attempts_remaining is None
        ):
            raise  # no guess was made at this challenge
        attempts = await repo.count_wrong_challenge_answer(uow, challenge.id, MAX_WRONG)
        if attempts is None:
            exhausted = _exhausted()
            exhausted.persist = True  # the wrong guess is still counted against the factor
            raise exhausted from None
        err.persist = True
        err.attempts_remaining = MAX_WRONG - attempts
        raise
    if not await repo.consume_challenge(uow, challenge.id, uow.now()):
        raise _invalid()
    return account
