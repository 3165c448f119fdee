"""CAN-6: a cancelled account's personal data is erased; the review audit, the ledger and the fact and time of
cancellation stay, pointing at the pseudonymous account row (docs/retention.md).

The account gets everything over the API where the API builds it (registration, face verification with an ID
number, MFA device and recovery codes, an upload) and directly in the database where another flow would take
a page of setup (e-mail, profile, appeal and its review, subject change, student status, ledger entry). It is
marked cancelled by a small helper (the cancellation flow is tested with its own rules), then erased.

RULES: CAN-6 RN-3 REG-2
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from models import Base
from models.accounts import Account
from models.appeals import Appeal, AppealToken
from models.auth import RecoveryTicket
from models.changes import SubjectChange
from models.codes import OutboxMessage
from models.documents import Document, DocumentBlob
from models.enterprise import BalanceEntry
from models.review import ReviewAuditEntry, ReviewItem
from models.students import StudentStatus
from models.verification import IdentityDocumentUse, Verification
from services.accounts.erasure import NotCancelled, erase_personal_data
from services.clock import ManualClock
from services.database import Database
from services.uow import Uow
from tests.api.test_mfa import bind
from tests.api.test_uploads import _png
from tests.api.test_verification import face_start, face_verified, ticket_path
from tests.helpers import PASSWORD, gql, mutate, register, registered_and_signed_in, sign_in_answer, sign_in_result

USERNAME = "ErasureSubject7"
PHONE = "13911112222"
EMAIL = "erasure.subject@example.org"
SCHOOL_EMAIL = "s2099001@school.example.edu"
NEW_PHONE = "13911113333"
NAME = "李四维"
ID_NUMBER = "11010519491231002X"  # docs/checksums.md sample
CARD = "6217000000000000004"
CONTACT = "Ms Contact Wang"
COMPANY = "Lisiwei Trading Studio"
ADDRESS = "88 Erasure Road, Haidian"
PERSONAL = [USERNAME, PHONE, EMAIL, SCHOOL_EMAIL, NEW_PHONE, NAME, ID_NUMBER, CARD, CONTACT, COMPANY, ADDRESS]


async def _account_id(db: Database) -> int:
    async with db.read_sessions() as s:
        value = await s.scalar(select(Account.id).where(Account.username == USERNAME))
    assert value is not None
    return int(value)


async def _fill(uow: Uow, account_id: int) -> None:
    """What other flows would store for the account, with personal values in every personal field."""
    now = uow.now()
    await uow.session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(email=EMAIL, email_key=EMAIL, contact_name=CONTACT, company_name=COMPANY, address=ADDRESS)
    )
    # A forgot-password conversation started with the username (no code sent: no phone on it)
    uow.session.add(
        RecoveryTicket(
            token_hash="r" * 64,
            kind="password_reset",
            account_ids=[account_id],
            login_name=USERNAME.lower(),
            created_at=now,
            expires_at=now + timedelta(minutes=15),
        )
    )
    uow.session.add(
        OutboxMessage(channel="email", destination=EMAIL, purpose="EMAIL_BIND", text="code", created_at=now)
    )
    uow.session.add(
        StudentStatus(
            account_id=account_id,
            school="Peking University",
            major="Law",
            level="BACHELOR",
            graduation_year=2027,
            graduation_month=6,
            email=SCHOOL_EMAIL,
            state="verified",
            created_at=now,
            verified_at=now,
        )
    )
    item = ReviewItem(
        kind="phone_rebind",
        subject_id=0,
        account_id=account_id,
        queue_days=5,
        state="rejected",
        submitted_at=now,
        due_at=now + timedelta(days=7),
        decided_at=now,
    )
    uow.session.add(item)
    await uow.session.flush()
    appeal = Appeal(
        kind="phone_rebind",
        account_id=account_id,
        subject_type="person",
        new_phone="+86" + NEW_PHONE,
        state="rejected",
        review_item_id=item.id,
        reject_reason="UNCLEAR",
        reject_text=f"The photo of {NAME} is blurred",
        more_message=f"Send the ID card {ID_NUMBER} again",
        created_at=now,
        decided_at=now,
    )
    uow.session.add(appeal)
    await uow.session.flush()
    uow.session.add(
        AppealToken(
            token_hash="t" * 64,
            account_id=account_id,
            new_phone="+86" + NEW_PHONE,
            appeal_id=appeal.id,
            created_at=now,
            expires_at=now + timedelta(days=30),
        )
    )
    uow.session.add_all(
        [
            ReviewAuditEntry(item_id=item.id, action="submit", created_at=now),
            ReviewAuditEntry(item_id=item.id, action="reject", reason="UNCLEAR", text="blurred", created_at=now),
        ]
    )
    uow.session.add(
        SubjectChange(
            account_id=account_id,
            kind="name",
            state="rejected",
            from_subject_type="person",
            from_name=NAME,
            from_document_type="MAINLAND_ID_CARD",
            from_document_masked="1****************X",
            from_method="face",
            to_name=NAME + "新",
            change_reason=f"{NAME} changed the name",
            contact_name=CONTACT,
            contact_document_sealed="sealed",
            application_version="v1",
            reject_text=f"not {NAME}",
            created_at=now,
            updated_at=now,
            ended_at=now,
        )
    )
    uow.session.add(
        BalanceEntry(
            account_id=account_id,
            amount_fen=12345,
            kind="remittance",
            payer_name=NAME,
            payer_account=CARD,
            created_at=now,
        )
    )
    await uow.session.flush()


async def _cancel(uow: Uow, account_id: int) -> None:
    """Stand-in for the cancellation flow (CAN-1..5): only the status it sets before the erasure."""
    await uow.session.execute(update(Account).where(Account.id == account_id).values(status="cancelled"))


async def _cancel_and_erase(uow: Uow, account_id: int) -> None:
    await _cancel(uow, account_id)
    await erase_personal_data(uow, account_id)


async def _dump(db: Database) -> dict[str, list[str]]:
    """Every row of every table, as text."""
    out: dict[str, list[str]] = {}
    async with db.read_sessions() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            out[table.name] = sorted(repr(tuple(row)) for row in rows)
    return out


def _found(dump: dict[str, list[str]], values: list[str]) -> list[tuple[str, str]]:
    return [
        (table, value)
        for table, rows in dump.items()
        for row in rows
        for value in values
        if value.lower() in row.lower()
    ]


async def _count(db: Database, model: Any) -> int:
    async with db.read_sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def subject(client: httpx.AsyncClient, run: Any, db: Database, clock: ManualClock, settings: Any) -> int:
    """A cloud account with everything the service holds about a person."""
    token = await registered_and_signed_in(client, USERNAME, PHONE)
    started = await face_start(client, token, ID_NUMBER, name=NAME)
    assert started["errors"] == [], started
    assert (await client.post(ticket_path(started), data={"outcome": "pass"})).status_code == 200
    await bind(client, token, clock)
    uploaded = await client.post(
        "/uploads",
        files={"file": ("id-card.png", _png(), "application/octet-stream")},
        headers={"authorization": f"Bearer {token}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    account_id = await _account_id(db)
    await run(_fill, account_id)
    # Given it holds all of it: the personal values are in the database, its bytes stored, the slot taken
    before = await _dump(db)
    for value in (USERNAME, PHONE, EMAIL, SCHOOL_EMAIL, NEW_PHONE, NAME, CARD, CONTACT, COMPANY, ADDRESS):
        assert _found(before, [value]), value
    assert await _count(db, DocumentBlob) == 1
    for table in ("mfa_devices", "mfa_recovery_codes", "sessions", "appeal_tokens", "student_statuses"):
        assert before[table] != [], table
    async with db.read_sessions() as s:
        assert await s.scalar(select(IdentityDocumentUse.accounts)) == 1
    return account_id


async def test_can_6_erasure_leaves_no_personal_value_in_any_table(
    subject: int, run: Any, db: Database, settings
) -> None:
    # Given the account with everything, cancelled
    audit_before = await _count(db, ReviewAuditEntry)
    # When it is cancelled and its personal data erased
    await run(_cancel_and_erase, subject)
    # Then no table holds any of its personal values, whatever the case
    dump = await _dump(db)
    assert _found(dump, PERSONAL) == []
    # And the uploaded document's bytes are gone, and so is its row
    assert await _count(db, DocumentBlob) == 0
    assert await _count(db, Document) == 0
    # And what must be kept is kept: the audit, the ledger's amount, the review item, the fact and time
    assert await _count(db, ReviewAuditEntry) == audit_before == 2
    async with db.read_sessions() as s:
        entry = await s.scalar(select(BalanceEntry))
        account = await s.get(Account, subject)
        assert await s.scalar(select(func.count()).select_from(ReviewItem)) == 1
        assert await s.scalar(select(func.count()).select_from(Verification)) == 0
    assert entry is not None
    assert (entry.amount_fen, entry.account_id, entry.payer_name, entry.payer_account) == (12345, subject, None, None)
    assert account is not None
    assert (account.status, account.cancelled_at is not None, account.phone, account.username) == (
        "cancelled",
        True,
        "",
        None,
    )
    # And nothing else holds secrets of it: no TOTP seed, recovery code, session, token
    for table in ("mfa_devices", "mfa_recovery_codes", "sessions", "appeal_tokens", "student_statuses"):
        assert dump[table] == [], table
    assert dump["recovery_tickets"] == []


async def test_can_6_a_second_erasure_changes_nothing(subject: int, run: Any, db: Database) -> None:
    # Given an erased account
    await run(_cancel_and_erase, subject)
    before = await _dump(db)
    # When the erasure runs again
    await run(erase_personal_data, subject)
    # Then every table reads the same
    assert await _dump(db) == before


async def test_can_6_rn_3_the_document_verifies_five_other_accounts_after_erasure(
    subject: int, client: httpx.AsyncClient, run: Any, db: Database
) -> None:
    # Given the account verified with the ID number, cancelled and erased
    await run(_cancel_and_erase, subject)
    # Then the document's RN-3 slot is free: five other accounts verify with it
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(IdentityDocumentUse)) == 0
    for n in range(5):
        token = await registered_and_signed_in(client, f"other0{n}", f"1380000100{n}")
        await face_verified(client, token, ID_NUMBER)
    async with db.read_sessions() as s:
        assert await s.scalar(select(IdentityDocumentUse.accounts)) == 5
        assert await s.scalar(select(func.count()).select_from(Verification)) == 5


async def test_can_6_reg_2_the_erased_username_is_kept_keyed_and_never_registrable_again(
    subject: int, client: httpx.AsyncClient, run: Any, db: Database
) -> None:
    # Given the erased account
    await run(_cancel_and_erase, subject)
    # When someone registers its username, in any case
    answer = await register(client, USERNAME.lower(), "13800002000")
    # Then REG-2 refuses it, though no table holds the name
    assert [e["code"] for e in answer["errors"]] == ["USERNAME_TAKEN"], answer
    assert _found(await _dump(db), [USERNAME]) == []


async def test_can_6_the_erased_account_cannot_sign_in(subject: int, client: httpx.AsyncClient, run: Any) -> None:
    # Given the erased account
    await run(_cancel_and_erase, subject)
    # When its old login names are used to sign in, Then none reaches anything
    for name in (USERNAME, PHONE, EMAIL):
        payload = await mutate(
            client, "sessionCreateByPassword", {"loginName": name, "password": PASSWORD}, sign_in_result()
        )
        assert sign_in_answer(payload)["token"] is None


async def test_can_6_only_a_cancelled_account_is_erased(subject: int, run: Any, db: Database) -> None:
    # Given a live account
    before = await _dump(db)
    # When erasure is asked for it, Then it refuses and nothing changes
    with pytest.raises(NotCancelled):
        await run(erase_personal_data, subject)
    assert await _dump(db) == before


async def test_can_6_erasure_of_an_unknown_account_changes_nothing(subject: int, run: Any, db: Database) -> None:
    before = await _dump(db)
    await run(erase_personal_data, subject + 1000)
    assert await _dump(db) == before


async def test_can_6_statements_do_not_grow_with_what_the_account_holds(
    subject: int, client: httpx.AsyncClient, run: Any, sql: Any, db: Database
) -> None:
    # Given a second account holding little, erased while counting statements
    token = await registered_and_signed_in(client, "littleone", "13800003000")
    assert (await gql(client, "{ viewer { id } }", token=token))["viewer"]["id"]
    async with db.read_sessions() as s:
        little = int(await s.scalar(select(Account.id).where(Account.username == "littleone")) or 0)
    sql.reset()
    await run(_cancel_and_erase, little)
    few = sql.count
    # When the account holding everything is erased
    sql.reset()
    await run(_cancel_and_erase, subject)
    # Then it takes the same number of statements (set-based, no per-row loop) but the two that release the
    # verified document's RN-3 slot, which the unverified account has no use for
    assert sql.count == few + 2
