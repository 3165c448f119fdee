"""REV-6: reviewers sign in with a password and a TOTP code (accepted once); back-office sessions are
their own and account holders' tokens open nothing."""

from __future__ import annotations

import asyncio

import pyotp
import pytest
from sqlalchemy import select

from models.review import Reviewer
from services.errors import ServiceError
from services.review import reviewers
from tests.helpers import registered_and_signed_in

PASSWORD = "Staff-Only-Passphrase-1"


async def _add(run, username: str = "lin.reviewer", role: str = "reviewer") -> pyotp.TOTP:
    created = await run(reviewers.add_reviewer, username=username, display_name="Lin", role=role, password=PASSWORD)
    assert created.provisioning_uri.startswith("otpauth://totp/")
    otp = pyotp.parse_uri(created.provisioning_uri)
    assert isinstance(otp, pyotp.TOTP)
    return otp


async def test_rev_6_reviewer_signs_in_with_password_and_totp(run, clock, db) -> None:
    # Given a reviewer whose TOTP seed is stored encrypted
    otp = await _add(run)
    async with db.read_sessions() as s:
        stored = await s.scalar(select(Reviewer))
    assert stored is not None
    assert otp.secret not in stored.totp_secret
    assert stored.password_hash.startswith("$argon2id$")
    # When they sign in with the password and the current code
    signed = await run(reviewers.sign_in, "lin.reviewer", PASSWORD, otp.at(clock.now()))
    # Then a back-office session exists, with a CSRF token for its forms
    staff = await run(reviewers.authenticate, signed.token)
    assert staff is not None
    assert staff.reviewer.username == "lin.reviewer"
    assert reviewers.csrf_ok(staff, signed.csrf_token)
    assert not reviewers.csrf_ok(staff, None)
    assert not reviewers.csrf_ok(staff, "csrf_forged")


async def test_rev_6_a_totp_code_is_accepted_once_even_at_once(run, clock) -> None:
    otp = await _add(run)
    code = otp.at(clock.now())
    results = await asyncio.gather(
        *[run(reviewers.sign_in, "lin.reviewer", PASSWORD, code) for _ in range(10)], return_exceptions=True
    )
    # Exactly one sign-in; the replays are failures (and five failures lock the name)
    assert len([r for r in results if isinstance(r, reviewers.ReviewerSignIn)]) == 1
    refusals = {r.code.value for r in results if isinstance(r, ServiceError)}
    assert len([r for r in results if isinstance(r, ServiceError)]) == 9
    assert refusals <= {"INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"}
    # After the lock, a code of a later time step works
    clock.advance(minutes=15, seconds=30)
    assert (await run(reviewers.sign_in, "lin.reviewer", PASSWORD, otp.at(clock.now()))).token


@pytest.mark.parametrize("mistake", ["password", "code", "username"])
async def test_rev_6_wrong_password_code_or_name_gets_one_answer_and_five_lock(run, clock, mistake) -> None:
    otp = await _add(run)
    name = "nobody" if mistake == "username" else "lin.reviewer"
    password = "Wrong-Passphrase-99" if mistake == "password" else PASSWORD
    for i in range(5):
        code = "000000" if mistake == "code" else otp.at(clock.now())
        with pytest.raises(ServiceError) as refused:
            await run(reviewers.sign_in, name, password, code)
        assert refused.value.code.value == "INVALID_CREDENTIALS", i
        clock.advance(seconds=31)
    with pytest.raises(ServiceError) as locked:
        await run(reviewers.sign_in, "lin.reviewer" if mistake != "username" else name, PASSWORD, otp.at(clock.now()))
    if mistake != "username":
        assert locked.value.code.value == "TOO_MANY_ATTEMPTS"


async def test_rev_6_account_holders_tokens_open_no_back_office_session(run, client) -> None:
    account_token = await registered_and_signed_in(client)
    assert await run(reviewers.authenticate, account_token) is None


async def test_rev_6_back_office_sessions_end_after_thirty_idle_minutes(run, clock) -> None:
    otp = await _add(run)
    signed = await run(reviewers.sign_in, "lin.reviewer", PASSWORD, otp.at(clock.now()))
    clock.advance(minutes=29)
    staff = await run(reviewers.authenticate, signed.token)
    assert staff is not None
    assert staff.needs_touch
    await run(reviewers.touch, staff.session_id)  # activity keeps it alive
    clock.advance(minutes=29)
    assert await run(reviewers.authenticate, signed.token) is not None
    clock.advance(minutes=30)
    assert await run(reviewers.authenticate, signed.token) is None


@pytest.mark.parametrize(
    ("username", "role", "password", "code"),
    [
        ("Bad Name", "reviewer", PASSWORD, "INVALID_USERNAME"),
        ("lin.reviewer", "boss", PASSWORD, "INVALID_ROLE"),
        ("lin.reviewer", "lead", "short-pass", "PASSWORD_TOO_SHORT"),
    ],
)
async def test_rev_6_adding_a_reviewer_validates_the_input(run, db, username, role, password, code) -> None:
    with pytest.raises(ServiceError) as refused:
        await run(reviewers.add_reviewer, username=username, display_name="X", role=role, password=password)
    assert refused.value.code.value == code
    async with db.read_sessions() as s:
        assert list(await s.scalars(select(Reviewer))) == []
