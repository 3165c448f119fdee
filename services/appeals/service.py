"""Appeals reviewed in the 5-working-day queue (REV-1): MFA unbind (APL-1, MFA-6's lost-device path)
and phone rebind (APL-2, PROF-2's lost-phone path).

Each takes the materials for the subject type (`MATERIALS`):
- MFA unbind (APL-1): a person (or an unverified account) the ID card held in hand (both sides), the
  signed application letter, a payment proof (invoice or payment confirmation); an enterprise the legal
  representative's ID card (not held in hand), the business licence, the application letter bearing the
  company stamp.
- phone rebind (APL-2): a person the ID card held in hand showing the upper body, the signed rebind
  application letter and a payment proof; an enterprise the legal representative's ID card, also held
  in hand showing the upper body, and the business licence.
A phone-rebind appeal also names the new phone, proven by a PHONE_CHANGE_NEW code. An MFA-unbind
appeal needs a bound virtual MFA device.

APL-2 must be reachable without a session. Three ways to file a phone-rebind appeal:
- with a session (`file_phone_rebind`);
- with the login challenge of a right password (`file_phone_rebind` through `auth.challenge_viewer`):
  the user whom login protection asks for the lost phone;
- with nothing but the login name, a passed bot check and the new phone (`services/appeals/signed_out.py`:
  `send_new_phone_code`, then `start_phone_rebind`, which checks and counts the new phone's code before
  anything about the login name is answered, then `submit_phone_rebind`): a user with no password, or
  who forgot it.
A filer without a session gets an appeal token (`services/appeals/tokens.py`, random, stored hashed,
shown once): it uploads materials to its own appeal only, files it (a draft lives `DRAFT_TTL`), then
reads that appeal (`read_by_token`) and answers requests for material (`answer_by_token`) until
`TOKEN_AFTER_DECISION` after the decision. It reads nothing else: no account field, no masked bound
phone. The SQL of all three is in `services/appeals/repository.py`.
A reviewer approves (phone rebind: the new phone becomes the bound phone and both numbers are told;
MFA unbind: the device and its recovery codes are removed), rejects with a reason, or asks for more
material, which the user sends with `answer`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from models.accounts import Account
from models.appeals import Appeal
from models.documents import Document
from models.review import ReviewItem
from services.accounts import phones
from services.accounts import repository as accounts_repo
from services.appeals import repository as repo
from services.appeals import tokens
from services.appeals.errors import AppealErrorCode
from services.client import ClientInfo
from services.clock import SHANGHAI, as_utc
from services.codes import service as codes
from services.codes.purposes import CodePurpose
from services.errors import Problems, ServiceError, checked
from services.history import service as history
from services.history.service import EventKind
from services.identifiers import mask_phone, normalize_phone
from services.mfa import devices
from services.review import kinds
from services.review import service as review
from services.review.kinds import RejectReason
from services.uow import Uow
from services.verification import subject
from services.viewer import Viewer
from services.webhooks import events as webhook_events
from services.webhooks.events import EventType

log = logging.getLogger(__name__)

KIND = "phone_rebind"
MFA_UNBIND = "mfa_unbind"
QUEUE_DAYS = 5  # APL-1, APL-2: both in the 5-working-day queue (REV-1)
MATERIALS: dict[str, dict[str, tuple[str, ...]]] = {
    MFA_UNBIND: {  # APL-1
        "person": ("ID_CARD_IN_HAND", "APPLICATION_LETTER", "PAYMENT_PROOF"),
        "enterprise": ("LEGAL_REP_ID_CARD", "BUSINESS_LICENCE", "STAMPED_APPLICATION_LETTER"),
    },
    KIND: {  # APL-2: held in hand showing the upper body, for the legal representative too
        "person": ("ID_CARD_IN_HAND", "APPLICATION_LETTER", "PAYMENT_PROOF"),
        "enterprise": ("LEGAL_REP_ID_CARD_IN_HAND", "BUSINESS_LICENCE"),
    },
}
FIELD = "materials"  # the input's list of materials; each is `materials.<index>` with `role` and `uploadId`


@dataclass(frozen=True, slots=True)
class Material:
    """One material as sent: its role and the upload's row ID (a number naming no row when the ID was
    malformed, so it is refused exactly as an unknown upload)."""

    role: str
    document_id: int


def materials_for(kind: str, subject: str) -> tuple[str, ...]:
    """The materials an appeal of `kind` takes from a person or an enterprise (APL-1, APL-2)."""
    return MATERIALS[kind][subject]


@dataclass(frozen=True, slots=True)
class Filed:
    """An appeal as filed or answered, with its review item (its `due_at`), and the appeal token when the
    filer has no session (filed with a login challenge)."""

    appeal: Appeal
    item: ReviewItem | None
    token: tokens.IssuedToken | None = None


async def subject_type(uow: Uow, account_id: int) -> str:
    """Which material set applies: an unverified account proves itself as a person would."""
    return await subject.verified_subject(uow, account_id) or "person"


def check_duplicates(problems: Problems, materials: list[Material]) -> None:
    """Stateless: each role once (a second upload for a role would silently replace the first)."""
    seen: set[str] = set()
    for index, material in enumerate(materials):
        if material.role in seen:
            problems.add(
                AppealErrorCode.MATERIAL_DUPLICATE,
                f"{material.role} is sent twice; send each material once.",
                f"{FIELD}.{index}.role",
            )
        seen.add(material.role)


async def uploads_for(
    uow: Uow, account_id: int, materials: list[Material], expected: tuple[str, ...], token_id: int | None = None
) -> dict[str, Document]:
    """Each material's upload: the account's own (with a session or a login challenge) or, with an appeal
    token (`token_id`), one uploaded with that token; any other is as unknown as a made-up ID."""
    unexpected = [(i, m.role) for i, m in enumerate(materials) if m.role not in expected]
    if unexpected:
        raise ServiceError(
            AppealErrorCode.MATERIAL_NOT_EXPECTED,
            f"Not part of this appeal: {', '.join(sorted({role for _, role in unexpected}))}.",
            f"{FIELD}.{unexpected[0][0]}.role",
        )
    found: dict[str, Document] = {}
    for index, material in enumerate(materials):
        document = await repo.upload_for_material(uow, material.document_id, account_id, token_id)
        if document is None:  # ORG-3: another account's (or another token's) upload is as unknown as a made-up ID
            raise ServiceError(
                AppealErrorCode.DOCUMENT_NOT_FOUND,
                f"No such upload for {material.role}.",
                f"{FIELD}.{index}.uploadId",
            )
        found[material.role] = document
    return found


async def _materials(
    uow: Uow, appeal_kind: str, account_id: int, materials: list[Material], subject: str | None = None
) -> tuple[str, dict[str, Document]]:
    """The material set of `subject` (default: the account's, person or enterprise), every material of
    it, each the viewer's upload."""
    kind = subject or await subject_type(uow, account_id)
    expected = materials_for(appeal_kind, kind)
    require_all(materials, expected)
    return kind, await uploads_for(uow, account_id, materials, expected)


def require_all(materials: list[Material], expected: tuple[str, ...]) -> None:
    sent = {m.role for m in materials}
    absent = [role for role in expected if role not in sent]
    if absent:
        raise ServiceError(
            AppealErrorCode.MATERIAL_MISSING, f"Upload every material: missing {', '.join(absent)}.", FIELD
        )


async def refuse_if_open(uow: Uow, account_id: int, kind: str, message: str) -> None:
    if await repo.open_appeal_id(uow, account_id, kind) is not None:
        raise ServiceError(AppealErrorCode.APPEAL_ALREADY_OPEN, message, None)


async def submit(
    uow: Uow,
    account_id: int,
    kind: str,
    subject: str,
    documents: dict[str, Document],
    new_phone: str | None = None,
    client: ClientInfo | None = None,
) -> tuple[Appeal, ReviewItem]:
    now = uow.now()
    appeal = Appeal(
        kind=kind, account_id=account_id, subject_type=subject, new_phone=new_phone, state="submitted", created_at=now
    )
    await repo.add(uow, appeal)
    repo.add_materials(uow, appeal.id, documents, now)
    item = await review.submit(uow, kind=kind, subject_id=appeal.id, account_id=account_id, queue_days=QUEUE_DAYS)
    appeal.review_item_id = item.id
    await uow.session.flush()
    await history.record(uow, account_id, EventKind.APPEAL_FILED, client, kind)  # HIST-1
    return appeal, item


async def _filed(uow: Uow, viewer: Viewer, appeal: Appeal, item: ReviewItem) -> Filed:
    """The filed appeal; filed with a login challenge (no session), with an appeal token to follow it."""
    if viewer.session_id != 0:  # a session: the appeal is read in `viewer.appeals`
        return Filed(appeal, item)
    return Filed(appeal, item, await tokens.issue(uow, appeal.account_id, appeal_id=appeal.id))


async def file_phone_rebind(
    uow: Uow, viewer: Viewer, *, new_phone: str, new_phone_code: str, materials: list[Material]
) -> Filed:
    """APL-2 with a session, or with the login challenge of a right password (then with an appeal token)."""
    account = viewer.account
    # Every problem that needs no state at once: the new phone, the code's format, each material once.
    problems = Problems()
    phone = normalize_phone(new_phone or "")
    if phone is None:
        problems.add(AppealErrorCode.INVALID_PHONE, "Enter a mainland mobile number.", "newPhone")
    checked(problems, codes.check_format, new_phone_code, "newPhoneCode")
    check_duplicates(problems, materials)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert phone is not None
    if phone == account.phone:
        raise ServiceError(AppealErrorCode.PHONE_UNCHANGED, "This is already the bound phone.", "newPhone")
    kind, documents = await _materials(uow, KIND, account.id, materials)
    await refuse_if_open(uow, account.id, KIND, "A phone-rebind appeal is already under review.")
    # The new phone's code (CODE-2: a wrong one is counted and committed) before anything about the
    # phone's other accounts is answered, so only its holder learns whether it has any.
    code_id = await codes.check(
        uow, destination=phone, purpose=CodePurpose.PHONE_CHANGE_NEW, code=new_phone_code, field="newPhoneCode"
    )
    # REG-3 / REG-4: a phone the account could not move to is refused before the code is used, each
    # refusal a counted try of the code (approval decides again with `phones.rebind`).
    await phones.check_bindable(uow, account, phone, code_id=code_id)
    await codes.use(uow, code_id, "newPhoneCode")  # CODE-2: single use
    return await _filed(
        uow, viewer, *await submit(uow, account.id, KIND, kind, documents, new_phone=phone, client=viewer.client)
    )


async def file_mfa_unbind(uow: Uow, viewer: Viewer, materials: list[Material]) -> Filed:
    """APL-1, MFA-6: the device is lost, so no current code can unbind it; staff decide on the materials.

    Refused (and nothing written) with a material sent twice, without a bound device, with a material
    missing or not of the account's set, with an upload that is not the viewer's, or while an MFA-unbind
    appeal is open."""
    problems = Problems()
    check_duplicates(problems, materials)
    if (refusal := problems.refusal()) is not None:
        raise refusal
    account = viewer.account
    await accounts_repo.lock_account(uow, account.id)  # two filings at once: one appeal
    if await devices.bound_device(uow, account.id) is None:
        raise ServiceError(
            AppealErrorCode.MFA_DEVICE_NOT_BOUND, "No virtual MFA device is bound: there is nothing to unbind.", None
        )
    kind, documents = await _materials(uow, MFA_UNBIND, account.id, materials)
    await refuse_if_open(uow, account.id, MFA_UNBIND, "An MFA-unbind appeal is already under review.")
    return await _filed(uow, viewer, *await submit(uow, account.id, MFA_UNBIND, kind, documents, client=viewer.client))


def check_answer(materials: list[Material]) -> None:
    problems = Problems()
    if not materials:
        problems.add(AppealErrorCode.MATERIAL_MISSING, "Upload at least one material.", FIELD)
    check_duplicates(problems, materials)
    if (refusal := problems.refusal()) is not None:
        raise refusal


async def answer(uow: Uow, viewer: Viewer, appeal_id: int, materials: list[Material]) -> Filed:
    """The user sends what the reviewer asked for; the item goes back to the queue (REV-4)."""
    check_answer(materials)
    appeal = await repo.get(uow, appeal_id)
    if appeal is None or appeal.account_id != viewer.account.id:
        raise ServiceError(AppealErrorCode.APPEAL_NOT_FOUND, "No such appeal.", "id")
    return await answer_with(uow, appeal, materials, None, "id")


async def answer_with(uow: Uow, appeal: Appeal, materials: list[Material], token_id: int | None, field: str) -> Filed:
    if appeal.state != "waiting_user" or appeal.review_item_id is None:
        raise ServiceError(AppealErrorCode.NOT_WAITING_FOR_MATERIAL, "This appeal is not waiting for material.", field)
    expected = materials_for(appeal.kind, appeal.subject_type)
    documents = await uploads_for(uow, appeal.account_id, materials, expected, token_id)
    # Back to the queue once: of two answers at once, the second finds it submitted and changes nothing.
    if not await repo.back_to_queue(uow, appeal.id):
        raise ServiceError(AppealErrorCode.NOT_WAITING_FOR_MATERIAL, "This appeal is not waiting for material.", field)
    repo.add_materials(uow, appeal.id, documents, uow.now())
    await uow.session.flush()
    item = await review.user_answered(uow, appeal.review_item_id)
    return Filed(await appeal_afresh(uow, appeal.id), item)


async def appeal_afresh(uow: Uow, appeal_id: int) -> Appeal:
    found = await repo.get_afresh(uow, appeal_id)
    assert found is not None
    return found


def masked_new_phone(appeal: Appeal) -> str | None:
    return mask_phone(appeal.new_phone) if appeal.new_phone else None


async def _decided(uow: Uow, appeal: Appeal, outcome: str) -> None:
    """The appeal's decision: a security event (HIST-1, no client: a reviewer's decision) and a webhook event
    (WH-1) with the appeal's ID, kind, outcome and reason code (never the reviewer's text)."""
    await history.record(uow, appeal.account_id, EventKind.APPEAL_DECIDED, None, outcome)  # HIST-1
    await webhook_events.emit(
        uow,
        EventType.APPEAL_DECIDED,
        appeal.account_id,
        {
            "appealId": webhook_events.api_id("Appeal", appeal.id),
            "kind": appeal.kind,
            "outcome": outcome,
            "reason": appeal.reject_reason,
        },
    )


class _AppealHandler:
    """What the back office's rejections and requests for material do to any appeal, and what it shows."""

    async def rejected(self, uow: Uow, item: ReviewItem, reason: RejectReason, text: str) -> None:
        appeal = await repo.get(uow, item.subject_id)
        assert appeal is not None
        appeal.state, appeal.decided_at = "rejected", uow.now()
        appeal.reject_reason, appeal.reject_text = reason.value, text or None
        await uow.session.flush()
        await _decided(uow, appeal, "rejected")

    async def more_material_requested(self, uow: Uow, item: ReviewItem, message: str) -> None:
        appeal = await repo.get(uow, item.subject_id)
        assert appeal is not None
        appeal.state, appeal.more_message = "waiting_user", message
        await uow.session.flush()

    async def materials(self, uow: Uow, item: ReviewItem) -> list[kinds.ReviewMaterial]:
        return [
            kinds.ReviewMaterial(role, document) for role, document in await repo.materials_of(uow, item.subject_id)
        ]


class PhoneRebindHandler(_AppealHandler):
    """What the back office's decisions do to a phone-rebind appeal."""

    label = "手机号换绑申诉 / phone-rebind appeal"

    async def approved(self, uow: Uow, item: ReviewItem) -> None:
        appeal = await repo.get(uow, item.subject_id)
        account = await accounts_repo.get(uow, item.account_id)
        assert appeal is not None
        assert account is not None
        assert appeal.new_phone is not None
        # REG-3 / REG-4 hold as for the owner's own phone change: an approval that would break them is
        # refused (the item stays claimed, nothing changes) and the reviewer reads why on the item page.
        old = await phones.rebind(uow, account, appeal.new_phone)
        await history.record(uow, account.id, EventKind.PHONE_CHANGED, None, "appeal")  # HIST-1
        appeal.state, appeal.decided_at = "approved", uow.now()
        await uow.session.flush()
        await _decided(uow, appeal, "approved")
        # APL-2: both numbers are told (the review service tells the new bound phone as well).
        await uow.deps.notifier.send(
            uow,
            channel="sms",
            destination=old,
            purpose="PHONE_REBOUND",
            text="【账号中心】您的账号已通过申诉换绑手机。 Account center: your account's phone was changed by appeal.",
        )

    async def facts(self, uow: Uow, item: ReviewItem) -> list[tuple[str, str]]:
        appeal = await repo.get(uow, item.subject_id)
        assert appeal is not None
        filed_by_token = await repo.filed_by_token(uow, appeal.id)
        verified = await subject.verified_subject(uow, item.account_id)
        return [
            ("Appeal", "phone rebind (APL-2)"),
            ("Filed", "signed out (login name + new phone's code)" if filed_by_token else "by the account holder"),
            ("Materials for", appeal.subject_type),
            ("Account verified as", verified or "— (not verified)"),
            ("New phone", masked_new_phone(appeal) or "—"),
        ]


class MfaUnbindHandler(_AppealHandler):
    """What the back office's decisions do to an MFA-unbind appeal (APL-1, MFA-6)."""

    label = "MFA 解绑申诉 / MFA-unbind appeal"

    async def approved(self, uow: Uow, item: ReviewItem) -> None:
        """The device and its recovery codes go; the protections drop TOTP (`devices.remove_device`).

        Only the device the appeal was about: one bound after the filing (the user unbound the old one
        with a recovery code and bound a new one) stays. The review service tells the bound phone."""
        await accounts_repo.lock_account(uow, item.account_id)
        appeal = await repo.get(uow, item.subject_id)
        account = await uow.session.get(Account, item.account_id, populate_existing=True)
        assert appeal is not None
        assert account is not None
        device = await devices.bound_device(uow, account.id)
        if device is not None and (device.bound_at is None or as_utc(device.bound_at) <= as_utc(appeal.created_at)):
            await devices.remove_device(uow, account, detail="appeal")  # no client: a reviewer's decision
        appeal.state, appeal.decided_at = "approved", uow.now()
        await uow.session.flush()
        await _decided(uow, appeal, "approved")

    async def facts(self, uow: Uow, item: ReviewItem) -> list[tuple[str, str]]:
        appeal = await repo.get(uow, item.subject_id)
        assert appeal is not None
        device = await devices.bound_device(uow, item.account_id)
        bound_at = device.bound_at if device is not None else None
        return [
            ("Appeal", "MFA unbind (APL-1)"),
            ("Materials for", appeal.subject_type),
            (
                "Device bound at",
                as_utc(bound_at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if bound_at else "— (none bound now)",
            ),
        ]


kinds.register(KIND, PhoneRebindHandler())
kinds.register(MFA_UNBIND, MfaUnbindHandler())
