"""APL-2 without a session: a phone-rebind appeal filed with nothing but the login name, a passed bot
check and the new phone (a user with no password, or who forgot it).

`send_new_phone_code` sends the new phone a PHONE_CHANGE_NEW code behind the bot check;
`start_phone_rebind` checks and counts that code before anything about the login name is answered, and
issues a draft appeal token (`services/appeals/tokens.py`); `submit_phone_rebind` files the appeal with
the materials uploaded with that token. The token then reads that appeal (`read_by_token`) and answers
requests for material (`answer_by_token`). It reads nothing else: no account field, no masked bound
phone.
"""

from __future__ import annotations

from models.appeals import Appeal
from models.review import ReviewItem
from services import botcheck
from services.accounts import phones
from services.accounts import repository as accounts_repo
from services.appeals import repository as repo
from services.appeals import tokens
from services.appeals.errors import AppealErrorCode
from services.appeals.service import (
    KIND,
    Filed,
    Material,
    answer_with,
    appeal_afresh,
    check_answer,
    check_duplicates,
    materials_for,
    refuse_if_open,
    require_all,
    submit,
    uploads_for,
)
from services.auth import service as auth
from services.client import ClientInfo
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.database import Transactions
from services.errors import Problems, ServiceError, checked
from services.identifiers import normalize_phone
from services.text import has_control_characters
from services.uow import Uow


def _new_phone(problems: Problems, new_phone: str) -> str | None:
    phone = normalize_phone(new_phone or "")
    if phone is None:
        problems.add(AppealErrorCode.INVALID_PHONE, "Enter a mainland mobile number.", "newPhone")
    return phone


async def send_new_phone_code(
    tx: Transactions, new_phone: str, bot_token: str, client_ip: str | None
) -> codes.SentCode | ServiceError:
    """APL-2, signed out: a PHONE_CHANGE_NEW code to the new phone, behind the bot check, with the usual
    send limits (CODE-3: the 60 s gap, the phone's daily budget, the caller's address caps). It names no
    account and reads none."""
    try:
        problems = Problems()
        phone = _new_phone(problems, new_phone)
        checked(problems, botcheck.check_token, bot_token, AppealErrorCode.BOT_CHECK_FAILED)
        if (refusal := problems.refusal()) is not None:
            raise refusal
        assert phone is not None
        await botcheck.verify(
            tx,
            bot_token,
            client_ip,
            failed=AppealErrorCode.BOT_CHECK_FAILED,
            unavailable=AppealErrorCode.BOT_CHECK_UNAVAILABLE,
        )
    except ServiceError as err:
        return err
    return await tx.write(
        codes.send,
        channel="sms",
        destination=phone,
        purpose=CodePurpose.PHONE_CHANGE_NEW,
        client_ip=client_ip,
        field="newPhone",
    )


async def start_phone_rebind(uow: Uow, login_name: str, new_phone: str, new_phone_code: str) -> tokens.IssuedToken:
    """APL-2, signed out: the new phone's code opens a draft appeal of the account the login name names.

    The code is the secret the caller must know, so it is checked (a wrong one counted and committed,
    CODE-2) before anything depends on the login name; every refusal after it (no such account, the
    phone already bound, REG-3 / REG-4, an appeal already open) costs one of the code's 5 tries, so one
    code answers at most 5 such questions. Only then is the code used and the draft token issued."""
    problems = Problems()
    if not (login_name or "").strip():
        problems.add(AppealErrorCode.LOGIN_NAME_REQUIRED, "Enter the login name.", "loginName")
    elif has_control_characters(login_name):
        problems.add(AppealErrorCode.LOGIN_NAME_INVALID, "A login name has no control characters.", "loginName")
    phone = _new_phone(problems, new_phone)
    checked(problems, codes.check_format, new_phone_code, "newPhoneCode")
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert phone is not None
    code_id = await codes.check(
        uow, destination=phone, purpose=CodePurpose.PHONE_CHANGE_NEW, code=new_phone_code, field="newPhoneCode"
    )
    _, found = await auth.resolve_login_name(uow, login_name)
    if found is None or found.status != "active":
        unknown = ServiceError(AppealErrorCode.ACCOUNT_NOT_FOUND, "No account has this login name.", "loginName")
        raise await codes.refused_after_code(uow, code_id, unknown, "newPhoneCode")
    await accounts_repo.lock_account(uow, found.id)  # drafts and filings of one account, one at a time
    account = await accounts_repo.get(uow, found.id)
    assert account is not None
    if phone == account.phone:
        unchanged = ServiceError(AppealErrorCode.PHONE_UNCHANGED, "This is already the bound phone.", "newPhone")
        raise await codes.refused_after_code(uow, code_id, unchanged, "newPhoneCode")
    await phones.check_bindable(uow, account, phone, code_id=code_id)  # REG-3 / REG-4, counted
    if await repo.open_appeal_id(uow, account.id, KIND) is not None:
        already = ServiceError(
            AppealErrorCode.APPEAL_ALREADY_OPEN, "A phone-rebind appeal is already under review.", None
        )
        raise await codes.refused_after_code(uow, code_id, already, "newPhoneCode")
    await codes.use(uow, code_id, "newPhoneCode")  # CODE-2: single use; of racing starts, one passes
    return await tokens.issue(uow, account.id, new_phone=phone)


def _enterprise_sent(materials: list[Material]) -> bool:
    person = set(materials_for(KIND, "person"))
    return any(m.role not in person for m in materials)


async def submit_phone_rebind(
    uow: Uow, token: str, materials: list[Material], client: ClientInfo | None = None
) -> Filed:
    """APL-2, signed out: file the draft's appeal with the materials uploaded with its token.

    The filer says which set it sends (a person's or an enterprise's, by the roles sent): an answer that
    depended on the account's verified subject would tell it to someone who has only proven a phone. The
    reviewer sees both. Refused (nothing written) with a material twice, missing or of neither set, an
    upload not made with this token, a used or expired draft, or an appeal already open."""
    problems = Problems()
    check_duplicates(problems, materials)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    draft = await tokens.live(uow, token)
    if draft is None or draft.appeal_id is not None or draft.new_phone is None:
        raise tokens.invalid()
    await accounts_repo.lock_account(uow, draft.account_id)  # racing filings of one draft: one appeal
    await uow.session.refresh(draft)
    if draft.appeal_id is not None:
        raise tokens.invalid()
    subject = "enterprise" if _enterprise_sent(materials) else "person"
    expected = materials_for(KIND, subject)
    require_all(materials, expected)
    documents = await uploads_for(uow, draft.account_id, materials, expected, draft.id)
    await refuse_if_open(uow, draft.account_id, KIND, "A phone-rebind appeal is already under review.")
    appeal, item = await submit(
        uow, draft.account_id, KIND, subject, documents, new_phone=draft.new_phone, client=client
    )
    draft.appeal_id = appeal.id
    await uow.session.flush()
    account = await accounts_repo.get(uow, draft.account_id)
    assert account is not None
    # The bound phone hears of it at once: an owner who still has it learns of an appeal they did not file.
    await uow.deps.notifier.send(
        uow,
        channel="sms",
        destination=account.phone,
        purpose="PHONE_REBIND_APPEAL_FILED",
        text="【账号中心】您的账号提交了手机号换绑申诉，如非本人操作请联系客服。 Account center: a phone-rebind "
        "appeal was filed for your account; if it was not you, contact support.",
    )
    return Filed(appeal, item)


async def read_by_token(uow: Uow, token: str) -> tuple[Appeal, ReviewItem | None] | None:
    """The appeal an appeal token follows, with its review item; None for anything else (a draft, an
    unknown or expired token). Nothing of the account."""
    row = await tokens.live(uow, token)
    if row is None or row.appeal_id is None:
        return None
    return await repo.with_item(uow, row.appeal_id)


async def answer_by_token(uow: Uow, token: str, materials: list[Material]) -> Filed:
    """REV-4 for a filer without a session: the material asked for, uploaded with the appeal token."""
    check_answer(materials)
    row = await tokens.live(uow, token)
    if row is None or row.appeal_id is None:
        raise tokens.invalid()
    appeal = await appeal_afresh(uow, row.appeal_id)
    return await answer_with(uow, appeal, materials, row.id, "appealToken")
