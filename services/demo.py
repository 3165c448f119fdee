"""`account-center seed-demo`: one cloud account, one portal account, a reviewer and a lead for the
back office; credentials (and the reviewers' TOTP URIs) printed.

Idempotent: running it again prints the same credentials and creates nothing new.
"""

from __future__ import annotations

import io
from enum import Enum

import pyotp
from PIL import Image

from models.accounts import Account, AgreementAcceptance
from models.appeals import Appeal
from models.documents import Document
from services.accounts import repository as accounts_repo
from services.accounts.agreements import CURRENT, SIGN_UP_AGREEMENTS
from services.appeals import repository as appeals_repo
from services.appeals import service as appeals
from services.documents import service as documents
from services.errors import ServiceError
from services.review import repository as review_repo
from services.review import reviewers
from services.review import service as review
from services.uow import Uow
from services.webhooks import endpoints as webhook_endpoints
from services.webhooks.endpoints import SANDBOX_RECEIVER_PATH
from settings import Settings

DEMO_CLOUD_USERNAME = "demo-cloud"
DEMO_CLOUD_PASSWORD = "Demo-Cloud-2026!"
DEMO_CLOUD_PHONE = "+8613800138000"
DEMO_PORTAL_PHONE = "+8613900139000"
DEMO_PORTAL_USERNAME = "demo-portal"
DEMO_PORTAL_PASSWORD = "Demo-Portal-2026!"
DEMO_REVIEWERS = (("demo-reviewer", "reviewer"), ("demo-lead", "lead"))
DEMO_REVIEWER_PASSWORD = "Demo-Reviewer-2026!"
DEMO_APPEAL_PHONE = "+8613700137000"


class DemoErrorCode(Enum):
    NOT_SANDBOX = "NOT_SANDBOX"


def refusal(settings: Settings) -> str | None:
    """Why demo data may not go into this database, or None. Its passwords and TOTP secrets are printed
    and published: only a sandbox outside production may hold it."""
    if settings.is_production or not settings.sandbox:
        return (
            "seed-demo creates accounts and reviewers with published passwords; it runs only in sandbox mode "
            f"(SANDBOX=1) outside production, not with ENVIRONMENT={settings.environment} "
            f"SANDBOX={int(settings.sandbox)}"
        )
    return None


async def seed(uow: Uow) -> list[str]:
    """Create what is missing; return the lines to print. Refused outside a sandbox."""
    if (reason := refusal(uow.settings)) is not None:
        raise ServiceError(DemoErrorCode.NOT_SANDBOX, reason)
    lines: list[str] = []
    # The sandbox's own webhook receiver, subscribed to every event, so `make run` shows deliveries at
    # /sandbox/webhooks out of the box (docs/webhooks.md).
    receiver = uow.settings.base_url + SANDBOX_RECEIVER_PATH
    endpoint_id, added = await webhook_endpoints.ensure(uow, receiver)
    lines.append(
        f"webhooks: endpoint {endpoint_id} ({'added' if added else 'exists'}) -> {receiver}, see /sandbox/webhooks"
    )
    now = uow.now()
    cloud = await accounts_repo.with_username_key(uow, DEMO_CLOUD_USERNAME)
    if cloud is None:
        await accounts_repo.take_cloud_slot(uow, DEMO_CLOUD_PHONE)
        cloud = await accounts_repo.add(
            uow,
            Account(
                kind="cloud",
                status="active",
                account_number=1000000000000001,
                username=DEMO_CLOUD_USERNAME,
                username_key=DEMO_CLOUD_USERNAME,
                phone=DEMO_CLOUD_PHONE,
                password_hash=await uow.deps.hasher.hash(DEMO_CLOUD_PASSWORD),
                idle_timeout_minutes=60,
                op_protection_sms=True,
                op_protection_totp=False,
                login_protection_sms=False,
                login_protection_totp=False,
                contact_name="Demo Cloud",
                created_at=now,
                activated_at=now,
                password_changed_at=now,
            ),
        )
        await _accept(uow, cloud.id, "registration")
    portal = await accounts_repo.with_username_key(uow, DEMO_PORTAL_USERNAME)
    if portal is None:
        portal = await accounts_repo.add(
            uow,
            Account(
                kind="portal",
                status="active",
                account_number=1000000000000002,
                username=DEMO_PORTAL_USERNAME,
                username_key=DEMO_PORTAL_USERNAME,
                phone=DEMO_PORTAL_PHONE,
                phone_holder=True,  # REG-4: its SMS sign-in reaches it
                password_hash=await uow.deps.hasher.hash(DEMO_PORTAL_PASSWORD),
                idle_timeout_minutes=60,
                op_protection_sms=True,
                op_protection_totp=False,
                login_protection_sms=False,
                login_protection_totp=False,
                contact_name="Demo Portal",
                created_at=now,
                activated_at=now,
                password_changed_at=now,
            ),
        )
        await _accept(uow, portal.id, "activation")
    staff_lines: list[str] = []
    for username, role in DEMO_REVIEWERS:
        staff = await review_repo.reviewer_by_username(uow, username)
        if staff is None:
            created = await reviewers.add_reviewer(
                uow, username=username, display_name=username, role=role, password=DEMO_REVIEWER_PASSWORD
            )
            staff = created.reviewer
        uri = pyotp.TOTP(reviewers.totp_secret(uow, staff)).provisioning_uri(
            name=username, issuer_name=reviewers.TOTP_ISSUER
        )
        staff_lines.append(f"back office {role}: {username}  password {DEMO_REVIEWER_PASSWORD}  TOTP {uri}")
    lines.append(
        f"cloud account:  username {DEMO_CLOUD_USERNAME}  password {DEMO_CLOUD_PASSWORD}  "
        f"phone {DEMO_CLOUD_PHONE[3:]}  account ID {cloud.account_number}"
    )
    lines.append(
        f"portal account: phone {DEMO_PORTAL_PHONE[3:]} (SMS sign-in) or login name {DEMO_PORTAL_USERNAME}  "
        f"password {DEMO_PORTAL_PASSWORD}  account ID {portal.account_number}"
    )
    demo_line = await _demo_appeal(uow, portal)
    return lines + staff_lines + ([demo_line] if demo_line else [])


async def _demo_appeal(uow: Uow, portal: Account) -> str | None:
    """A phone-rebind appeal of the demo portal account, waiting in the 5-working-day queue."""
    if await appeals_repo.has_appeal(uow, portal.id):
        return None
    materials: dict[str, Document] = {}
    for role, colour in zip(
        appeals.materials_for(appeals.KIND, "person"), ((200, 60, 60), (60, 160, 60), (60, 60, 200)), strict=True
    ):
        out = io.BytesIO()
        Image.new("RGB", (480, 300), colour).save(out, format="PNG")
        prepared = await documents.prepare_async(f"{role.lower()}.png", out.getvalue())
        materials[role] = await documents.store(uow, portal.id, prepared)
    now = uow.now()
    appeal = Appeal(
        kind=appeals.KIND,
        account_id=portal.id,
        subject_type="person",
        new_phone=DEMO_APPEAL_PHONE,
        state="submitted",
        created_at=now,
    )
    await appeals_repo.add(uow, appeal)
    appeals_repo.add_materials(uow, appeal.id, materials, now)
    item = await review.submit(uow, kind=appeals.KIND, subject_id=appeal.id, account_id=portal.id, queue_days=5)
    appeal.review_item_id = item.id
    await uow.session.flush()
    return f"back office: a phone-rebind appeal of the portal account waits in the 5-day queue (item {item.id})"


async def _accept(uow: Uow, account_id: int, context: str) -> None:
    uow.session.add_all(
        [
            AgreementAcceptance(
                account_id=account_id,
                agreement=k.value,
                version=CURRENT[k].version,
                context=context,
                accepted_at=uow.now(),
            )
            for k in SIGN_UP_AGREEMENTS
        ]
    )
    await uow.session.flush()
