"""All SQL of accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, exists, func, or_, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.selectable import CompoundSelect

from models.accounts import Account, AgreementAcceptance, PhoneQuota, RetiredUsername
from models.appeals import Appeal, AppealToken
from models.auth import AuthSession, QrLoginTicket, RecoveryTicket
from models.changes import SubjectChange
from models.codes import CodeDailyCount, CodeNetworkCount, CodeSendWindow, OneTimeCode, OutboxMessage
from models.documents import Document, DocumentDailyCount
from models.enterprise import BalanceEntry, BankPayout, EnterpriseApplication, RemittanceAccount
from models.history import SecurityEvent
from models.lifecycle import DataExport
from models.mfa import LoginChallenge, MfaDevice, MfaRecoveryCode
from models.students import StudentStatus
from models.verification import Verification, VerificationAttempt
from models.webhooks import WebhookDelivery, WebhookEvent, WebhookSequence
from services.sql import insert
from services.uow import Uow
from services.webhooks import events as webhook_events

MAX_CLOUD_ACCOUNTS_PER_PHONE = 10  # REG-3
MAX_PORTAL_ACCOUNTS_PER_PHONE = 5  # REG-4: the one the phone holds and the others that bind it
ERASED = ""  # CAN-6: what an erased NOT NULL text column holds


async def get(uow: Uow, account_id: int) -> Account | None:
    return await uow.session.get(Account, account_id)


async def username_in_use(uow: Uow, username_key: str) -> bool:
    """REG-2: live, cancelled and retired usernames alike (an erased account's kept keyed only, CAN-6)."""
    taken = await uow.session.scalar(select(exists().where(Account.username_key == username_key)))
    keys = (username_key, retired_username_key(uow, username_key))
    retired = await uow.session.scalar(select(exists().where(RetiredUsername.username_key.in_(keys))))
    return bool(taken or retired)


async def email_in_use(uow: Uow, email_key: str, except_account_id: int | None = None) -> bool:
    q = exists().where(Account.email_key == email_key)
    if except_account_id is not None:
        q = q.where(Account.id != except_account_id)
    return bool(await uow.session.scalar(select(q)))


async def retire_username(uow: Uow, username_key: str, now: datetime) -> None:
    """A login name given up is never given to another account (REG-2, PROF-5)."""
    await uow.session.execute(
        insert(uow, RetiredUsername)
        .values(username_key=username_key, retired_at=now)
        .on_conflict_do_nothing(index_elements=[RetiredUsername.username_key])
    )


async def account_number_exists(uow: Uow, number: int) -> bool:
    return bool(await uow.session.scalar(select(exists().where(Account.account_number == number))))


async def lock_account(uow: Uow, account_id: int) -> None:
    """Serialise the writes of one account that must see each other: its row FOR UPDATE (on SQLite
    BEGIN IMMEDIATE already serialises every writer)."""
    await uow.session.execute(select(Account.id).where(Account.id == account_id).with_for_update())


async def get_for_update(uow: Uow, account_id: int) -> Account | None:
    """The account's row, locked FOR UPDATE and read afresh (SQLite: BEGIN IMMEDIATE serialises already)."""
    return await uow.session.get(Account, account_id, with_for_update=True, populate_existing=True)


async def take_cloud_slot(uow: Uow, phone: str) -> bool:
    """REG-3: count one more cloud account on this phone, atomically, never past 10."""
    await uow.session.execute(
        insert(uow, PhoneQuota)
        .values(phone=phone, cloud_accounts=0)
        .on_conflict_do_nothing(index_elements=[PhoneQuota.phone])
    )
    result = await uow.session.execute(
        update(PhoneQuota)
        .where(PhoneQuota.phone == phone, PhoneQuota.cloud_accounts < MAX_CLOUD_ACCOUNTS_PER_PHONE)
        .values(cloud_accounts=PhoneQuota.cloud_accounts + 1)
        .returning(PhoneQuota.cloud_accounts)
    )
    return result.scalar_one_or_none() is not None


async def release_cloud_slot(uow: Uow, phone: str) -> None:
    await uow.session.execute(
        update(PhoneQuota)
        .where(PhoneQuota.phone == phone, PhoneQuota.cloud_accounts > 0)
        .values(cloud_accounts=PhoneQuota.cloud_accounts - 1)
    )


async def cloud_accounts_on_phone(uow: Uow, phone: str) -> int:
    value = await uow.session.scalar(select(PhoneQuota.cloud_accounts).where(PhoneQuota.phone == phone))
    return value or 0


async def lock_phone(uow: Uow, phone: str) -> None:
    """Serialise work on one phone: the quota row, locked FOR UPDATE (SQLite: BEGIN IMMEDIATE already)."""
    await uow.session.execute(
        insert(uow, PhoneQuota)
        .values(phone=phone, cloud_accounts=0)
        .on_conflict_do_nothing(index_elements=[PhoneQuota.phone])
    )
    await uow.session.execute(select(PhoneQuota.phone).where(PhoneQuota.phone == phone).with_for_update())


# Login-name look-ups run on every sign-in: built once. REG-4: a phone reaches only the portal account
# it holds, never the others that merely bind it.
_PORTAL_BY_PHONE = select(Account).where(
    Account.phone == bindparam("phone"),
    Account.kind == "portal",
    Account.status == "active",
    Account.phone_holder.is_(True),
)
_BY_USERNAME_KEY = select(Account).where(Account.username_key == bindparam("key"), Account.status == "active")
_PORTAL_BY_EMAIL_KEY = select(Account).where(
    Account.email_key == bindparam("key"), Account.kind == "portal", Account.status == "active"
)


async def portal_account_by_phone(uow: Uow, phone: str) -> Account | None:
    return await uow.session.scalar(_PORTAL_BY_PHONE, {"phone": phone})


async def portal_accounts_on_phone(uow: Uow, phone: str) -> int:
    """REG-4: live portal accounts bound to the phone, the one it holds included. Exact only with the
    phone locked (`lock_phone`)."""
    count = await uow.session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.phone == phone, Account.kind == "portal", Account.status == "active")
    )
    return int(count or 0)


async def by_username_key(uow: Uow, key: str) -> Account | None:
    return await uow.session.scalar(_BY_USERNAME_KEY, {"key": key})


async def with_username_key(uow: Uow, key: str) -> Account | None:
    """The account with this username key, whatever its status (`by_username_key` finds live ones only)."""
    return await uow.session.scalar(select(Account).where(Account.username_key == key))


async def by_email_key(uow: Uow, key: str) -> Account | None:
    return await uow.session.scalar(_PORTAL_BY_EMAIL_KEY, {"key": key})


async def by_account_number(uow: Uow, number: int) -> Account | None:
    return await uow.session.scalar(select(Account).where(Account.account_number == number, Account.status == "active"))


async def accounts_on_phone(uow: Uow, phone: str) -> list[Account]:
    rows = await uow.session.scalars(
        select(Account).where(Account.phone == phone, Account.status == "active").order_by(Account.id)
    )
    return list(rows)


async def accounts_by_ids(uow: Uow, ids: list[int]) -> list[Account]:
    if not ids:
        return []
    rows = await uow.session.scalars(select(Account).where(Account.id.in_(ids)).order_by(Account.id))
    return list(rows)


def stage(uow: Uow, account: Account) -> None:
    """A new account, written with the caller's next flush (`flush_unique`, to answer a lost race)."""
    uow.session.add(account)


async def add(uow: Uow, account: Account) -> Account:
    uow.session.add(account)
    await uow.session.flush()
    return account


async def flush_unique(uow: Uow, column: str) -> bool:
    """Flush; False when it broke the unique key on `column` (a unique-key race lost to a concurrent
    request, PostgreSQL: REG-2, PROF-5, PROF-3), then the transaction is to be rolled back. Another
    integrity error is raised.

    SQLite never gets here (BEGIN IMMEDIATE serialises writers); the checks before the flush answer."""
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        if column not in str(exc.orig):
            raise
        return False
    return True


async def add_acceptances(uow: Uow, rows: list[AgreementAcceptance]) -> None:
    uow.session.add_all(rows)
    await uow.session.flush()


async def acceptances(uow: Uow, account_id: int) -> list[AgreementAcceptance]:
    rows = await uow.session.scalars(
        select(AgreementAcceptance).where(AgreementAcceptance.account_id == account_id).order_by(AgreementAcceptance.id)
    )
    return list(rows)


# --- CAN-6: erasure of a cancelled account's personal data ----------------------------------------------
# Set-based statements, each idempotent: a second erasure finds nothing left to change.


def retired_username_key(uow: Uow, username_key: str) -> str:
    """REG-2 / CAN-6: how a cancelled account's username is kept once erased: a keyed hash, never the name."""
    return uow.keyed("retired-username:" + username_key)


async def addresses_of_account(uow: Uow, account_id: int) -> set[str]:
    """Every phone number and e-mail address of the account the service holds: bound, of its student
    statuses, of its appeals and appeal tokens, and the destinations of codes it asked for (one statement)."""
    stmt: CompoundSelect[tuple[str | None]] = union(
        select(Account.phone.label("a")).where(Account.id == account_id),
        select(Account.email).where(Account.id == account_id),
        select(StudentStatus.email).where(StudentStatus.account_id == account_id),
        select(Appeal.new_phone).where(Appeal.account_id == account_id),
        select(AppealToken.new_phone).where(AppealToken.account_id == account_id),
        select(OneTimeCode.destination).where(OneTimeCode.account_id == account_id),
    )
    values: list[str | None] = list(await uow.session.scalars(stmt))
    return {value for value in values if value}


async def person_document_key(uow: Uow, account_id: int) -> str | None:
    """The identity document whose RN-3 slot the account holds (its verified person's), if any."""
    return await uow.session.scalar(
        select(Verification.document_key).where(
            Verification.account_id == account_id, Verification.subject_type == "person"
        )
    )


async def erase_addressed_records(uow: Uow, account_id: int, addresses: set[str]) -> None:
    """Codes, send windows and budgets, messages and recovery conversations addressed to the account's phones
    and e-mail addresses: those no other live account is bound to (another account's records stay theirs)."""
    if not addresses:
        return
    others = (
        select(Account.phone.label("a"))
        .where(Account.id != account_id, Account.status == "active", Account.phone.in_(addresses))
        .union(
            select(Account.email).where(
                Account.id != account_id, Account.status == "active", Account.email.in_(addresses)
            )
        )
    )
    shared = {value for value in (await uow.session.scalars(others)) if value}
    mine = sorted(addresses - shared)
    await uow.session.execute(delete(OneTimeCode).where(OneTimeCode.account_id == account_id))
    if not mine:
        return
    # The webhook events of the messages to them (WH-1): a message not yet sent is not sent after all (its
    # text goes with the outbox row), and the deliveries and sequence counters keyed by the destination go.
    messages = select(OutboxMessage.id).where(OutboxMessage.destination.in_(mine))
    message_events = select(WebhookEvent.id).where(WebhookEvent.outbox_id.in_(messages))
    await uow.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(message_events)))
    await uow.session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(message_events)))
    streams = [webhook_events.message_stream(uow, address) for address in mine]
    await uow.session.execute(delete(WebhookSequence).where(WebhookSequence.stream.in_(streams)))
    for model, column in (
        (OneTimeCode, OneTimeCode.destination),
        (OutboxMessage, OutboxMessage.destination),
        (CodeSendWindow, CodeSendWindow.destination),
        (CodeDailyCount, CodeDailyCount.destination),
        (CodeNetworkCount, CodeNetworkCount.destination),
        (RecoveryTicket, RecoveryTicket.phone),
        (RecoveryTicket, RecoveryTicket.login_name),
    ):
        await uow.session.execute(delete(model).where(column.in_(mine)))


async def erase_recovery_tickets(uow: Uow, login_names: set[str]) -> None:
    """Recovery conversations started with the account's username or e-mail as the login name typed."""
    if login_names:
        await uow.session.execute(delete(RecoveryTicket).where(RecoveryTicket.login_name.in_(sorted(login_names))))


async def erase_documents(uow: Uow, account_id: int) -> None:
    """The account's uploads: first the references that do not cascade, then the rows (their uses by appeals
    and changes cascade, and so do their blobs)."""
    changes = select(SubjectChange.id).where(SubjectChange.account_id == account_id).scalar_subquery()
    await uow.session.execute(
        update(SubjectChange)
        .where(SubjectChange.account_id == account_id)
        .values(licence_document_id=None, supplement_document_id=None, stamped_form_document_id=None)
    )
    await uow.session.execute(
        update(EnterpriseApplication)
        .where(or_(EnterpriseApplication.account_id == account_id, EnterpriseApplication.change_id.in_(changes)))
        .values(authorisation_document_id=None, certificate_document_id=None)
    )
    await uow.session.execute(delete(Document).where(Document.account_id == account_id))
    await uow.session.execute(delete(DocumentDailyCount).where(DocumentDailyCount.account_id == account_id))


async def erase_verification(uow: Uow, account_id: int) -> None:
    """The verified subject goes (the caller released its RN-3 slot first); its attempts stay as the
    history's lines (RN-7) with method, outcome, reason and times, and nothing of the person."""
    await uow.session.execute(delete(Verification).where(Verification.account_id == account_id))
    await uow.session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.account_id == account_id)
        .values(
            name=ERASED,
            document_key=ERASED,
            document_sealed=None,
            document_masked=ERASED,
            card_masked=None,
            ticket_hash=None,
            ticket_expires_at=None,
        )
    )


async def erase_changes_and_enterprise(uow: Uow, account_id: int) -> None:
    """Subject changes keep their kind, states and times (CHG-7); enterprise applications their method, state
    and amounts; payouts their amount and reference. Names, numbers, accounts and free text go."""
    await uow.session.execute(
        update(SubjectChange)
        .where(SubjectChange.account_id == account_id)
        .values(
            from_name=ERASED,
            from_document_masked=ERASED,
            to_name=None,
            to_uscc=None,
            to_legal_rep_name=None,
            change_reason=None,
            contact_name=None,
            contact_document_masked=None,
            contact_document_sealed=None,
            form_reference=None,
            more_message=None,
            reject_text=None,
        )
    )
    applications = select(EnterpriseApplication.id).where(EnterpriseApplication.account_id == account_id)
    await uow.session.execute(
        update(BankPayout)
        .where(BankPayout.application_id.in_(applications.scalar_subquery()))
        .values(account_name=ERASED, account_number=ERASED, bank_name=ERASED)
    )
    await uow.session.execute(
        update(EnterpriseApplication)
        .where(EnterpriseApplication.account_id == account_id)
        .values(
            organisation_name=ERASED,
            uscc=ERASED,
            legal_rep_name=ERASED,
            bank_name=None,
            account_number=None,
            remittance_account_id=None,
            more_message=None,
            reject_text=None,
        )
    )
    await uow.session.execute(delete(RemittanceAccount).where(RemittanceAccount.account_id == account_id))
    # The ledger stays (amounts, kinds, times); who paid does not.
    await uow.session.execute(
        update(BalanceEntry).where(BalanceEntry.account_id == account_id).values(payer_name=None, payer_account=None)
    )


async def erase_appeals_and_statuses(uow: Uow, account_id: int) -> None:
    """Appeals keep their kind, state, reason code and times; the new phone and the messages go, and so do
    the appeal tokens. Student statuses go whole (school, major, school e-mail)."""
    await uow.session.execute(
        update(Appeal)
        .where(Appeal.account_id == account_id)
        .values(new_phone=None, more_message=None, reject_text=None)
    )
    await uow.session.execute(delete(AppealToken).where(AppealToken.account_id == account_id))
    await uow.session.execute(delete(StudentStatus).where(StudentStatus.account_id == account_id))


async def erase_credentials(uow: Uow, account_id: int) -> None:
    """TOTP seeds, recovery codes, login challenges, sessions (their step-up grants cascade), QR tickets, the
    security history (its client addresses and user agents are the person's) and any data export."""
    for model, column in (
        (SecurityEvent, SecurityEvent.account_id),
        (DataExport, DataExport.account_id),
        (MfaDevice, MfaDevice.account_id),
        (MfaRecoveryCode, MfaRecoveryCode.account_id),
        (LoginChallenge, LoginChallenge.account_id),
        (AuthSession, AuthSession.account_id),
        (QrLoginTicket, QrLoginTicket.confirmed_account_id),
    ):
        await uow.session.execute(delete(model).where(column == account_id))


async def erase_account_row(uow: Uow, account_id: int, now: datetime) -> None:
    """The account row becomes the pseudonymous reference: its ID, kind, status, creation and cancellation
    times; every column of the person is emptied (`phone` is NOT NULL: an empty string)."""
    await uow.session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            account_number=None,
            username=None,
            username_key=None,
            phone=ERASED,
            phone_holder=False,
            email=None,
            email_key=None,
            password_hash=None,
            contact_name=None,
            company_name=None,
            industry=None,
            address=None,
            op_protection_sms=False,
            op_protection_totp=False,
            login_protection_sms=False,
            login_protection_totp=False,
            password_changed_at=None,
            username_changed_at=None,
            cancelled_at=func.coalesce(Account.cancelled_at, now),
        )
        .execution_options(synchronize_session=False)
    )


async def swap_retired_username(uow: Uow, username_key: str, keyed: str, now: datetime) -> None:
    """REG-2: the retired name is kept keyed only (the plain key of an earlier cancellation step goes)."""
    await retire_username(uow, keyed, now)
    await uow.session.execute(delete(RetiredUsername).where(RetiredUsername.username_key == username_key))


async def drop_empty_phone_quotas(uow: Uow, phones: set[str]) -> None:
    """REG-3 quota rows no account counts on any more (their key is a phone number)."""
    if phones:
        await uow.session.execute(
            delete(PhoneQuota).where(PhoneQuota.phone.in_(sorted(phones)), PhoneQuota.cloud_accounts <= 0)
        )
