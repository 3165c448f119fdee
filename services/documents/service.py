"""Uploaded documents.

ORG-2 JPG, JPEG or PNG, at most 4 MB; the content must decode as an image of the type its name
      says (Pillow, with a decompression-bomb limit). EXIF and other metadata are stripped by
      re-encoding (after applying the EXIF orientation). A refused file leaves nothing behind.
ORG-3 Files live outside the web root under random names; only the owner (and, in the back office,
      reviewers) can read them. Another account's document behaves as one that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from models.documents import Document
from services.documents.errors import DocumentErrorCode
from services.errors import ServiceError
from services.text import has_control_characters, without_control_characters
from services.uow import Uow

MAX_BYTES = 4 * 1024 * 1024  # ORG-2
MAX_PIXELS = 40_000_000  # a phone photo is ~12-50 MP; larger is refused as a possible decompression bomb
EXTENSIONS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True, slots=True)
class PreparedImage:
    filename: str
    content_type: str
    data: bytes
    width: int
    height: int
    storage_key: str  # chosen before anything is written, so a failed transaction can discard the file


def _refuse(code: DocumentErrorCode, message: str) -> ServiceError:
    return ServiceError(code, message, "file")


def prepare(filename: str, data: bytes) -> PreparedImage:
    """Check and clean an upload (CPU-bound: call it in a worker thread). Nothing is written."""
    # The name is only shown back: its control characters are dropped (PostgreSQL refuses NUL outright).
    name = Path(without_control_characters(filename or "").replace("\\", "/")).name.strip()[:128]
    if not data:
        raise _refuse(DocumentErrorCode.FILE_REQUIRED, "Choose a file to upload.")
    if len(data) > MAX_BYTES:
        raise _refuse(DocumentErrorCode.FILE_TOO_LARGE, "A document is at most 4 MB.")
    expected = EXTENSIONS.get(Path(name).suffix.lower())
    if expected is None:
        raise _refuse(DocumentErrorCode.UNSUPPORTED_TYPE, "Upload a JPG, JPEG or PNG image.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                found = probe.format
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refuse(DocumentErrorCode.IMAGE_TOO_LARGE, "The image has too many pixels.")
                probe.verify()
            if found != expected:
                raise _refuse(
                    DocumentErrorCode.TYPE_MISMATCH,
                    f"The file is named {Path(name).suffix.lower()} but is not a {expected} image.",
                )
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                clean = ImageOps.exif_transpose(image) or image
                out = io.BytesIO()
                if expected == "JPEG":
                    clean.convert("RGB").save(out, format="JPEG", quality=92, optimize=True)
                else:
                    clean.save(out, format="PNG", optimize=True)
                width, height = clean.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(DocumentErrorCode.IMAGE_TOO_LARGE, "The image has too many pixels.") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _refuse(DocumentErrorCode.NOT_AN_IMAGE, "The file is not a readable image.") from None
    cleaned = out.getvalue()
    if len(cleaned) > MAX_BYTES:
        raise _refuse(DocumentErrorCode.FILE_TOO_LARGE, "A document is at most 4 MB.")
    key = secrets.token_hex(16)
    storage_key = f"{key[:2]}/{key}{'.jpg' if expected == 'JPEG' else '.png'}"
    return PreparedImage(name, CONTENT_TYPES[expected], cleaned, width, height, storage_key)


async def prepare_async(filename: str, data: bytes) -> PreparedImage:
    return await asyncio.to_thread(prepare, filename, data)


def _root(uow: Uow) -> Path:
    return Path(uow.settings.upload_dir).resolve()


async def store(uow: Uow, account_id: int, image: PreparedImage) -> Document:
    """Write the file under its random name and record it. If the transaction does not commit, the
    caller removes the file with `discard(upload_dir, image.storage_key)` (no orphan is kept)."""
    await asyncio.to_thread(_write_private, _root(uow) / image.storage_key, image.data)
    document = Document(
        public_id="doc_" + secrets.token_urlsafe(18),
        account_id=account_id,
        filename=image.filename,
        content_type=image.content_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.data).hexdigest(),
        storage_key=image.storage_key,
        created_at=uow.now(),
    )
    uow.session.add(document)
    await uow.session.flush()
    return document


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "xb") as fh:
        fh.write(data)
    tmp.chmod(0o600)
    tmp.replace(path)


def discard(upload_dir: str, storage_key: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(upload_dir).resolve() / storage_key).unlink()


async def owned(uow: Uow, account_id: int, public_id: str) -> Document:
    """ORG-3: the owner's document; anyone else's behaves as one that does not exist."""
    if has_control_characters(public_id):  # never an upload ID (and PostgreSQL refuses NUL outright)
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    document = await uow.session.scalar(
        select(Document).where(Document.public_id == public_id, Document.account_id == account_id)
    )
    if document is None:
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    return document


def read_bytes(upload_dir: str, document: Document) -> bytes:
    return (Path(upload_dir).resolve() / document.storage_key).read_bytes()


async def for_staff(uow: Uow, public_id: str) -> Document:
    """ORG-3: reviewers read any document from the back office."""
    if has_control_characters(public_id):
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    document = await uow.session.scalar(select(Document).where(Document.public_id == public_id))
    if document is None:
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    return document
