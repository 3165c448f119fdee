"""REC-2: look-ups by real-name information or account ID that find nothing are throttled per client network
(10 an hour), reserved before the look-up, so the throttle tells nothing about the criteria and racing
probes get no more answers than the budget; look-ups that find accounts, and look-ups by phone, are not
counted."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from models.auth import LoginThrottle, RecoveryTicket
from models.codes import OutboxMessage
from services.clock import ManualClock
from services.database import Database
from tests.helpers import mutate, register

BOT_PASS = "sandbox-pass"
PHONE = "13700000001"
UNKNOWN_ID = "1000000000000001"
NOBODY = {"name": "李四", "idNumber": "11010519491231002X"}
LIMITED = [("LOOKUP_LIMIT_REACHED", None)]


async def _lookup(client: httpx.AsyncClient, **by: Any) -> dict:
    return await mutate(
        client,
        "accountRecoveryLookup",
        {"botToken": BOT_PASS, "by": by},
        "lookup { accounts { kind loginNamesMasked } reveal { ticket } }",
    )


def _errors(payload: dict) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["path"]) for e in payload["errors"]]


async def _traces(db: Database) -> tuple[int, int, list[tuple[str, int]]]:
    """Messages sent, reveal tickets, and the counted look-up budgets."""
    async with db.read_sessions() as s:
        sent = len(list(await s.scalars(select(OutboxMessage.id))))
        tickets = len(list(await s.scalars(select(RecoveryTicket.id))))
        budgets = [
            (t.key, t.failures)
            for t in await s.scalars(select(LoginThrottle).where(LoginThrottle.key.like("recovery-lookup:%")))
        ]
    return sent, tickets, budgets


@pytest.fixture
async def other_network(app: Any) -> Any:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_rec_2_failed_identity_lookups_are_throttled_per_network(
    client, other_network, db: Database, clock: ManualClock
) -> None:
    # Given an account whose account ID is known
    alice = await register(client, "alice01", PHONE)
    alice_id = alice["account"]["accountId"]
    # When ten look-ups by name + ID number or by account ID find nothing within the hour
    nothing = [
        await _lookup(client, **({"identity": NOBODY} if i % 2 else {"accountId": UNKNOWN_ID})) for i in range(10)
    ]
    # Then each answers as before: an empty list, no error
    assert nothing == [{"lookup": {"accounts": [], "reveal": None}, "errors": []}] * 10
    before = await _traces(db)
    assert before[2] == [("recovery-lookup:203.0.113.7", 10)]
    # When the eleventh comes, for an account that exists or for nobody
    clock.advance(minutes=20)
    existing = await _lookup(client, accountId=alice_id)
    unknown = await _lookup(client, identity=NOBODY)
    # Then both are refused alike, before any look-up, until the hour is over: nothing is told, sent or counted
    assert _errors(existing) == _errors(unknown) == LIMITED
    assert existing == unknown
    assert existing["errors"][0]["retryAfter"] == 40 * 60
    assert existing["errors"][0]["message"] == "Too many look-ups found nothing; try again in 40 minutes."
    assert await _traces(db) == before
    # And look-ups by phone are not counted, nor are other networks held back
    assert (await _lookup(client, phone=PHONE))["lookup"]["accounts"] == [
        {"kind": "CLOUD", "loginNamesMasked": ["al***01"]}
    ]
    assert (await _lookup(other_network, identity=NOBODY))["errors"] == []
    # When the hour is over, look-ups are answered again
    clock.advance(minutes=40)
    clock.advance(seconds=61)  # the reveal code's 60-second gap to PHONE
    found = await _lookup(client, accountId=alice_id)
    assert found["errors"] == []
    assert found["lookup"]["accounts"] == [{"kind": "CLOUD", "loginNamesMasked": ["al***01"]}]


async def test_rec_2_identity_lookups_that_find_accounts_are_not_counted(client, db: Database) -> None:
    # Given an account whose account ID is known, and nine failed look-ups
    alice = await register(client, "alice01", PHONE)
    for _ in range(9):
        assert (await _lookup(client, accountId=UNKNOWN_ID))["errors"] == []
    # When a look-up finds the account, it is answered and gives its try back
    found = await _lookup(client, accountId=alice["account"]["accountId"])
    assert found["lookup"]["accounts"] == [{"kind": "CLOUD", "loginNamesMasked": ["al***01"]}]
    assert (await _traces(db))[2] == [("recovery-lookup:203.0.113.7", 9)]
    # Then one more failed look-up is still answered, and only the next is refused
    assert (await _lookup(client, identity=NOBODY))["errors"] == []
    assert _errors(await _lookup(client, identity=NOBODY)) == LIMITED


@pytest.mark.slow
async def test_rec_2_sixty_simultaneous_failed_lookups_from_one_network_get_ten_answers(client, db: Database) -> None:
    # When 60 look-ups that find nothing come at once from one address
    results = await asyncio.gather(
        *[_lookup(client, **({"identity": NOBODY} if i % 2 else {"accountId": UNKNOWN_ID})) for i in range(60)]
    )
    # Then exactly ten are answered and fifty refused, and the budget counts ten
    answered = [r for r in results if r["errors"] == []]
    refused = [r for r in results if _errors(r) == LIMITED]
    assert (len(answered), len(refused)) == (10, 50)
    assert (await _traces(db))[2] == [("recovery-lookup:203.0.113.7", 10)]
