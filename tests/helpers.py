"""GraphQL and sandbox helpers shared by the API tests."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.accounts import strength
from services.accounts.agreements import CURRENT, SIGN_UP_AGREEMENTS, AgreementKind
from services.accounts.agreements import STUDENT_AGREEMENTS as STUDENT_KINDS
from services.database import Database

# What registration and activation send (REG-5, REG-6), what student status sends (STU-3), and the
# agreement every real-name verification submits (RN-6: its input holds the version only).
AGREEMENTS = [{"kind": k.value, "version": CURRENT[k].version} for k in SIGN_UP_AGREEMENTS]
STUDENT_AGREEMENTS = [{"kind": k.value, "version": CURRENT[k].version} for k in STUDENT_KINDS]
VERIFICATION_AGREEMENT = {"version": CURRENT[AgreementKind.REAL_NAME_VERIFICATION].version}
PASSWORD = "Blue-Kettle-42!"


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    *,
    expect_errors: bool = False,
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    body = response.json()
    if expect_errors:
        return body
    assert "errors" not in body, body
    return body["data"]


async def mutate(
    client: httpx.AsyncClient, name: str, input: dict[str, Any] | None, selection: str, token: str | None = None
) -> dict[str, Any]:
    """Run `name(input: $input) { selection errors { path message code retryAfter attemptsRemaining } }`."""
    if input is None:
        query = f"mutation {{ {name} {{ {selection} errors {{ path message code retryAfter attemptsRemaining }} }} }}"
        data = await gql(client, query, None, token)
    else:
        type_name = name[0].upper() + name[1:] + "Input"
        query = (
            f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ {selection} "
            "errors { path message code retryAfter attemptsRemaining } } }"
        )
        data = await gql(client, query, {"input": input}, token)
    return data[name]


async def outbox(client: httpx.AsyncClient, destination: str) -> list[dict[str, Any]]:
    response = await client.get("/sandbox/outbox.json", params={"to": destination})
    assert response.status_code == 200
    return response.json()


async def last_code(client: httpx.AsyncClient, destination: str) -> str:
    messages = await outbox(client, destination)
    assert messages, f"no message for {destination}"
    match = re.search(r"\b\d{6}\b", messages[0]["text"])
    assert match
    return match.group()


async def send_code(
    client: httpx.AsyncClient,
    purpose: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    return await mutate(
        client,
        "verificationCodeSend",
        {"purpose": purpose, "phone": phone, "email": email},
        "sentCode { purpose sentTo expiresAt resendAvailableAt dailyRemaining }",
        token,
    )


async def register(client: httpx.AsyncClient, username: str, phone: str, password: str = PASSWORD) -> dict[str, Any]:
    sent = await send_code(client, "REGISTRATION", phone=phone)
    assert sent["errors"] == [], sent
    code = await last_code(client, phone)
    return await mutate(
        client,
        "accountRegister",
        {"username": username, "password": password, "phone": phone, "code": code, "agreements": AGREEMENTS},
        "account { accountId username }",
    )


def sign_in_result(
    signed_in: str = "token", challenge: str = "token factors phoneMasked expiresAt attemptsRemaining"
) -> str:
    """The selection of a `sessionCreateBy...` payload's `result` (the `SignInResult` union, AUTH-6): the given
    fields of `SignedIn` and of `LoginChallenge`, with `__typename`."""
    return f"result {{ __typename ... on SignedIn {{ {signed_in} }} ... on LoginChallenge {{ {challenge} }} }}"


def sign_in_answer(payload: dict[str, Any]) -> dict[str, Any]:
    """A `sessionCreateBy...` payload as the tests read it: `errors`, the fields of a `SignedIn` result side by
    side (`token`, `session`, `account`, `accountCreated` as selected; `token` None without a session), and
    `challenge`: the `LoginChallenge` result, or None. The result is null exactly when `errors` is not empty."""
    result = payload["result"]
    assert (result is None) == bool(payload["errors"]), payload
    answer: dict[str, Any] = {"errors": payload["errors"], "token": None, "challenge": None}
    if result is not None and result["__typename"] == "SignedIn":
        answer.update({k: v for k, v in result.items() if k != "__typename"})
    elif result is not None:
        assert result["__typename"] == "LoginChallenge", result
        answer["challenge"] = {k: v for k, v in result.items() if k != "__typename"}
    return answer


async def sign_in(client: httpx.AsyncClient, login_name: str, password: str = PASSWORD) -> str:
    payload = await mutate(
        client, "sessionCreateByPassword", {"loginName": login_name, "password": password}, sign_in_result()
    )
    assert payload["errors"] == [], payload
    assert payload["result"]["__typename"] == "SignedIn", payload
    return str(payload["result"]["token"])


async def registered_and_signed_in(
    client: httpx.AsyncClient, username: str = "alice01", phone: str = "13700000001"
) -> str:
    result = await register(client, username, phone)
    assert result["errors"] == [], result
    return await sign_in(client, username)


async def sms_sign_in(client: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    """Sign in by SMS (AUTH-2, REG-4); answers as `sign_in_answer` does (`token`, `accountCreated`, `account`)."""
    sent = await send_code(client, "LOGIN", phone=phone)
    assert sent["errors"] == [], sent
    code = await last_code(client, phone)
    payload = await mutate(
        client,
        "sessionCreateBySmsCode",
        {"phone": phone, "code": code},
        sign_in_result("token accountCreated account { id kind accountId activationRequired }"),
    )
    return sign_in_answer(payload)


async def step_up(client: httpx.AsyncClient, token: str, phone: str) -> str:
    sent = await send_code(client, "OPERATION", token=token)
    assert sent["errors"] == [], sent
    code = await last_code(client, phone)
    payload = await mutate(client, "operationChallengeVerify", {"code": code}, "stepUpGrant { token }", token)
    assert payload["errors"] == [], payload
    return str(payload["stepUpGrant"]["token"])


# --- Watching where password hashes run ----------------------------------------------------------

_IN_WRITE: ContextVar[bool] = ContextVar("in_write", default=False)


class WatchedHasher:
    """The app's argon2 hasher, counting verifications and noting each one its caller ran while it held a
    write session, how many pooled connections were checked out then, and how many write sessions the
    app opened in all (`write_sessions`)."""

    def __init__(self, inner: Any, db: Database) -> None:
        self.inner = inner
        self.db = db
        self.verified = 0
        self.inside_write = 0
        self.connections_held: list[int] = []
        self.write_sessions = 0

    async def hash(self, password: str) -> str:
        return str(await self.inner.hash(password))

    async def verify(self, hashed: str | None, password: str) -> bool:
        self.verified += 1
        self.inside_write += _IN_WRITE.get()
        self.connections_held.append(self.db.engine.pool.checkedout())
        return bool(await self.inner.verify(hashed, password))


def watched_hasher(app: Any, db: Database) -> WatchedHasher:
    """Give the app a `WatchedHasher`, and mark every task while it holds one of `db`'s write sessions
    (the edges' `run_write` opens them)."""
    hasher = WatchedHasher(app.state.deps.hasher, db)
    app.state.deps = dataclasses.replace(app.state.deps, hasher=hasher)
    _mark_write_sessions(db, hasher)
    return hasher


def _mark_write_sessions(db: Database, counter: Any) -> None:
    """Set `_IN_WRITE` in every task while it holds one of `db`'s write sessions, and count them in
    `counter.write_sessions`."""
    sessions = db.write_sessions

    @contextlib.asynccontextmanager
    async def marked() -> AsyncIterator[Any]:
        counter.write_sessions += 1
        token = _IN_WRITE.set(True)
        try:
            async with sessions() as session:
                yield session
        finally:
            _IN_WRITE.reset(token)

    db.write_sessions = marked  # called like the sessionmaker: `async with db.write_sessions() as session`


class WatchedStrength:
    """zxcvbn as the strength module calls it (REG-7), counting its runs and noting, for each, the thread
    it ran on, whether its caller held a write session, whether this process's write queue was held
    (SQLite), and how many pooled connections were checked out."""

    def __init__(self, inner: Any, db: Database) -> None:
        self.inner = inner
        self.db = db
        self.calls = 0
        self.inside_write = 0
        self.queue_held = 0
        self.threads: set[str] = set()
        self.connections_held: list[int] = []
        self.write_sessions = 0

    def __call__(self, password: str, user_inputs: Any = None, **kwargs: Any) -> Any:
        self.calls += 1
        self.inside_write += _IN_WRITE.get()
        self.queue_held += bool(self.db.write_queue is not None and self.db.write_queue.locked())
        self.threads.add(threading.current_thread().name)
        self.connections_held.append(self.db.engine.pool.checkedout())
        return self.inner(password, user_inputs=user_inputs, **kwargs)


def watched_strength(monkeypatch: pytest.MonkeyPatch, db: Database) -> WatchedStrength:
    """Replace zxcvbn in `services.accounts.strength` with a `WatchedStrength` around it, and mark every
    task while it holds one of `db`'s write sessions."""
    spy = WatchedStrength(strength.zxcvbn, db)
    monkeypatch.setattr(strength, "zxcvbn", spy)
    _mark_write_sessions(db, spy)
    return spy


# --- REG-4: portal accounts bound to a phone ------------------------------------------------------


async def portal_accounts_binding(db: Database, phone_e164: str, count: int, now: datetime) -> None:
    """`count` live portal accounts that bind the phone without holding it (REG-4), as accounts that moved
    onto it would: each with a username to sign in with, none reached by the phone's SMS sign-in."""
    from models.accounts import Account

    async with db.write_sessions() as s:
        s.add_all(
            Account(kind="portal", status="active", phone=phone_e164, phone_holder=False, username=f"binder{i}",
                    username_key=f"binder{i}", idle_timeout_minutes=60, op_protection_sms=True,
                    op_protection_totp=False, login_protection_sms=False, login_protection_totp=False,
                    created_at=now)
            for i in range(count)
        )  # fmt: skip
        await s.commit()
