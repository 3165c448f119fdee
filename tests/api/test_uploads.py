"""ORG-2 (JPG/JPEG/PNG up to 4 MB, real images only, EXIF stripped, nothing kept when refused) and
ORG-3 (documents are private to their owner) through `POST /uploads` and `GET /uploads/{id}`."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from models.documents import Document
from tests.helpers import registered_and_signed_in


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


def _stored_files(settings) -> list[Path]:
    root = Path(settings.upload_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def _count_documents(db) -> int:
    async with db.read_sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Document)) or 0)


async def _upload(client, token: str | None, name: str, data: bytes):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post("/uploads", files={"file": (name, data, "application/octet-stream")}, headers=headers)


async def test_org_2_jpeg_is_stored_privately_without_exif(client, settings, db) -> None:
    # Given a signed-in user and a JPEG photo carrying EXIF metadata
    token = await registered_and_signed_in(client)
    original = _jpeg_with_exif()
    assert b"SecretCam" in original
    # When it is uploaded
    response = await _upload(client, token, "licence.JPG", original)
    # Then it is accepted with an upload ID, stored under a random name, readable only by its owner
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("doc_")
    assert (body["contentType"], body["width"], body["height"]) == ("image/jpeg", 64, 48)
    [path] = _stored_files(settings)
    assert "licence" not in path.name
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    stored = path.read_bytes()
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
        ("photo.jpg", _png(), 422, "TYPE_MISMATCH"),
        ("anim.gif", b"GIF89a....", 422, "UNSUPPORTED_TYPE"),
        ("letter.pdf", b"%PDF-1.7", 422, "UNSUPPORTED_TYPE"),
        ("empty.png", b"", 400, "FILE_REQUIRED"),
        ("big.png", _png()[:8] + b"\0" * (4 * 1024 * 1024), 413, "FILE_TOO_LARGE"),
        ("bomb.png", _png((10_000, 10_000)), 422, "IMAGE_TOO_LARGE"),
    ],
)
async def test_org_2_refused_files_leave_nothing_behind(client, settings, db, name, data, status, code) -> None:
    token = await registered_and_signed_in(client)
    response = await _upload(client, token, name, data)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code
    assert response.json()["errors"][0]["field"] == "file"
    assert _stored_files(settings) == []
    assert await _count_documents(db) == 0


async def test_org_2_a_body_far_over_the_cap_is_cut_off_while_streaming(client, settings, db) -> None:
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
    assert _stored_files(settings) == []


async def test_org_3_documents_are_private_to_their_owner(client, settings) -> None:
    # Given alice's document
    alice = await registered_and_signed_in(client, "alice01", "13700000001")
    doc_id = (await _upload(client, alice, "id.png", _png())).json()["id"]
    # Then bob gets 404 as for an unknown ID, and without a session the answer is 401
    bob = await registered_and_signed_in(client, "bob0001", "13900000009")
    assert (await client.get(f"/uploads/{doc_id}", headers={"authorization": f"Bearer {bob}"})).status_code == 404
    assert (await client.get("/uploads/doc_unknown", headers={"authorization": f"Bearer {bob}"})).status_code == 404
    assert (await client.get(f"/uploads/{doc_id}")).status_code == 401
    assert (await _upload(client, None, "id.png", _png())).status_code == 401
    # And no route serves the stored file by its storage name
    [path] = _stored_files(settings)
    key = f"{path.parent.name}/{path.name}"
    for url in (f"/{key}", f"/uploads/{key}", f"/var/uploads/{key}"):
        assert (await client.get(url, headers={"authorization": f"Bearer {alice}"})).status_code == 404
