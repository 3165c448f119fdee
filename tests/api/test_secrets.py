"""Secrets stay secret: hashed at rest, out of logs and error messages, masked in production."""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx
from sqlalchemy import select

from app import create_app
from models.accounts import Account
from models.auth import AuthSession
from tests.helpers import PASSWORD, gql, registered_and_signed_in


async def test_password_and_session_token_are_stored_hashed(client, db) -> None:
    token = await registered_and_signed_in(client)
    async with db.read_sessions() as s:
        account = await s.scalar(select(Account))
        session = await s.scalar(select(AuthSession))
    assert account is not None
    assert session is not None
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    assert token not in session.token_hash
    assert len(session.token_hash) == 64


async def test_a_malformed_request_with_an_inline_password_is_not_logged(client, caplog) -> None:
    secret = "Inline-Secret-Password-9"
    caplog.set_level(logging.DEBUG)
    body = await gql(
        client,
        f'mutation {{ sessionCreateByPassword(input: {{loginName: "x", password: "{secret}", extra: 1}}) {{ errors {{ code }} }} }}',
        expect_errors=True,
    )
    assert body["errors"]
    assert all(secret not in r.getMessage() and secret not in str(r.exc_info) for r in caplog.records)


async def test_errors_are_masked_in_production(settings, clock, db) -> None:
    prod = replace(settings, environment="production", sandbox=False)
    app = create_app(prod, clock=clock, db=db)

    async def broken(*_args: object) -> None:
        raise RuntimeError("internal detail: db password=hunter2")

    app.state.deps.bot_check.verify = broken  # a provider failure inside a resolver
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        body = await gql(
            c,
            'mutation { passwordResetStart(input: {loginName: "alice01", botToken: "x"}) { passwordReset { ticket } } }',
            expect_errors=True,
        )
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in str(body)
