"""ORG-2 (JPG/JPEG/PNG up to 4 MB, real images only, EXIF stripped, nothing kept when refused; decoding
bounded from the header; a daily upload quota per account) and ORG-3 (documents are private to their
owner) through `POST /uploads` and `GET /uploads/{id}`. The memory of eight simultaneous worst cases
on a served app: tests/api/test_uploads_memory.py."""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app import create_app
from bench.uploads import jpeg, png_rgb, png_rgba16
from models.documents import Document, DocumentBlob, DocumentDailyCount
from schema.types.common import parse_global_id
from services.clock import ManualClock
from services.database import Database
from services.documents import repository as documents_repo
from settings import Settings
from tests.api.test_mfa import password_sign_in
from tests.api.test_mfa_unbind_appeal import _totp_only_login
from tests.helpers import gql, registered_and_signed_in, sign_in


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0132] = "2026:11:26 10:00:00"  # DateTime
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 120, 255)).save(out, format="PNG")
    return out.getvalue()


async def _stored_blobs(db) -> list[bytes]:
    """The documents' stored bytes (ORG-3: in the database, one blob row per document)."""
    async with db.read_sessions() as s:
        return list(await s.scalars(select(DocumentBlob.data).order_by(DocumentBlob.document_id)))


async def _count_documents(db) -> int:
    async with db.read_sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Document)) or 0)


async def _uploads_counted(db) -> dict[str, int]:
    """The daily quota's counters: {day: count} (one account in these tests)."""
    async with db.read_sessions() as s:
        rows = await s.execute(select(DocumentDailyCount.day, DocumentDailyCount.count))
        return dict(rows.all())


async def _upload(client, token: str | None, name: str, data: bytes):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post("/uploads", files={"file": (name, data, "application/octet-stream")}, headers=headers)


async def test_org_2_jpeg_is_stored_privately_without_exif(client, db) -> None:
    # Given a signed-in user and a JPEG photo carrying EXIF metadata
    token = await registered_and_signed_in(client)
    original = _jpeg_with_exif()
    assert b"SecretCam" in original
    # When it is uploaded
    response = await _upload(client, token, "licence.JPG", original)
    # Then it is accepted with an upload ID, stored under a random name, readable only by its owner
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["contentType"], body["width"], body["height"]) == ("image/jpeg", 64, 48)
    # The upload ID is the global ID of an UploadedDocument, which the owner reads back with `node`
    assert parse_global_id(body["id"])[0] == "UploadedDocument"
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { __typename id ... on UploadedDocument { filename contentType size width "
        "height } } }",
        {"id": body["id"]},
        token,
    )
    assert node["node"] == {
        "__typename": "UploadedDocument",
        "id": body["id"],
        "filename": "licence.JPG",
        "contentType": "image/jpeg",
        "size": body["size"],
        "width": 64,
        "height": 48,
    }
    [stored] = await _stored_blobs(db)
    assert b"SecretCam" not in stored
    assert Image.open(io.BytesIO(stored)).getexif() == {}
    fetched = await client.get(f"/uploads/{body['id']}", headers={"authorization": f"Bearer {token}"})
    assert fetched.status_code == 200
    assert fetched.content == stored
    assert fetched.headers["cache-control"] == "private, no-store"


async def test_org_2_png_is_accepted(client) -> None:
    token = await registered_and_signed_in(client)
    response = await _upload(client, token, "letter.png", _png())
    assert response.status_code == 201
    assert response.json()["contentType"] == "image/png"


async def test_org_2_control_characters_are_dropped_from_the_file_name(client, db) -> None:
    # Given a signed-in account
    token = await registered_and_signed_in(client)
    # When a PNG is uploaded under a name holding a raw NUL and ESC (a hand-made multipart body; PostgreSQL
    # refuses NUL outright)
    body = (
        b'--b0\r\nContent-Disposition: form-data; name="file"; filename="let\x00ter\x1b.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + _png() + b"\r\n--b0--\r\n"
    )
    response = await client.post(
        "/uploads",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "multipart/form-data; boundary=b0"},
    )
    # Then it is stored under the name without them
    assert response.status_code == 201
    assert response.json()["filename"] == "letter.png"
    async with db.read_sessions() as s:
        assert await s.scalar(select(Document.filename)) == "letter.png"


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("fake.png", b"this is not an image at all", 422, "NOT_AN_IMAGE"),
        ("photo.jpg", _png(), 422, "FILE_TYPE_MISMATCH"),
        ("anim.gif", b"GIF89a....", 422, "UNSUPPORTED_TYPE"),
        ("letter.pdf", b"%PDF-1.7", 422, "UNSUPPORTED_TYPE"),
        ("empty.png", b"", 400, "FILE_REQUIRED"),
        ("big.png", _png()[:8] + b"\0" * (4 * 1024 * 1024), 413, "FILE_TOO_LARGE"),
        ("bomb.png", _png((10_000, 10_000)), 422, "IMAGE_TOO_LARGE"),
    ],
)
async def test_org_2_refused_files_leave_nothing_behind(client, db, name, data, status, code) -> None:
    token = await registered_and_signed_in(client)
    response = await _upload(client, token, name, data)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code
    assert response.json()["errors"][0]["path"] == ["file"]
    assert (await _stored_blobs(db)) == []
    assert await _count_documents(db) == 0
    assert sum((await _uploads_counted(db)).values()) == 0


class _CommitFailed(RuntimeError):
    pass


async def test_org_3_a_failed_commit_keeps_neither_the_row_nor_its_blob_and_gives_the_slot_back(
    client, db, monkeypatch
) -> None:
    # Given a signed-in user, and a database whose commit fails right after the document and its blob
    # were written in the transaction (flushed: the blob row exists inside it)
    token = await registered_and_signed_in(client)
    armed: list[int] = []
    original = documents_repo.add_document

    async def add_then_arm(uow, document, data) -> None:
        await original(uow, document, data)
        assert await uow.session.get(DocumentBlob, document.id) is not None
        armed.append(document.id)

    def fail_commit(session) -> None:
        if armed:
            armed.clear()
            raise _CommitFailed("the commit failed")

    monkeypatch.setattr(documents_repo, "add_document", add_then_arm)
    event.listen(Session, "before_commit", fail_commit)
    try:
        # When an upload is stored, and the commit fails (the request ends as an internal error)
        failed = await _upload(client, token, "id.png", _png())
    finally:
        event.remove(Session, "before_commit", fail_commit)
    assert failed.status_code == 500
    assert armed == []  # the commit was attempted, and failed
    # Then neither the document nor its bytes were kept, and the quota slot was given back
    assert await _count_documents(db) == 0
    assert await _stored_blobs(db) == []
    assert sum((await _uploads_counted(db)).values()) == 0
    # And the next upload is stored whole, and read back as stored
    response = await _upload(client, token, "id.png", _png())
    assert response.status_code == 201, response.text
    fetched = await client.get(f"/uploads/{response.json()['id']}", headers={"authorization": f"Bearer {token}"})
    assert fetched.content == (await _stored_blobs(db))[0]


async def test_org_2_a_body_far_over_the_cap_is_cut_off_while_streaming(client, db) -> None:
    token = await registered_and_signed_in(client)

    async def chunks():
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        for _ in range(80):
            yield b"\0" * (64 * 1024)

    response = await client.post(
        "/uploads",
        content=chunks(),
        headers={"authorization": f"Bearer {token}", "content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert (await _stored_blobs(db)) == []


async def test_org_3_documents_are_private_to_their_owner(client, settings, db) -> None:
    # Given alice's document
    alice = await registered_and_signed_in(client, "alice01", "13700000001")
    doc_id = (await _upload(client, alice, "id.png", _png())).json()["id"]
    # Then bob gets 404 as for an unknown ID, and without a session the answer is 401
    bob = await registered_and_signed_in(client, "bob0001", "13900000009")
    assert (await client.get(f"/uploads/{doc_id}", headers={"authorization": f"Bearer {bob}"})).status_code == 404
    assert (await client.get("/uploads/doc_unknown", headers={"authorization": f"Bearer {bob}"})).status_code == 404
    assert (await client.get(f"/uploads/{doc_id}")).status_code == 401
    # Nor does alice read it by anything but its global ID: its stored name, another type's ID, a mangled ID
    async with db.read_sessions() as s:
        public_id = await s.scalar(select(Document.public_id))
    for other in (public_id, base64.b64encode(b"Appeal:1").decode(), doc_id[:-4], doc_id + "A", doc_id.lower()):
        answer = await client.get(f"/uploads/{other}", headers={"authorization": f"Bearer {alice}"})
        assert answer.status_code == 404, other
        assert [(e["code"], e["path"]) for e in answer.json()["errors"]] == [("DOCUMENT_NOT_FOUND", ["id"])]
    assert (await client.get(f"/uploads/{doc_id}", headers={"authorization": f"Bearer {alice}"})).status_code == 200
    # And `node` answers bob null for it, as for an unknown ID
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gql(client, query, {"id": doc_id}, bob))["node"] is None
    assert (await _upload(client, None, "id.png", _png())).status_code == 401
    # And no route serves it by its row ID
    async with db.read_sessions() as s:
        row_id = await s.scalar(select(Document.id))
    for url in (f"/{row_id}", f"/uploads/{row_id}", f"/var/uploads/{row_id}"):
        assert (await client.get(url, headers={"authorization": f"Bearer {alice}"})).status_code == 404


# --- Decoding within a memory budget (ORG-2) -------------------------------------------------------


async def _stored_image(db) -> Image.Image:
    [stored] = await _stored_blobs(db)
    return Image.open(io.BytesIO(stored))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("scan.png", png_rgb(6300, 6300)),  # 131 KB, 40 M pixels: the file
        ("scan.png", png_rgba16(5001, 5000)),  # 16-bit RGBA, just over 25 MP
        ("photo.jpg", jpeg(5774, 4330)),  # just over 25 MP
        ("photo.jpg", jpeg(4096, 4096, progressive=True, subsampling=0)),  # 176 MiB to decode (4:4:4 progressive)
        ("photo.jpg", jpeg(4096, 4096, "CMYK", progressive=True)),  # 64 + 64 + 128 MiB: pixels, RGB copy, coefficients
    ],
    ids=["png-40mp", "png16-rgba-over-cap", "jpeg-over-cap", "jpeg-progressive-444", "jpeg-cmyk-progressive"],
)
async def test_org_2_an_image_too_large_to_decode_is_refused_from_its_header(client, db, name, data) -> None:
    # Given a signed-in user and a small file whose header promises more than the decode budget
    token = await registered_and_signed_in(client)
    assert len(data) < 1_000_000
    # When it is uploaded
    response = await _upload(client, token, name, data)
    # Then it is refused as too large, and nothing is stored or counted
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "IMAGE_TOO_LARGE"
    assert (await _stored_blobs(db)) == []
    assert await _count_documents(db) == 0
    assert sum((await _uploads_counted(db)).values()) == 0


async def test_org_2_a_16_bit_rgba_png_at_the_pixel_cap_is_stored_at_8_bits(client, db) -> None:
    token = await registered_and_signed_in(client)
    response = await _upload(client, token, "scan.png", png_rgba16(5000, 5000))
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (5000, 5000)
    assert (await _stored_image(db)).mode == "RGBA"


async def test_org_2_a_large_jpeg_is_decoded_at_a_reduced_scale(client, db) -> None:
    # Given a 24 MP phone photo (5712 x 4284), taller than 4096 px on its long side
    token = await registered_and_signed_in(client)
    # When it is uploaded
    response = await _upload(client, token, "photo.jpg", jpeg(5712, 4284))
    # Then libjpeg decodes it at half scale and that is what is stored
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (2856, 2142)
    assert (await _stored_image(db)).size == (2856, 2142)


async def test_org_2_a_12_mp_phone_photo_is_stored_at_full_size(client, settings) -> None:
    token = await registered_and_signed_in(client)
    response = await _upload(client, token, "photo.jpg", jpeg(4032, 3024))
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (4032, 3024)


async def test_org_2_the_exif_orientation_is_applied_before_it_is_stripped(client, db) -> None:
    # Given a photo taken with the phone turned (EXIF orientation 6: rotate 90 degrees clockwise)
    token = await registered_and_signed_in(client)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="JPEG", exif=exif.tobytes())
    # When it is uploaded
    response = await _upload(client, token, "id-card.jpg", out.getvalue())
    # Then it is stored upright, without the tag
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (48, 64)
    stored = await _stored_image(db)
    assert stored.size == (48, 64)
    assert stored.getexif() == {}


async def test_org_2_a_phone_photo_carrying_a_second_picture_is_a_jpeg(client, db) -> None:
    # Given a JPEG with an MPF second picture (phones store a depth or gain map there)
    token = await registered_and_signed_in(client)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(
        out, format="MPO", save_all=True, append_images=[Image.new("L", (32, 24))]
    )
    # When it is uploaded
    response = await _upload(client, token, "photo.jpg", out.getvalue())
    # Then the photo is stored as a plain JPEG
    assert response.status_code == 201, response.text
    assert (response.json()["contentType"], response.json()["width"]) == ("image/jpeg", 64)
    assert (await _stored_image(db)).format == "JPEG"


def _with_scans_repeated(data: bytes, times: int) -> bytes:
    start, end = data.index(b"\xff\xda"), data.rindex(b"\xff\xd9")
    return data[:start] + data[start:end] * times + data[end:]


async def test_org_2_a_jpeg_of_too_many_scans_is_refused_before_decoding(client, db) -> None:
    # Given a progressive JPEG whose scans are repeated to 70 (each one a pass over the whole image)
    token = await registered_and_signed_in(client)
    data = _with_scans_repeated(jpeg(1024, 1024, progressive=True), 7)
    assert data.count(b"\xff\xda") >= 70
    # When it is uploaded
    response = await _upload(client, token, "photo.jpg", data)
    # Then it is refused from its structure, and nothing is stored
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "IMAGE_TOO_LARGE"
    assert "scans" in response.json()["errors"][0]["message"]
    assert (await _stored_blobs(db)) == []


def _jpeg_with_empty_comments(count: int) -> bytes:
    data = jpeg(32, 32)
    return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]


def _png_with_empty_chunks(count: int) -> bytes:
    data = png_rgb(32, 32)
    empty = struct.pack(">I", 0) + b"zzZz" + struct.pack(">I", zlib.crc32(b"zzZz"))
    return data[:33] + empty * count + data[33:]  # after the signature and IHDR


@pytest.mark.parametrize(
    ("name", "data"),
    [("photo.jpg", _jpeg_with_empty_comments(990_000)), ("scan.png", _png_with_empty_chunks(330_000))],
    ids=["jpeg-990k-segments", "png-330k-chunks"],
)
async def test_org_2_a_file_of_too_many_parts_is_refused_before_pillow_parses_it(client, db, name, data) -> None:
    # Given a 32 x 32 image padded to ~4 MB with empty segments or chunks (1.8 s of Pillow's parsing)
    token = await registered_and_signed_in(client)
    assert 3_900_000 < len(data) <= 4 * 1024 * 1024
    # When it is uploaded
    response = await _upload(client, token, name, data)
    # Then it is refused from a walk of its structure, and nothing is stored
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "IMAGE_TOO_LARGE"
    assert "too many parts" in response.json()["errors"][0]["message"]
    assert (await _stored_blobs(db)) == []


async def test_org_2_png_text_chunks_expanding_past_1_mb_are_refused(client, db) -> None:
    # Given a 32 x 32 PNG of 10 KB whose compressed text chunks expand to 1.5 MB
    token = await registered_and_signed_in(client)
    info = PngImagePlugin.PngInfo()
    for key in ("a", "b", "c"):
        info.add_text(key, "x" * 500_000, zip=True)
    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, format="PNG", pnginfo=info)
    assert len(out.getvalue()) < 10_000
    # When it is uploaded
    response = await _upload(client, token, "scan.png", out.getvalue())
    # Then it is refused, and nothing is stored
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "NOT_AN_IMAGE"
    assert (await _stored_blobs(db)) == []


# --- The daily upload quota (ORG-2) -----------------------------------------------------------------

QUOTA = 3


@pytest.fixture
async def small_quota(settings: Settings, clock: ManualClock, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a daily upload quota of 3 per account."""
    app = create_app(replace(settings, upload_daily_quota=QUOTA), clock=clock, db=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_org_2_an_upload_over_the_daily_quota_is_refused_until_the_next_shanghai_day(
    small_quota, db, clock
) -> None:
    # Given a user who uploaded 3 documents today (10:00 in Shanghai), the quota
    token = await registered_and_signed_in(small_quota)
    for _ in range(QUOTA):
        assert (await _upload(small_quota, token, "id.png", _png())).status_code == 201
    # When they upload a fourth
    response = await _upload(small_quota, token, "id.png", _png())
    # Then it is refused with 429 until midnight in Shanghai (14 hours), and nothing changes
    assert response.status_code == 429, response.text
    [error] = response.json()["errors"]
    assert (error["code"], error["retryAfter"]) == ("UPLOAD_QUOTA_REACHED", 14 * 3600 + 1)
    assert response.headers["retry-after"] == str(14 * 3600 + 1)
    assert len(await _stored_blobs(db)) == QUOTA
    assert await _count_documents(db) == QUOTA
    assert await _uploads_counted(db) == {"2026-11-26": QUOTA}
    # And the next Shanghai day it is accepted again (signed in afresh: the session has gone idle)
    clock.advance(hours=14)
    token = await sign_in(small_quota, "alice01")
    assert (await _upload(small_quota, token, "id.png", _png())).status_code == 201
    assert await _uploads_counted(db) == {"2026-11-26": QUOTA, "2026-11-27": 1}


async def test_org_2_a_refused_upload_does_not_count_against_the_quota(small_quota, db) -> None:
    # Given a user with the quota's 3 uploads still open today
    token = await registered_and_signed_in(small_quota)
    truncated = jpeg(640, 480)[:-200]  # passes the header checks, fails while decoding
    noisy = io.BytesIO()
    Image.effect_noise((4096, 4096), 100).convert("RGB").save(noisy, format="JPEG", quality=5)
    # When uploads are refused: before the slot is taken (header), and after (decode, re-encoded size)
    refused = [
        await _upload(small_quota, token, "id.jpg", _png()),
        await _upload(small_quota, token, "id.jpg", truncated),
        await _upload(small_quota, token, "id.jpg", noisy.getvalue()),  # over 4 MB once re-encoded at quality 92
    ]
    # Then none of them counts, and the quota's 3 uploads are all still possible
    assert [(r.status_code, r.json()["errors"][0]["code"]) for r in refused] == [
        (422, "FILE_TYPE_MISMATCH"),
        (422, "NOT_AN_IMAGE"),
        (413, "FILE_TOO_LARGE"),
    ]
    assert sum((await _uploads_counted(db)).values()) == 0
    assert (await _stored_blobs(db)) == []
    for _ in range(QUOTA):
        assert (await _upload(small_quota, token, "id.png", _png())).status_code == 201
    assert (await _upload(small_quota, token, "id.png", _png())).status_code == 429


@pytest.mark.slow
async def test_org_2_sixty_simultaneous_uploads_store_exactly_the_daily_quota(client, settings, db) -> None:
    # Given a signed-in user and the default quota of 50 uploads a day
    token = await registered_and_signed_in(client)
    assert settings.upload_daily_quota == 50
    # When 60 uploads arrive at once
    responses = await asyncio.gather(*(_upload(client, token, "id.png", _png()) for _ in range(60)))
    # Then exactly 50 are stored, on disk and in the database, and 10 are refused with 429
    assert sorted(r.status_code for r in responses) == [201] * 50 + [429] * 10
    assert {r.json()["errors"][0]["code"] for r in responses if r.status_code == 429} == {"UPLOAD_QUOTA_REACHED"}
    assert len(await _stored_blobs(db)) == 50
    assert await _count_documents(db) == 50
    assert await _uploads_counted(db) == {"2026-11-26": 50}


async def test_org_2_apl_1_uploads_with_the_login_challenge_count_against_the_accounts_quota(
    small_quota, db, clock
) -> None:
    # Given a user locked out by the lost device, who uploaded once with their session before
    token = await _totp_only_login(small_quota, clock)
    assert (await _upload(small_quota, token, "id.png", _png())).status_code == 201
    challenge = (await password_sign_in(small_quota))["challenge"]["token"]
    headers = {"authorization": f"Bearer {challenge}", "user-agent": "test-agent"}

    async def with_challenge() -> httpx.Response:
        return await small_quota.post("/uploads", files={"file": ("m.png", _png())}, headers=headers)

    # When they upload with the login challenge until refused
    answers = [(await with_challenge()).status_code for _ in range(QUOTA)]
    # Then the challenge's uploads and the session's share the account's one quota
    assert answers == [201, 201, 429]
    assert (await _upload(small_quota, token, "id.png", _png())).status_code == 429
    assert await _uploads_counted(db) == {"2026-11-26": QUOTA}
    assert len(await _stored_blobs(db)) == QUOTA
