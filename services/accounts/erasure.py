"""CAN-6: a cancelled account's personal data is erased; what must be kept stays, pointing at a
pseudonymous reference (docs/retention.md).

`erase_personal_data` runs inside the cancellation's transaction, after the account was marked
`status = cancelled`. It is idempotent (a second call changes nothing) and set-based: a fixed number of
statements whatever the account holds.

Erased: the profile, login names (the username is kept as a keyed hash only, so REG-2 still refuses it),
phone, e-mail, password hash; the verified subject (its identity document's RN-3 slot released) and the
names and document numbers of every attempt; the personal fields of subject changes, enterprise applications
and payouts, appeals; student statuses; uploaded documents, rows and bytes (the blob rows cascade); TOTP
seeds, recovery codes, sessions, login challenges; codes, messages and budgets addressed to the account's
phones and addresses.
Kept: the account row (ID, kind, status, creation and cancellation times), the review items and their
append-only audit (REV-5), the balance ledger's amounts (payer names and accounts erased), agreement
acceptances, the attempts' method, outcome and times, and the per-account method counters.
"""

from __future__ import annotations

from services.accounts import repository as repo
from services.uow import Uow
from services.verification.changes import repository as changes_repo


class NotCancelled(RuntimeError):
    """Erasure was asked for an account that is not cancelled: a programming error, nothing changed."""


async def erase_personal_data(uow: Uow, account_id: int) -> None:
    """CAN-6: erase the cancelled account's personal data (see the module's docstring). Only flushes."""
    account = await repo.get_for_update(uow, account_id)
    if account is None:
        return
    if account.status != "cancelled":
        raise NotCancelled("only a cancelled account's personal data is erased")
    now = uow.now()
    addresses = await repo.addresses_of_account(uow, account_id)
    # REG-2: the username can never be registered again; it is kept keyed, not as the name.
    if account.username_key:
        key = account.username_key
        await repo.swap_retired_username(uow, key, repo.retired_username_key(uow, key), now)
    # REG-3: a cancelled cloud account no longer uses a registration of its phone.
    if account.kind == "cloud" and account.phone:
        await repo.release_cloud_slot(uow, account.phone)
    # RN-3: the identity document verifies another account again.
    document_key = await repo.person_document_key(uow, account_id)
    if document_key is not None:
        await changes_repo.release_document_slot(uow, document_key)
    await repo.erase_documents(uow, account_id)
    await repo.erase_verification(uow, account_id)
    await repo.erase_changes_and_enterprise(uow, account_id)
    await repo.erase_appeals_and_statuses(uow, account_id)
    await repo.erase_credentials(uow, account_id)
    await repo.erase_addressed_records(uow, account_id, addresses)
    await repo.erase_recovery_tickets(uow, {n for n in (account.username_key, account.email_key) if n})
    await repo.drop_empty_phone_quotas(uow, addresses)
    await repo.erase_account_row(uow, account_id, now)
    await uow.session.refresh(account)
