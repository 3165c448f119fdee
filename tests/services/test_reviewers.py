"""REV-6: reviewers sign in with a password and a TOTP code (accepted once), throttled per address and
per (name, address); back-office sessions are their own, end when idle or old, and account holders'
tokens open nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

import pyotp
import pytest
from sqlalchemy import select

from models.auth import LoginThrottle
from models.review import Reviewer
from services.database import DbTransactions
from services.errors import ServiceError
from services.review import reviewers
from tests.helpers import registered_and_signed_in, watched_hasher

PASSWORD = "Staff-Only-Passphrase-1"
OFFICE = "203.0.113.20"
ATTACKER = "198.51.100.66"


@pytest.fixture
def sign_in(app, db):
    """`reviewers.sign_in` as the back office calls it, from OFFICE unless told; a refusal is raised."""

    async def call(username: str, password: str, code: str, ip: str | None = OFFICE) -> reviewers.ReviewerSignIn:
        result = await reviewers.sign_in(DbTransactions(db, app.state.deps), username, password, code, ip)
        if isinstance(result, ServiceError):
            raise result
        return result

    return call


async def _throttle_rows(db) -> list[tuple[str, int, object, object]]:
    async with db.read_sessions() as s:
        rows = await s.execute(
            select(
                LoginThrottle.key, LoginThrottle.failures, LoginThrottle.window_started_at, LoginThrottle.locked_until
            ).order_by(LoginThrottle.key)
        )
        return [tuple(r) for r in rows.all()]


async def _add(run, username: str = "lin.reviewer", role: str = "reviewer") -> pyotp.TOTP:
    created = await run(reviewers.add_reviewer, username=username, display_name="Lin", role=role, password=PASSWORD)
    assert created.provisioning_uri.startswith("otpauth://totp/")
    otp = pyotp.parse_uri(created.provisioning_uri)
    assert isinstance(otp, pyotp.TOTP)
    return otp


async def test_rev_6_reviewer_signs_in_with_password_and_totp(run, clock, db, sign_in) -> None:
    # Given a reviewer whose TOTP seed is stored encrypted
    otp = await _add(run)
    async with db.read_sessions() as s:
        stored = await s.scalar(select(Reviewer))
    assert stored is not None
    assert otp.secret not in stored.totp_secret
    assert stored.password_hash.startswith("$argon2id$")
    # When they sign in with the password and the current code
    signed = await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()))
    # Then a back-office session exists, with a CSRF token for its forms
    staff = await run(reviewers.authenticate, signed.token)
    assert staff is not None
    assert staff.reviewer.username == "lin.reviewer"
    assert reviewers.csrf_ok(staff, signed.csrf_token)
    assert not reviewers.csrf_ok(staff, None)
    assert not reviewers.csrf_ok(staff, "csrf_forged")


async def test_rev_6_a_totp_code_is_accepted_once_even_at_once(run, clock, sign_in) -> None:
    otp = await _add(run)
    code = otp.at(clock.now())
    results = await asyncio.gather(
        *[sign_in("lin.reviewer", PASSWORD, code) for _ in range(10)], return_exceptions=True
    )
    # Exactly one sign-in; the replays are failures (and five failures lock the name)
    assert len([r for r in results if isinstance(r, reviewers.ReviewerSignIn)]) == 1
    refusals = {r.code.value for r in results if isinstance(r, ServiceError)}
    assert len([r for r in results if isinstance(r, ServiceError)]) == 9
    assert refusals <= {"INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"}
    # After the lock, a code of a later time step works
    clock.advance(minutes=15, seconds=30)
    assert (await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()))).token


@pytest.mark.parametrize("mistake", ["password", "code", "username"])
async def test_rev_6_wrong_password_code_or_name_gets_one_answer_one_hash_and_five_lock(
    run, app, db, clock, sign_in, mistake
) -> None:
    # Given a reviewer; an unknown name is answered exactly like a known one, after one hash as well
    otp = await _add(run)
    hasher = watched_hasher(app, db)
    name = "nobody" if mistake == "username" else "lin.reviewer"
    password = "Wrong-Passphrase-99" if mistake == "password" else PASSWORD
    messages = set()
    for i in range(5):
        code = "000000" if mistake == "code" else otp.at(clock.now())
        with pytest.raises(ServiceError) as refused:
            await sign_in(name, password, code)
        assert refused.value.code.value == "INVALID_CREDENTIALS", i
        messages.add(refused.value.message)
        clock.advance(seconds=31)
    assert messages == {"The username, password or code is wrong."}
    assert hasher.verified == 5
    # The sixth try from that address is refused before any hash, even with the right password and code
    with pytest.raises(ServiceError) as locked:
        await sign_in(name, PASSWORD, otp.at(clock.now()))
    assert locked.value.code.value == "TOO_MANY_ATTEMPTS"
    assert locked.value.retry_after == 15 * 60 - 31  # the lock began at the fifth failure, 31 s ago
    assert locked.value.message == "Too many failed sign-ins; try again in 15 minutes."
    assert hasher.verified == 5


async def test_rev_6_account_holders_tokens_open_no_back_office_session(run, client) -> None:
    account_token = await registered_and_signed_in(client)
    assert await run(reviewers.authenticate, account_token) is None


async def test_rev_6_back_office_sessions_end_after_thirty_idle_minutes(run, clock, sign_in) -> None:
    otp = await _add(run)
    signed = await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()))
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


# --- REV-6: the sign-in throttle, exact under concurrency, per address and per (name, address) ------


async def test_rev_6_sixty_simultaneous_wrong_passwords_for_one_name_are_judged_five_times(
    run, app, db, clock, sign_in
) -> None:
    # Given a reviewer, and 60 wrong passwords for the name sent at once from one address
    otp = await _add(run)
    hasher = watched_hasher(app, db)
    results = await asyncio.gather(
        *[sign_in("lin.reviewer", f"Guess-{i}-Passphrase", "000000", ATTACKER) for i in range(60)],
        return_exceptions=True,
    )
    # Then 5 were judged, each after one hash outside any write transaction; 55 were refused before a hash
    assert Counter(r.code.value for r in results) == {"INVALID_CREDENTIALS": 5, "TOO_MANY_ATTEMPTS": 55}
    assert hasher.verified == 5
    assert hasher.inside_write == 0
    # And the right password and code from that address are refused until the lock ends, with no hash
    with pytest.raises(ServiceError) as locked:
        await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()), ATTACKER)
    assert locked.value.code.value == "TOO_MANY_ATTEMPTS"
    assert hasher.verified == 5
    # While the reviewer signs in from the office
    assert (await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()), OFFICE)).token
    clock.advance(minutes=15)
    assert (await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()), ATTACKER)).token


async def test_rev_6_sixty_simultaneous_sign_ins_with_made_up_names_from_one_address_are_judged_twenty_times(
    run, app, db, clock, sign_in
) -> None:
    # Given a reviewer, and 60 tries at once from one address, each for another made-up name
    otp = await _add(run)
    hasher = watched_hasher(app, db)
    results = await asyncio.gather(
        *[sign_in(f"nobody{i}", "Wrong-Passphrase-99", "000000", ATTACKER) for i in range(60)],
        return_exceptions=True,
    )
    # Then the address's 20 tries were judged and 40 were refused before any hash
    assert Counter(r.code.value for r in results) == {"INVALID_CREDENTIALS": 20, "TOO_MANY_ATTEMPTS": 40}
    assert hasher.verified == 20
    # And the address is locked for 15 minutes, for every name
    with pytest.raises(ServiceError) as locked:
        await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()), ATTACKER)
    assert (locked.value.code.value, locked.value.retry_after) == ("TOO_MANY_ATTEMPTS", 15 * 60)
    clock.advance(minutes=15)
    assert (await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()), ATTACKER)).token


async def test_rev_6_the_password_is_hashed_with_no_write_transaction_or_connection_held(
    run, app, db, clock, sign_in
) -> None:
    # Given a reviewer, and a hasher that notes what its caller holds
    otp = await _add(run)
    hasher = watched_hasher(app, db)
    # When they sign in with a wrong password, an unknown name, and then rightly
    with pytest.raises(ServiceError):
        await sign_in("lin.reviewer", "Wrong-Passphrase-99", otp.at(clock.now()))
    with pytest.raises(ServiceError):
        await sign_in("nobody", PASSWORD, otp.at(clock.now()))
    assert (await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()))).token
    # Then every hash ran outside any write transaction, with no database connection checked out
    assert hasher.verified == 3
    assert hasher.inside_write == 0
    assert hasher.connections_held == [0, 0, 0]


async def test_rev_6_a_failed_try_writes_once_unless_it_takes_the_last_try(run, app, db, clock, sign_in) -> None:
    # Given a reviewer
    otp = await _add(run)
    hasher = watched_hasher(app, db)
    # When four wrong passwords are sent, each is reserved (one write) and judged with nothing more written
    for i in range(1, 5):
        with pytest.raises(ServiceError):
            await sign_in("lin.reviewer", "Wrong-Passphrase-99", "000000")
        assert hasher.write_sessions == i
    # Then the fifth, which takes the last try, writes again to lock the name for this address
    with pytest.raises(ServiceError):
        await sign_in("lin.reviewer", "Wrong-Passphrase-99", "000000")
    assert hasher.write_sessions == 6
    # And a right sign-in from elsewhere writes twice: the reservation, then the TOTP step and the session
    await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()), ATTACKER)
    assert hasher.write_sessions == 8


async def test_rev_6_a_refused_try_moves_no_counter(run, db, clock, sign_in) -> None:
    # Given a reviewer whose name is locked for the attacker's address
    otp = await _add(run)
    for _ in range(5):
        with pytest.raises(ServiceError):
            await sign_in("lin.reviewer", "Wrong-Passphrase-99", "000000", ATTACKER)
    before = await _throttle_rows(db)
    assert sorted(failures for _, failures, _, _ in before) == [5, 5]
    # When the attacker tries again, with another name as well, ten minutes later
    clock.advance(minutes=10)
    with pytest.raises(ServiceError) as refused:
        await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()), ATTACKER)
    # Then the refusal says when the lock ends and changed no throttle row
    assert (refused.value.code.value, refused.value.retry_after) == ("TOO_MANY_ATTEMPTS", 5 * 60)
    assert await _throttle_rows(db) == before


async def test_rev_6_a_successful_sign_in_clears_the_names_failures_from_that_address(run, db, clock, sign_in) -> None:
    # Given four wrong passwords from the office, then the right one
    otp = await _add(run)
    for _ in range(4):
        with pytest.raises(ServiceError):
            await sign_in("lin.reviewer", "Wrong-Passphrase-99", "000000")
    await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()))
    # Then the (name, address) count is back to 0 and the address keeps its four failures only
    assert sorted(failures for _, failures, _, _ in await _throttle_rows(db)) == [0, 4]
    # And five more wrong passwords are judged before the next lock
    for _ in range(5):
        with pytest.raises(ServiceError) as refused:
            await sign_in("lin.reviewer", "Wrong-Passphrase-99", "000000")
        assert refused.value.code.value == "INVALID_CREDENTIALS"


# --- REV-6: the absolute lifetime of a back-office session ----------------------------------------


async def test_rev_6_a_back_office_session_ends_twelve_hours_after_sign_in_however_active(run, clock, sign_in) -> None:
    # Given a reviewer who signs in and stays active (a page every 20 minutes)
    otp = await _add(run)
    signed = await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()))
    for _ in range(35):  # 11 h 40 min
        clock.advance(minutes=20)
        staff = await run(reviewers.authenticate, signed.token)
        assert staff is not None
        await run(reviewers.touch, staff.session_id)
    clock.advance(minutes=19, seconds=59)
    assert await run(reviewers.authenticate, signed.token) is not None
    # When the default 12 hours since sign-in are up, the session is no longer live
    clock.advance(seconds=1)
    assert await run(reviewers.authenticate, signed.token) is None


async def test_rev_6_the_session_lifetime_follows_the_setting(run, app, clock, sign_in) -> None:
    # Given REVIEWER_SESSION_MAX_AGE_HOURS=1
    deps = app.state.deps
    app.state.deps = replace(deps, settings=replace(deps.settings, reviewer_session_max_age_hours=1))
    otp = await _add(run)
    signed = await sign_in("lin.reviewer", PASSWORD, otp.at(clock.now()))
    for _ in range(2):  # used every 29 minutes
        clock.advance(minutes=29)
        staff = await run(reviewers.authenticate, signed.token)
        assert staff is not None
        await run(reviewers.touch, staff.session_id)
    # When the hour is up, the session is not live although it was used two minutes ago
    clock.advance(minutes=2)
    assert await run(reviewers.authenticate, signed.token) is None
