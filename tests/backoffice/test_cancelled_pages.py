"""The back office and a cancelled account (CAN-6): its items read as cancelled, in the queue and on the item
page, and reviewers see nothing of the person (no name, phone, ID number, material); the material viewer and
the document route refuse its uploads, from the moment it is cancelled, erased or not yet.

RULES: CAN-6 REV-2
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from models.accounts import Account
from models.appeals import Appeal, AppealDocument
from models.documents import Document
from services.accounts.erasure import erase_personal_data
from services.appeals import service as appeals
from services.database import Database
from services.review import service as review
from services.uow import Uow
from tests.api.test_uploads import _png
from tests.api.test_verification import face_start, ticket_path
from tests.backoffice.test_pages import _reviewer, _sign_in
from tests.helpers import registered_and_signed_in

USERNAME = "BoSubject9"
PHONE = "13911114444"
NEW_PHONE = "+8613911115555"
NAME = "王小明"
ID_NUMBER = "11010519491231002X"  # docs/checksums.md sample
PERSONAL = [USERNAME, PHONE, "1391111", "4444", "5555", NAME, ID_NUMBER, "002X"]


async def seed_appeal_of_verified_account(client: httpx.AsyncClient, db: Database, run: Any) -> tuple[int, int, str]:
    """An account verified by face that filed a phone-rebind appeal with an uploaded ID photo, in the 5-day
    queue: (account ID, item ID, the upload's public ID)."""
    token = await registered_and_signed_in(client, USERNAME, PHONE)
    started = await face_start(client, token, ID_NUMBER, name=NAME)
    assert started["errors"] == [], started
    assert (await client.post(ticket_path(started), data={"outcome": "pass"})).status_code == 200
    uploaded = await client.post(
        "/uploads",
        files={"file": ("id.png", _png(), "application/octet-stream")},
        headers={"authorization": f"Bearer {token}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    async with db.read_sessions() as s:
        account_id = int(await s.scalar(select(Account.id).where(Account.username == USERNAME)) or 0)
        document = await s.scalar(select(Document))
    assert document is not None

    async def file(uow: Uow) -> int:
        appeal = Appeal(kind=appeals.KIND, account_id=account_id, subject_type="person", new_phone=NEW_PHONE,
                        state="submitted", created_at=uow.now())  # fmt: skip
        uow.session.add(appeal)
        await uow.session.flush()
        uow.session.add(AppealDocument(appeal_id=appeal.id, role="ID_CARD_IN_HAND", document_id=document.id,
                                       created_at=uow.now()))  # fmt: skip
        item = await review.submit(uow, kind=appeals.KIND, subject_id=appeal.id, account_id=account_id, queue_days=5)
        appeal.review_item_id = item.id
        await uow.session.flush()
        return item.id

    return account_id, await run(file), document.public_id


@pytest.fixture
async def staff_client(app):
    # Back-office cookies are Secure outside development: talk https to the in-process app.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        yield c


async def cancel(uow: Uow, account_id: int) -> None:
    """Stand-in for the cancellation flow (CAN-1..5): only the status it sets."""
    await uow.session.execute(update(Account).where(Account.id == account_id).values(status="cancelled"))


def _personal_in(html: str) -> list[str]:
    return [value for value in PERSONAL if value in html]


async def test_can_6_a_cancelled_accounts_item_reads_as_cancelled_without_personal_data(
    app, db, clock, run, client, staff_client: httpx.AsyncClient
) -> None:
    # Given a verified account's appeal with its ID photo, and a signed-in reviewer who sees all of it
    account_id, item_id, public_id = await seed_appeal_of_verified_account(client, db, run)
    await _sign_in(staff_client, await _reviewer(app, db), clock)
    before = await staff_client.get(f"/backoffice/items/{item_id}")
    assert public_id in before.text
    assert "139****4444" in before.text
    assert (await staff_client.get(f"/backoffice/items/{item_id}/materials/1")).status_code == 200
    assert (await staff_client.get(f"/backoffice/documents/{public_id}")).status_code == 200
    # When the account is cancelled (its data not erased yet)
    await run(cancel, account_id)
    # Then the item page and the queue row read as cancelled and show nothing of the person
    page = await staff_client.get(f"/backoffice/items/{item_id}")
    queue = await staff_client.get("/backoffice/queues/5")
    for html in (page.text, queue.text):
        assert "Cancelled account" in html
        assert _personal_in(html) == []
        assert public_id not in html
    assert f"cancelled account #{account_id}" in page.text  # the pseudonymous reference
    # And the material viewer and the document route refuse its upload
    material = await staff_client.get(f"/backoffice/items/{item_id}/materials/1")
    assert (material.status_code, material.text) == (410, "The account was cancelled; its material was erased.")
    assert (await staff_client.get(f"/backoffice/documents/{public_id}")).status_code == 404
    # And once erased, the same
    await run(erase_personal_data, account_id)
    page = await staff_client.get(f"/backoffice/items/{item_id}")
    assert "Cancelled account" in page.text
    assert _personal_in(page.text) == []
    assert (await staff_client.get(f"/backoffice/documents/{public_id}")).status_code == 404
