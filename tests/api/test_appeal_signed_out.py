"""APL-2 without a session: a user who cannot pass any usual check (a portal account without a password,
or one whose login protection asks for the lost phone) files, follows and answers a phone-rebind appeal
with the login name, a bot check, the new phone's code and an appeal token."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from models.accounts import Account
from models.appeals import Appeal, AppealToken
from models.codes import OneTimeCode, OutboxMessage
from models.documents import Document, DocumentBlob
from models.review import Reviewer, ReviewItem
from services import sweeper
from services.appeals import service as appeals
from services.clock import SHANGHAI
from services.review import service as review
from services.review.kinds import RejectReason
from tests.api.test_appeals import _png
from tests.helpers import gql, last_code, mutate, outbox, registered_and_signed_in, sign_in_result, sms_sign_in

OLD_PHONE, NEW_PHONE, OTHER_NEW_PHONE = "13700000011", "13900000019", "13900000029"
BOT_PASS = "sandbox-pass"
PERSON = ("ID_CARD_IN_HAND", "APPLICATION_LETTER", "PAYMENT_PROOF")
ENTERPRISE = ("LEGAL_REP_ID_CARD_IN_HAND", "BUSINESS_LICENCE")
APPEAL = "appeal { id kind status dueAt newPhoneMasked requiredMaterials moreMaterialMessage rejectReason }"
BY_TOKEN = (
    "query($t: String!) { appealByToken(token: $t) { kind status dueAt requiredMaterials moreMaterialMessage "
    "rejectReason rejectText } }"
)


@pytest.fixture
async def lead(db: Any, clock: Any) -> Reviewer:
    async with db.write_sessions() as s:
        staff = Reviewer(username="lead", display_name="Lead", role="lead", active=True, password_hash="x",
                         totp_secret="x", totp_last_step=0, created_at=clock.now())  # fmt: skip
        s.add(staff)
        await s.commit()
        return staff


async def _code_send(client: httpx.AsyncClient, phone: str = NEW_PHONE, bot: str = BOT_PASS) -> dict[str, Any]:
    return await mutate(
        client, "phoneRebindAppealCodeSend", {"newPhone": phone, "botToken": bot}, "sentCode { purpose sentTo }"
    )


async def _start(client: httpx.AsyncClient, login_name: str, code: str, phone: str = NEW_PHONE) -> dict[str, Any]:
    return await mutate(
        client,
        "phoneRebindAppealStart",
        {"loginName": login_name, "newPhone": phone, "newPhoneCode": code},
        "appealToken { token expiresAt }",
    )


async def _draft(client: httpx.AsyncClient, login_name: str = OLD_PHONE, phone: str = NEW_PHONE) -> str:
    assert (await _code_send(client, phone))["errors"] == []
    started = await _start(client, login_name, await last_code(client, phone), phone)
    assert started["errors"] == [], started
    return str(started["appealToken"]["token"])


async def _upload(client: httpx.AsyncClient, bearer: str) -> httpx.Response:
    return await client.post(
        "/uploads", files={"file": ("m.png", _png())}, headers={"authorization": f"Bearer {bearer}"}
    )


async def _materials(client: httpx.AsyncClient, bearer: str, roles: tuple[str, ...] = PERSON) -> list[dict[str, str]]:
    found = []
    for role in roles:
        response = await _upload(client, bearer)
        assert response.status_code == 201, response.text
        found.append({"role": role, "uploadId": response.json()["id"]})
    return found


async def _submit(client: httpx.AsyncClient, token: str, materials: list[dict[str, str]]) -> dict[str, Any]:
    return await mutate(client, "phoneRebindAppealSubmit", {"appealToken": token, "materials": materials}, APPEAL)


async def _by_token(client: httpx.AsyncClient, token: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await gql(client, BY_TOKEN, {"t": token}))["appealByToken"]
    return found


async def _portal_without_password(client: httpx.AsyncClient) -> str:
    """A portal account created by SMS sign-in (REG-4): it has no password."""
    signed = await sms_sign_in(client, OLD_PHONE)
    assert signed["errors"] == []
    assert signed["accountCreated"] is True
    return str(signed["account"]["id"])


async def _counts(db: Any) -> tuple[int, int, int]:
    async with db.read_sessions() as s:
        counts = [await s.scalar(select(func.count()).select_from(m)) for m in (Appeal, AppealToken, ReviewItem)]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


async def test_apl_2_signed_out_lost_phone_appeal_is_filed_approved_and_the_new_phone_signs_in(
    client: httpx.AsyncClient, db: Any, clock: Any, run: Any, lead: Reviewer
) -> None:
    # Given a portal account without a password whose phone is lost, on Thursday 2026-11-26 in Shanghai
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    account_id = await _portal_without_password(client)
    # When, signed out, they pass the bot check, prove the new phone and name the account
    sent = await _code_send(client)
    assert sent == {"sentCode": {"purpose": "PHONE_CHANGE_NEW", "sentTo": "139****0019"}, "errors": []}
    started = await _start(client, OLD_PHONE, await last_code(client, NEW_PHONE))
    token = started["appealToken"]["token"]
    assert token.startswith("apt_")
    assert started["appealToken"]["expiresAt"] == (clock.now() + timedelta(hours=24)).isoformat()
    # And upload the materials with the draft token and file
    filed = await _submit(client, token, await _materials(client, token))
    # Then the appeal is in the 5-working-day queue, its due time answered at once
    assert filed["errors"] == []
    assert (filed["appeal"]["kind"], filed["appeal"]["status"]) == ("PHONE_REBIND", "SUBMITTED")
    assert filed["appeal"]["dueAt"] == "2026-12-03T15:59:59+00:00"
    assert filed["appeal"]["requiredMaterials"] == list(PERSON)
    # And the lost bound phone is told an appeal was filed
    assert "phone-rebind appeal was filed" in (await outbox(client, OLD_PHONE))[0]["text"]
    # When a reviewer approves it
    async with db.read_sessions() as s:
        [item] = list(await s.scalars(select(ReviewItem)))
    await run(review.claim, lead, item.id)
    await run(review.approve, lead, item.id)
    # Then the token reads the decision
    decided = await _by_token(client, token)
    assert decided is not None
    assert (decided["status"], decided["dueAt"]) == ("APPROVED", None)
    # And the new phone is the bound phone: it receives sign-in codes and signs in to the same account
    signed = await sms_sign_in(client, NEW_PHONE)
    assert signed["errors"] == []
    assert signed["accountCreated"] is False
    assert signed["account"]["id"] == account_id
    async with db.read_sessions() as s:
        assert await s.scalar(select(Account.phone)) == "+86" + NEW_PHONE


async def test_apl_2_the_token_reads_nothing_else_and_is_no_session(
    client: httpx.AsyncClient, db: Any, clock: Any
) -> None:
    await _portal_without_password(client)
    token = await _draft(client)
    # A draft not filed yet reads nothing; the token signs nothing in
    assert await _by_token(client, token) is None
    assert (await gql(client, "{ viewer { accountId } }", token=token))["viewer"] is None
    refused = await mutate(client, "accountIdleTimeoutSet", {"minutes": 30}, "account { id }", token)
    assert refused["errors"][0]["code"] == "AUTHENTICATION_REQUIRED"
    # The session of the account cannot use an upload made with the token, nor read it
    clock.advance(seconds=61)
    session = (await sms_sign_in(client, OLD_PHONE))["token"]
    upload_id = (await _materials(client, token))[0]["uploadId"]
    assert (
        await client.get(f"/uploads/{upload_id}", headers={"authorization": f"Bearer {session}"})
    ).status_code == 404
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": upload_id}, session)
    assert node["node"] is None


async def test_apl_2_an_unknown_login_name_is_answered_like_a_known_one_until_the_code_is_checked(
    client: httpx.AsyncClient, db: Any
) -> None:
    await _portal_without_password(client)
    assert (await _code_send(client))["errors"] == []
    code = await last_code(client, NEW_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    # Before the code is right, the answers for a known and an unknown login name are the same
    answers = [await _start(client, name, c) for name in (OLD_PHONE, "nobody-here") for c in (wrong, "12ab")]
    assert [(e["code"], e["path"]) for a in answers[:2] for e in a["errors"]] == [
        (e["code"], e["path"]) for a in answers[2:] for e in a["errors"]
    ]
    assert [a["errors"][0]["code"] for a in answers] == ["CODE_INVALID", "CODE_FORMAT_INVALID"] * 2
    assert [a["errors"][0]["attemptsRemaining"] for a in answers] == [4, None, 3, None]  # wrong codes counted
    # With the right code, the unknown name is told, at the cost of a try; the code stays for the known name
    unknown = await _start(client, "nobody-here", code)
    assert [(e["code"], e["path"], e["attemptsRemaining"]) for e in unknown["errors"]] == [
        ("ACCOUNT_NOT_FOUND", ["input", "loginName"], 2)
    ]
    assert (await _start(client, OLD_PHONE, code))["errors"] == []
    # A used code answers nothing more
    used = await _start(client, OLD_PHONE, code)
    assert used["errors"][0]["code"] in {"CODE_INVALID", "CODE_ATTEMPTS_EXHAUSTED"}
    assert (await _counts(db))[1] == 1


async def test_apl_2_the_code_send_needs_the_bot_check_and_reads_no_account(client: httpx.AsyncClient, db: Any) -> None:
    failed = await _code_send(client, bot="robot")
    assert [(e["code"], e["path"]) for e in failed["errors"]] == [("BOT_CHECK_FAILED", ["input", "botToken"])]
    bad = await _code_send(client, phone="12", bot="")
    assert sorted(e["code"] for e in bad["errors"]) == ["BOT_CHECK_FAILED", "INVALID_PHONE"]
    assert await outbox(client, NEW_PHONE) == []
    assert (await _code_send(client))["errors"] == []
    again = await _code_send(client)
    assert again["errors"][0]["code"] == "RESEND_TOO_SOON"  # the usual limits (CODE-3)


@pytest.mark.slow
async def test_apl_2_sixty_simultaneous_starts_hold_the_code_limits(
    client: httpx.AsyncClient, db: Any, clock: Any
) -> None:
    await _portal_without_password(client)
    assert (await _code_send(client))["errors"] == []
    code = await last_code(client, NEW_PHONE)
    # 60 unknown login names at once with the right code: five are told, the rest find the code void
    results = await asyncio.gather(*[_start(client, f"nobody{i:02d}", code) for i in range(60)])
    answers = [r["errors"][0]["code"] for r in results]
    assert answers.count("ACCOUNT_NOT_FOUND") == 5
    assert answers.count("CODE_ATTEMPTS_EXHAUSTED") == 55
    # A new code, 60 wrong guesses at once: five are counted
    clock.advance(seconds=61)
    assert (await _code_send(client))["errors"] == []
    code = await last_code(client, NEW_PHONE)
    guesses = [f"{(int(code) + 1 + i) % 1_000_000:06d}" for i in range(60)]
    results = await asyncio.gather(*[_start(client, OLD_PHONE, g) for g in guesses])
    answers = [r["errors"][0]["code"] for r in results]
    assert answers.count("CODE_INVALID") == 5
    assert answers.count("CODE_ATTEMPTS_EXHAUSTED") == 55
    # A third code, 60 right starts at once: one draft
    clock.advance(seconds=61)
    assert (await _code_send(client))["errors"] == []
    code = await last_code(client, NEW_PHONE)
    results = await asyncio.gather(*[_start(client, OLD_PHONE, code) for _ in range(60)])
    assert sum(1 for r in results if not r["errors"]) == 1
    assert await _counts(db) == (0, 1, 0)


@pytest.mark.slow
async def test_apl_2_sixty_simultaneous_submits_file_one_appeal(client: httpx.AsyncClient, db: Any) -> None:
    await _portal_without_password(client)
    token = await _draft(client)
    materials = await _materials(client, token)
    results = await asyncio.gather(*[_submit(client, token, materials) for _ in range(60)])
    assert sum(1 for r in results if not r["errors"]) == 1
    assert {r["errors"][0]["code"] for r in results if r["errors"]} <= {"APPEAL_TOKEN_INVALID", "APPEAL_ALREADY_OPEN"}
    assert (await _counts(db))[0] == 1


async def test_apl_2_uploads_are_scoped_to_their_token_and_capped(client: httpx.AsyncClient, db: Any) -> None:
    # Given two signed-out drafts of two accounts, and the second account's own session upload
    await _portal_without_password(client)
    mine = await _draft(client)
    bob = await registered_and_signed_in(client, "bob0001", "13600000016")
    bobs_draft = await _draft(client, "bob0001", OTHER_NEW_PHONE)
    bobs_session_upload = (await _materials(client, bob, ("ID_CARD_IN_HAND",)))[0]["uploadId"]
    theirs = await _materials(client, bobs_draft)
    # A token cannot attach another token's upload, nor the account's session uploads
    refused = await _submit(client, mine, theirs)
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("DOCUMENT_NOT_FOUND", ["input", "materials", "0", "uploadId"])
    ]
    own_session = [{**theirs[0], "uploadId": bobs_session_upload}, *theirs[1:]]
    refused = await _submit(client, bobs_draft, own_session)
    assert refused["errors"][0]["code"] == "DOCUMENT_NOT_FOUND"
    # A session cannot attach a token's upload either
    bobs_filed = await mutate(
        client,
        "phoneRebindAppealFile",
        {"newPhone": "13900000039", "newPhoneCode": "123456", "materials": theirs},
        APPEAL,
        bob,
    )
    assert bobs_filed["errors"][0]["code"] == "DOCUMENT_NOT_FOUND"
    assert (await _counts(db))[0] == 0
    # A token uploads at most 12 documents (3 above plus 9 more)
    for _ in range(9):
        assert (await _upload(client, bobs_draft)).status_code == 201
    capped = await _upload(client, bobs_draft)
    assert capped.status_code == 429
    assert capped.json()["errors"][0]["code"] == "UPLOAD_QUOTA_REACHED"
    # An unknown token uploads nothing
    assert (await _upload(client, "apt_made-up")).status_code == 401


async def test_apl_2_the_token_follows_the_appeal_and_answers_a_request_for_material(
    client: httpx.AsyncClient, db: Any, clock: Any, run: Any, lead: Reviewer
) -> None:
    await _portal_without_password(client)
    token = await _draft(client)
    # An enterprise's set (held in hand) is accepted from the signed-out filer, whatever the account's subject
    filed = await _submit(client, token, await _materials(client, token, ENTERPRISE))
    assert filed["errors"] == []
    assert filed["appeal"]["requiredMaterials"] == list(ENTERPRISE)
    async with db.read_sessions() as s:
        [item] = list(await s.scalars(select(ReviewItem)))
    # A reviewer asks for more material: the token reads the request, the clock stopped
    await run(review.claim, lead, item.id)
    await run(review.request_more, lead, item.id, "A sharper photo of the licence, please.")
    waiting = await _by_token(client, token)
    assert waiting is not None
    assert (waiting["status"], waiting["moreMaterialMessage"], waiting["dueAt"]) == (
        "WAITING_USER",
        "A sharper photo of the licence, please.",
        None,
    )
    # Nothing changes on a bad answer: a bogus token, a role twice
    sharper = await _materials(client, token, ("BUSINESS_LICENCE",))
    bogus = await mutate(client, "appealAnswerByToken", {"appealToken": "apt_x", "materials": sharper}, APPEAL)
    assert bogus["errors"][0]["code"] == "APPEAL_TOKEN_INVALID"
    twice = await mutate(client, "appealAnswerByToken", {"appealToken": token, "materials": sharper * 2}, APPEAL)
    assert twice["errors"][0]["code"] == "MATERIAL_DUPLICATE"
    assert (await _by_token(client, token) or {})["status"] == "WAITING_USER"
    # The answer puts it back in the queue with a due time
    answered = await mutate(client, "appealAnswerByToken", {"appealToken": token, "materials": sharper}, APPEAL)
    assert answered["errors"] == []
    assert answered["appeal"]["status"] == "SUBMITTED"
    assert answered["appeal"]["dueAt"] is not None
    # A rejection is read with its reason, for 30 days after the decision
    await run(review.claim, lead, item.id)
    await run(review.reject, lead, item.id, RejectReason.MATERIAL_UNCLEAR, "Still blurred.")
    rejected = await _by_token(client, token)
    assert rejected is not None
    assert (rejected["status"], rejected["rejectReason"], rejected["rejectText"]) == (
        "REJECTED",
        "MATERIAL_UNCLEAR",
        "Still blurred.",
    )
    clock.advance(days=30, seconds=1)
    assert await _by_token(client, token) is None


async def test_apl_2_bad_filings_change_nothing(client: httpx.AsyncClient, db: Any, clock: Any) -> None:
    await _portal_without_password(client)
    token = await _draft(client)
    materials = await _materials(client, token)
    missing = await _submit(client, token, materials[:2])
    assert [(e["code"], e["path"]) for e in missing["errors"]] == [("MATERIAL_MISSING", ["input", "materials"])]
    mixed = await _submit(
        client, token, [*materials, {"role": "BUSINESS_LICENCE", "uploadId": materials[0]["uploadId"]}]
    )
    assert mixed["errors"][0]["code"] == "MATERIAL_MISSING"  # an enterprise's role: the enterprise set is incomplete
    unknown = await _submit(client, "apt_unknown", materials)
    assert [(e["code"], e["path"]) for e in unknown["errors"]] == [("APPEAL_TOKEN_INVALID", ["input", "appealToken"])]
    assert await _counts(db) == (0, 1, 0)
    # The draft lives 24 hours
    clock.advance(hours=24)
    expired = await _submit(client, token, materials)
    assert expired["errors"][0]["code"] == "APPEAL_TOKEN_INVALID"
    assert (await _upload(client, token)).status_code == 401
    assert await _counts(db) == (0, 1, 0)


async def test_apl_2_refusals_after_the_code_cost_a_try(client: httpx.AsyncClient, db: Any) -> None:
    await _portal_without_password(client)
    assert (await _code_send(client, OLD_PHONE))["errors"] == []
    unchanged = await _start(client, OLD_PHONE, await last_code(client, OLD_PHONE), OLD_PHONE)
    assert [(e["code"], e["attemptsRemaining"]) for e in unchanged["errors"]] == [("PHONE_UNCHANGED", 4)]
    # One appeal at a time: a second draft is refused once the first is filed
    token = await _draft(client)
    assert (await _submit(client, token, await _materials(client, token)))["errors"] == []
    assert (await _code_send(client, OTHER_NEW_PHONE))["errors"] == []
    again = await _start(client, OLD_PHONE, await last_code(client, OTHER_NEW_PHONE), OTHER_NEW_PHONE)
    assert [(e["code"], e["attemptsRemaining"]) for e in again["errors"]] == [("APPEAL_ALREADY_OPEN", 4)]
    async with db.read_sessions() as s:
        row = await s.scalar(select(OneTimeCode).where(OneTimeCode.destination == "+86" + OTHER_NEW_PHONE))
    assert row is not None
    assert row.consumed_at is None


async def test_apl_2_login_protection_asking_for_the_lost_phone_files_with_the_login_challenge(
    client: httpx.AsyncClient, db: Any
) -> None:
    # Given an account whose login protection asks for an SMS code to the lost phone
    await registered_and_signed_in(client, "alice01", OLD_PHONE)
    async with db.write_sessions() as s:
        await s.execute(update(Account).values(login_protection_sms=True))
        await s.commit()
    signed = await mutate(
        client, "sessionCreateByPassword", {"loginName": "alice01", "password": "Blue-Kettle-42!"}, sign_in_result()
    )
    challenge = signed["result"]["token"]
    assert challenge.startswith("lch_")
    # When they prove the new phone, upload with the challenge and file with it
    assert (await _code_send(client))["errors"] == []
    materials = await _materials(client, challenge)
    filed = await mutate(
        client,
        "phoneRebindAppealFile",
        {"newPhone": NEW_PHONE, "newPhoneCode": await last_code(client, NEW_PHONE), "materials": materials},
        f"{APPEAL} appealToken {{ token expiresAt }}",
        challenge,
    )
    # Then it is filed with its due time, and a token follows it
    assert filed["errors"] == []
    assert filed["appeal"]["dueAt"] is not None
    followed = await _by_token(client, filed["appealToken"]["token"])
    assert followed is not None
    assert followed["status"] == "SUBMITTED"
    async with db.read_sessions() as s:
        told = [m.purpose for m in await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert told[-1] != "PHONE_REBIND_APPEAL_FILED"  # the holder of the password filed it


async def test_apl_2_the_reviewer_sees_a_signed_out_filing_and_the_accounts_subject(
    client: httpx.AsyncClient, db: Any, run: Any
) -> None:
    await _portal_without_password(client)
    token = await _draft(client)
    assert (await _submit(client, token, await _materials(client, token, ENTERPRISE)))["errors"] == []
    async with db.read_sessions() as s:
        [item] = list(await s.scalars(select(ReviewItem)))
    facts = dict(await run(appeals.PhoneRebindHandler().facts, item))
    assert facts["Filed"] == "signed out (login name + new phone's code)"
    assert (facts["Materials for"], facts["Account verified as"]) == ("enterprise", "— (not verified)")


async def test_apl_2_the_sweeper_drops_drafts_never_filed_with_their_uploads(
    client: httpx.AsyncClient, db: Any, clock: Any, run: Any, settings: Any
) -> None:
    await _portal_without_password(client)
    draft = await _draft(client)
    await _materials(client, draft, ("ID_CARD_IN_HAND",))
    clock.advance(seconds=61)
    filed = await _draft(client, OLD_PHONE, OTHER_NEW_PHONE)
    assert (await _submit(client, filed, await _materials(client, filed)))["errors"] == []
    async with db.read_sessions() as s:
        [draft_document] = list(
            await s.scalars(select(Document.id).join(AppealToken).where(AppealToken.appeal_id.is_(None)))
        )
        assert await s.get(DocumentBlob, draft_document) is not None
    # A day after the draft expired, the sweeper removes it and its upload; the filed appeal's stay
    clock.advance(hours=48)
    counts = await run(sweeper.sweep)
    assert (counts["appeal_drafts_deleted"], counts["appeal_draft_documents_deleted"]) == (1, 1)
    async with db.read_sessions() as s:
        assert await s.get(DocumentBlob, draft_document) is None
        assert await s.scalar(select(func.count()).select_from(DocumentBlob)) == 3
        assert await s.scalar(select(func.count()).select_from(AppealToken)) == 1
        assert await s.scalar(select(func.count()).select_from(Document)) == 3


@pytest.mark.slow
async def test_apl_2_sixty_simultaneous_uploads_with_one_token_store_twelve(client: httpx.AsyncClient, db: Any) -> None:
    await _portal_without_password(client)
    token = await _draft(client)
    responses = await asyncio.gather(*[_upload(client, token) for _ in range(60)])
    assert sorted(r.status_code for r in responses) == [201] * 12 + [429] * 48
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Document)) == 12
        assert await s.scalar(select(AppealToken.uploads)) == 12
