"""Corporate bank transfer payouts over the API: arrival and idempotency (docs/sandbox.md "Bank").

RULES: RNE-4

Sandbox accounts ending in 3 are paid at once but the money arrives a day later, and the 8 days to
enter the amount run from that arrival; ending in 4 the bank times out on the payout request although
it paid, and the service finds the payout by its reference instead of paying again.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from models.enterprise import BankPayout, EnterpriseApplication
from models.verification import VerificationAttempt
from services.clock import ManualClock
from services.database import Database, DbTransactions
from services.providers.bank import SandboxBank, format_cny
from services.sweeper import sweep, sweep_round
from services.verification.enterprise.transfer import pay_out
from tests.api.test_enterprise import (
    _sign_in_again,
    confirm,
    current,
    face_pass,
    statement,
    transfer,
)
from tests.api.test_verification import codes_of, ticket_path
from tests.helpers import gql, registered_and_signed_in

ARRIVES_NEXT_DAY = "110060149018000883"
TIMES_OUT = "110060149018000884"
AT_ONCE = "110060149018000880"


async def _node(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return dict((await current(client, token))["enterpriseVerifications"]["edges"][0]["node"])


async def _arrival(client: httpx.AsyncClient, token: str) -> tuple[str | None, str | None]:
    query = "{ viewer { enterpriseVerifications(first: 1) { edges { node { payoutArrivedAt amountDeadline } } } } }"
    node = (await gql(client, query, token=token))["viewer"]["enterpriseVerifications"]["edges"][0]["node"]
    return node["payoutArrivedAt"], node["amountDeadline"]


async def _paid_out(client: httpx.AsyncClient, token: str, account_number: str) -> str:
    started = await transfer(client, token, accountNumber=account_number)
    assert started["errors"] == [], started
    await face_pass(client, started)
    return str(started["faceCheckStart"]["enterpriseVerification"]["id"])


def _count_pay_calls(bank: SandboxBank, monkeypatch: Any) -> list[str]:
    """The references `pay` is called with: the bank pays once per reference anyway, and the service must
    not even ask twice."""
    calls: list[str] = []
    real = bank.pay

    async def pay(reference: str, account: Any, amount_fen: int) -> Any:
        calls.append(reference)
        return await real(reference, account, amount_fen)

    monkeypatch.setattr(bank, "pay", pay)
    return calls


def _bank(app: Any) -> SandboxBank:
    bank = app.state.deps.providers.bank
    assert isinstance(bank, SandboxBank)
    return bank


async def _payouts(db: Database) -> list[tuple[int, str, str, int]]:
    async with db.read_sessions() as s:
        rows = await s.execute(
            select(BankPayout.application_id, BankPayout.reference, BankPayout.status, BankPayout.amount_fen)
        )
        return [(a, r, st, f) for a, r, st, f in rows.all()]


async def test_rne_4_ending_0_the_payout_arrives_at_once_and_the_8_days_run_from_then(
    client, clock: ManualClock
) -> None:
    token = await registered_and_signed_in(client)
    vid = await _paid_out(client, token, AT_ONCE)
    assert await _arrival(client, token) == (clock.now().isoformat(), (clock.now() + timedelta(days=8)).isoformat())
    [credit] = await statement(client, AT_ONCE)
    assert credit["arrived_at"] == credit["paid_at"] == clock.now().isoformat()
    done = await confirm(client, token, vid, credit["amount"])
    assert (done["errors"], done["enterpriseVerification"]["status"]) == ([], "VERIFIED")


async def test_rne_4_ending_3_arrives_a_day_later_and_the_8_days_run_from_the_arrival(
    client, clock: ManualClock, run
) -> None:
    token = await registered_and_signed_in(client)
    paid_at = clock.now()
    vid = await _paid_out(client, token, ARRIVES_NEXT_DAY)
    # Before the arrival: paid, not arrived, no deadline yet; the statement has no amount to read
    node = await _node(client, token)
    assert (node["status"], node["wrongAmountEntriesLeft"]) == ("AMOUNT_PENDING", 2)
    assert await _arrival(client, token) == (None, None)
    [credit] = await statement(client, ARRIVES_NEXT_DAY)
    arrival = paid_at + timedelta(days=1)
    assert (credit["amount"], credit["arrived_at"], credit["arrives_at"]) == (None, None, arrival.isoformat())
    assert "in transit" in (await client.get(f"/sandbox/bank/{ARRIVES_NEXT_DAY}")).text
    # An amount entered now is refused with its own code, and nothing is counted
    early = await confirm(client, token, vid, "0.50")
    assert codes_of(early) == [("PAYOUT_NOT_ARRIVED", ["input", "id"])]
    assert early["errors"][0]["retryAfter"] == 24 * 3600
    node = await _node(client, token)
    assert (node["status"], node["wrongAmountEntriesLeft"]) == ("AMOUNT_PENDING", 2)
    # A day later it has arrived: the deadline is the arrival plus 8 days
    clock.advance(days=1)
    token = await _sign_in_again(client)
    deadline = arrival + timedelta(days=8)
    assert await _arrival(client, token) == (arrival.isoformat(), deadline.isoformat())
    [credit] = await statement(client, ARRIVES_NEXT_DAY)
    assert credit["arrived_at"] == arrival.isoformat()
    assert 0.01 <= float(credit["amount"]) <= 1.00
    # 8 days after the payout, but not after its arrival: still open, for the sweeper too
    clock.advance(days=7, hours=1)
    assert (await run(sweep))["enterprise_steps_ended"] == 0
    token = await _sign_in_again(client)
    assert (await _node(client, token))["status"] == "AMOUNT_PENDING"
    # 8 days after the arrival: expired on read, then by the sweeper
    clock.set(deadline)
    token = await _sign_in_again(client)
    node = await _node(client, token)
    assert (node["status"], node["failureReason"]) == ("EXPIRED", "AMOUNT_DEADLINE_PASSED")
    assert (await run(sweep))["enterprise_steps_ended"] == 1
    late = await confirm(client, token, vid, credit["amount"])
    assert codes_of(late) == [("NOT_AWAITING_AMOUNT", ["input", "id"])]


async def test_rne_4_ending_3_the_amount_received_verifies_once_arrived(client, clock: ManualClock) -> None:
    token = await registered_and_signed_in(client)
    vid = await _paid_out(client, token, ARRIVES_NEXT_DAY)
    clock.advance(days=1)
    token = await _sign_in_again(client)
    [credit] = await statement(client, ARRIVES_NEXT_DAY)
    done = await confirm(client, token, vid, credit["amount"])
    assert (done["errors"], done["enterpriseVerification"]["status"]) == ([], "VERIFIED")
    assert done["enterpriseVerification"]["amountDeadline"] == (clock.now() + timedelta(days=8)).isoformat()


async def test_rne_4_ending_4_a_timed_out_payout_is_found_by_its_reference_and_paid_once(
    app, client, clock: ManualClock, db: Database, monkeypatch
) -> None:
    calls = _count_pay_calls(_bank(app), monkeypatch)
    token = await registered_and_signed_in(client)
    vid = await _paid_out(client, token, TIMES_OUT)
    # The request timed out; the service looked the payout up by its reference at once
    node = await _node(client, token)
    assert (node["status"], node["failureReason"]) == ("AMOUNT_PENDING", None)
    assert await _arrival(client, token) == (clock.now().isoformat(), (clock.now() + timedelta(days=8)).isoformat())
    [(application_id, reference, status, amount)] = await _payouts(db)
    assert (reference, status) == (f"ACV{application_id:010d}", "paid")
    assert [(p.reference, p.account.account_number, p.amount_fen) for p in _bank(app).ledger] == [
        (reference, TIMES_OUT, amount)
    ]
    [credit] = await statement(client, TIMES_OUT)
    assert credit["reference"] == reference
    done = await confirm(client, token, vid, credit["amount"])
    assert (done["errors"], done["enterpriseVerification"]["status"]) == ([], "VERIFIED")
    assert len(_bank(app).payouts()) == 1
    assert calls == [reference]


async def test_rne_4_a_payout_still_unknown_is_looked_up_later_by_the_sweeper_never_paid_again(
    app, client, clock: ManualClock, db: Database, run, monkeypatch
) -> None:
    bank = _bank(app)

    async def down(reference: str) -> None:
        raise ConnectionError("reset")

    token = await registered_and_signed_in(client)
    monkeypatch.setattr(bank, "lookup", down)
    vid = await _paid_out(client, token, TIMES_OUT)
    # Timed out, and the bank cannot say yet: the payout stays pending, not failed and not paid again
    node = await _node(client, token)
    assert (node["status"], node["failureReason"]) == ("PAYOUT_PENDING", None)
    assert await _arrival(client, token) == (None, None)
    early = await confirm(client, token, vid, "0.50")  # the look-up on entry fails as well
    assert codes_of(early) == [("PAYOUT_NOT_ARRIVED", ["input", "id"])]
    clock.advance(minutes=10)  # no time-out of its own: it ends with the bank's answer
    assert (await run(sweep))["enterprise_steps_ended"] == 0
    assert (await sweep_round(db, app.state.deps))["payouts_resolved"] == 0
    monkeypatch.undo()
    token = await _sign_in_again(client)
    assert (await _node(client, token))["status"] == "PAYOUT_PENDING"
    counts = await sweep_round(db, app.state.deps)
    assert isinstance(counts, dict)
    assert counts["payouts_resolved"] == 1
    node = await _node(client, token)
    assert (node["status"], node["wrongAmountEntriesLeft"]) == ("AMOUNT_PENDING", 2)
    assert len(bank.payouts()) == len(bank.ledger) == 1
    [(_, _, status, amount)] = await _payouts(db)
    assert status == "paid"
    done = await confirm(client, token, vid, format_cny(amount))
    assert (done["errors"], done["enterpriseVerification"]["status"]) == ([], "VERIFIED")


async def test_rne_4_the_users_amount_entry_looks_an_unknown_payout_up_first(
    app, client, db: Database, monkeypatch
) -> None:
    bank = _bank(app)

    async def down(reference: str) -> None:
        raise ConnectionError("reset")

    token = await registered_and_signed_in(client)
    monkeypatch.setattr(bank, "lookup", down)
    vid = await _paid_out(client, token, TIMES_OUT)
    monkeypatch.undo()
    [(_, _, status, amount)] = await _payouts(db)
    assert status == "requested"
    done = await confirm(client, token, vid, format_cny(amount))
    assert (done["errors"], done["enterpriseVerification"]["status"]) == ([], "VERIFIED")
    assert len(bank.payouts()) == 1


async def test_rne_4_a_reference_the_bank_never_got_ends_as_a_provider_failure_and_is_given_back(
    app, client, clock: ManualClock, db: Database, monkeypatch
) -> None:
    bank = _bank(app)

    async def lost(reference: str, account: Any, amount_fen: int) -> None:  # the request never reached the bank
        raise ConnectionError("reset")

    token = await registered_and_signed_in(client)
    monkeypatch.setattr(bank, "pay", lost)
    await _paid_out(client, token, AT_ONCE)
    monkeypatch.undo()
    assert (await _node(client, token))["status"] == "PAYOUT_PENDING"
    assert (await sweep_round(db, app.state.deps))["payouts_resolved"] == 0  # the bank may still be booking it
    clock.advance(minutes=5)
    assert (await sweep_round(db, app.state.deps))["payouts_resolved"] == 1
    token = await _sign_in_again(client)
    state = await current(client, token)
    node = state["enterpriseVerifications"]["edges"][0]["node"]
    assert (node["status"], node["failureReason"]) == ("FAILED", "PROVIDER_UNAVAILABLE")
    assert state["verificationMethods"][1]["attemptsUsed"] == 0
    assert bank.ledger == []
    assert [status for _, _, status, _ in await _payouts(db)] == ["not_found"]
    assert await statement(client, AT_ONCE) == []


async def test_rne_4_concurrent_face_callbacks_sweeps_and_entries_pay_once_per_verification(
    app, client, db: Database, monkeypatch
) -> None:
    bank = _bank(app)
    real_lookup = bank.lookup

    async def down(reference: str) -> None:
        raise ConnectionError("reset")

    calls = _count_pay_calls(bank, monkeypatch)
    token = await registered_and_signed_in(client)
    started = await transfer(client, token, accountNumber=TIMES_OUT)
    vid = started["faceCheckStart"]["enterpriseVerification"]["id"]
    monkeypatch.setattr(bank, "lookup", down)
    # The phone submits the face page five times at once: one passes, one payout request
    answers = await asyncio.gather(*(client.post(ticket_path(started), data={"outcome": "pass"}) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409, 409]
    assert len(bank.ledger) == 1
    # The outcome is unknown; the service's payout calls, sweeper rounds and the user's entries race
    monkeypatch.setattr(bank, "lookup", real_lookup)
    [(application_id, _, _, amount)] = await _payouts(db)
    right = format_cny(amount)
    tx = DbTransactions(db, app.state.deps)
    results = await asyncio.gather(
        *(pay_out(tx, application_id) for _ in range(3)),
        *(sweep_round(db, app.state.deps) for _ in range(3)),
        *(confirm(client, token, vid, right) for _ in range(3)),
    )
    assert len(bank.payouts()) == len(bank.ledger) == len(calls) == 1
    assert len(await _payouts(db)) == 1
    entries = [r for r in results if isinstance(r, dict) and "enterpriseVerification" in r]
    assert len(entries) == 3
    assert all(codes_of(e) in ([], [("NOT_AWAITING_AMOUNT", ["input", "id"])]) for e in entries)
    assert any(e["errors"] == [] for e in entries)  # an entry verified it; the others found it settled
    async with db.read_sessions() as s:
        assert await s.scalar(select(EnterpriseApplication.state)) == "verified"
        assert await s.scalar(select(VerificationAttempt.outcome)) == "passed"  # not ended by a second callback
