"""Uploaded documents.

ORG-2 JPG, JPEG or PNG, at most 4 MB; the content must decode as an image of the type its name
      says. EXIF and other metadata are stripped by re-encoding (after applying the EXIF
      orientation). A refused file leaves nothing behind.
      Decoding is bounded from the header alone, before a pixel is decoded (`inspect`): at most
      MAX_JPEG_SEGMENTS segments or MAX_PNG_CHUNKS chunks, MAX_JPEG_SCANS scans, MAX_PIXELS pixels;
      a JPEG wider or taller than MAX_DECODED_SIDE is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's
      DCT scaling, Pillow's draft mode); at most MAX_DECODE_BYTES of estimated decoding memory.
      Beyond any of these: IMAGE_TOO_LARGE.
      At most `upload_decode_concurrency` uploads decode at once per process (DecodeGate), so what
      uploads take is bounded by that number times MAX_DECODE_BYTES, however many arrive.
      Each account uploads at most `upload_daily_quota` documents per Asia/Shanghai day: the slot is
      taken atomically before the decode and given back when the upload is refused after all.
ORG-3 Documents live in the database (a `document_blobs` row written in the document's transaction), never
      in a served directory; only the owner (and, in the back office, reviewers) can read them. Another
      account's document behaves as one that does not exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import secrets
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import ExifTags, Image, ImageFile, PngImagePlugin, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from models.documents import Document
from services.clock import shanghai_day, shanghai_day_start
from services.database import Transactions
from services.documents import repository as repo
from services.documents.errors import DocumentErrorCode
from services.errors import ServiceError
from services.text import has_control_characters, without_control_characters
from services.uow import Uow

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

MAX_BYTES = 4 * 1024 * 1024  # ORG-2
# ORG-2: what a photo or scan of an ID card or a licence needs, with room to spare. Phones take
# 12 MP (4032 x 3024) by default, recent iPhones 24 MP (5712 x 4284); an A4 page scanned at 300 dpi
# is 8.7 MP, an A3 business licence 17.4 MP. Larger is refused before decoding.
MAX_PIXELS = 25_000_000
# A JPEG larger than this on its long side is decoded at the smallest of 1/2, 1/4, 1/8 scale that
# fits (a 24 MP photo becomes 2856 x 2142): an ID card or a licence stays legible, at a quarter of
# the memory and time. PNG has no such mode: it is decoded whole (the estimate below bounds it).
MAX_DECODED_SIDE = 4096
# A progressive JPEG is decoded scan by scan over the whole image; libjpeg's default script has 10
# scans, an optimising encoder ~20. More is refused (each costs a pass over the image).
MAX_JPEG_SCANS = 64
# Pillow parses a file's segments (JPEG) or chunks (PNG) one by one in Python: 4 MB of empty ones
# took 1.8 s of CPU. A phone photo has ~15 segments (a 1 MB ICC profile adds 16); libpng writes a
# 4 MB PNG in ~500 chunks. These caps are checked first, by a walk that costs milliseconds.
MAX_JPEG_SEGMENTS = 1_000
MAX_PNG_CHUNKS = 10_000
# Every buffer a decode and re-encode holds at once, estimated from the header: the decoded pixels
# (twice when the image is turned or converted), plus libjpeg's whole-image coefficient buffer for a
# progressive JPEG. Fits a 25 MP RGBA PNG (95 MiB) and a 4096 x 4096 progressive 4:2:0 JPEG (112 MiB).
MAX_DECODE_BYTES = 128 * 1024 * 1024
EXTENSIONS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
# Pillow keeps "1", "L" and "P" at one byte a pixel, 16-bit greyscale at two, and every other mode
# (RGB, RGBA, LA, CMYK, and 16-bit colour, which it reduces to 8 bits a channel) at four.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# A JPEG marker outside entropy-coded data: 0xFF then a code that is not 0x00 (a stuffed byte),
# 0xD0-0xD7 (restart markers, inside a scan) or 0xFF (fill).
_JPEG_MARKER = re.compile(rb"\xff[\xc0-\xcf\xd8-\xfe]")

# PNG text chunks (tEXt, zTXt, iTXt) are read while the header is parsed. Pillow allows 1 MB
# decompressed per chunk (iCCP too) and 64 MB in all; a document needs none of it (it is dropped).
PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024
# A truncated image is refused, never padded with grey (this is Pillow's default; stated, not assumed).
ImageFile.LOAD_TRUNCATED_IMAGES = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """An upload whose header passed every check; nothing of its pixels is decoded yet."""

    filename: str
    format: str  # "JPEG" | "PNG"
    data: bytes
    draft: tuple[int, int] | None  # the size asked of libjpeg's draft mode, when scaled down
    orientation: int  # EXIF orientation, 1 when upright
    decode_bytes: int  # estimated memory of decoding and re-encoding (at most MAX_DECODE_BYTES)


@dataclass(frozen=True, slots=True)
class PreparedImage:
    filename: str
    content_type: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """A slot of the account's daily upload quota (ORG-2), or of an appeal token's uploads (APL-2), taken
    before the decode."""

    account_id: int
    day: str
    appeal_token_id: int | None = None


# APL-2: what one appeal token may upload, whatever the day: a set of materials, a few retakes, and the
# material a reviewer asks for. Apart from the account's daily quota, which a stranger holding a token
# for it could otherwise spend.
TOKEN_UPLOADS = 12


def _refuse(code: DocumentErrorCode, message: str) -> ServiceError:
    return ServiceError(code, message, "file")


def _too_large(message: str = "The image has more than 25 megapixels.") -> ServiceError:
    return _refuse(DocumentErrorCode.IMAGE_TOO_LARGE, message)


def _too_complex() -> ServiceError:
    return _too_large("The file is made of too many parts; save it again as an ordinary JPEG or PNG.")


def _not_an_image() -> ServiceError:
    return _refuse(DocumentErrorCode.NOT_AN_IMAGE, "The file is not a readable image.")


def _open(data: bytes) -> ImageFile.ImageFile:
    # Only the two formats a document may have are parsed at all. A JPEG carrying further pictures
    # (MPF: phones store a depth map or a gain map there) opens as "MPO"; its first picture is the photo.
    return Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))


def _format(image: Image.Image) -> str | None:
    return "JPEG" if image.format == "MPO" else image.format


def inspect(filename: str, data: bytes) -> Candidate:
    """ORG-2 checks that need only the header (CPU-light; nothing is decoded, written or counted)."""
    # The name is only shown back: its control characters are dropped (PostgreSQL refuses NUL outright).
    name = Path(without_control_characters(filename or "").replace("\\", "/")).name.strip()[:128]
    if not data:
        raise _refuse(DocumentErrorCode.FILE_REQUIRED, "Choose a file to upload.")
    if len(data) > MAX_BYTES:
        raise _refuse(DocumentErrorCode.FILE_TOO_LARGE, "A document is at most 4 MB.")
    expected = EXTENSIONS.get(Path(name).suffix.lower())
    if expected is None:
        raise _refuse(DocumentErrorCode.UNSUPPORTED_TYPE, "Upload a JPG, JPEG or PNG image.")
    scans = _count_parts(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _open(data) as probe:
                found = _format(probe)
                if found != expected:
                    raise _refuse(
                        DocumentErrorCode.FILE_TYPE_MISMATCH,
                        f"The file is named {Path(name).suffix.lower()} but is not a {expected} image.",
                    )
                if probe.width * probe.height > MAX_PIXELS:
                    raise _too_large()
                orientation = _orientation(probe)
                # Before the draft: libjpeg buffers a progressive JPEG's coefficients at full size.
                coefficients = _coefficient_bytes(probe) if isinstance(probe, JpegImageFile) and scans > 1 else 0
                draft = _draft(probe) if isinstance(probe, JpegImageFile) else None
                decode_bytes = _decode_bytes(probe, orientation) + coefficients
                if decode_bytes > MAX_DECODE_BYTES:
                    raise _too_large("The image needs too much memory to decode; send a smaller one.")
                probe.verify()  # PNG: every chunk's CRC, without decompressing the pixels
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise _not_an_image() from None
    return Candidate(name, expected, data, draft, orientation, decode_bytes)


def _orientation(probe: ImageFile.ImageFile) -> int:
    """The EXIF orientation the header holds (a JPEG's APP1, a PNG's eXIf chunk before the pixels).
    `PngImageFile.getexif()` would decode the whole image to look for a later chunk. A JPEG's
    metadata (EXIF, ICC, XMP segments of at most 64 KB each) is bounded by the file's 4 MB; only the
    orientation is read from it, and none of it is written back."""
    blob = probe.info.get("exif")
    if not isinstance(blob, bytes):
        return 1
    exif = Image.Exif()
    exif.load(blob)  # IFD0 only; Pillow bounds the tag data it reads by the blob's length
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def _draft(probe: JpegImageFile) -> tuple[int, int] | None:
    """Ask libjpeg to decode at the smallest power-of-two scale that brings the long side to
    MAX_DECODED_SIDE; the probe then reports the size the decode will have."""
    width, height = probe.size
    scale = 1
    while scale < 8 and _ceil(max(width, height), scale) > MAX_DECODED_SIDE:
        scale *= 2
    if scale == 1:
        return None
    requested = (max(1, width // scale), max(1, height // scale))
    probe.draft(probe.mode, requested)
    if max(probe.size) > MAX_DECODED_SIDE:  # over 8 x MAX_DECODED_SIDE long, or a sliver
        raise _too_large("The image is too long and narrow to decode.")
    return requested


def _decode_bytes(probe: ImageFile.ImageFile, orientation: int) -> int:
    """The decoded pixels (as drafted), twice when they must be turned or converted to RGB."""
    width, height = probe.size
    converted = isinstance(probe, JpegImageFile) and probe.mode not in ("RGB", "L")
    copies = 2 if orientation != 1 or converted else 1
    return width * height * _BYTES_PER_PIXEL.get(probe.mode, 4) * copies


def _coefficient_bytes(probe: JpegImageFile) -> int:
    """What libjpeg buffers for a JPEG of more than one scan (progressive, or components in separate
    scans): every DCT coefficient of the whole image at full size, two bytes each, whatever the draft
    scale; each component padded to whole MCUs. A single-scan (baseline) JPEG streams: nothing."""
    width, height = probe.size
    factors = [(max(1, h), max(1, v)) for _, h, v, _ in probe.layer] or [(1, 1)]
    h_max, v_max = max(h for h, _ in factors), max(v for _, v in factors)
    total = 0
    for h, v in factors:
        blocks_wide = _ceil(_ceil(width * h, h_max), 8)
        blocks_high = _ceil(_ceil(height * v, v_max), 8)
        total += _ceil(blocks_wide, h) * h * _ceil(blocks_high, v) * v * 64 * 2
    return total


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _count_parts(data: bytes) -> int:
    """Walk a JPEG's segments or a PNG's chunks (lengths only, nothing decompressed) before Pillow
    parses them; refuse too many. The JPEG's scans, 0 for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        position, chunks = 8, 0
        while position + 8 <= len(data) and data[position + 4 : position + 8] != b"IEND":
            chunks += 1
            if chunks > MAX_PNG_CHUNKS:
                raise _too_complex()
            position += 12 + int.from_bytes(data[position : position + 4], "big")
        return 0
    if not data.startswith(b"\xff\xd8"):
        return 0
    # The main picture's segments: an EXIF thumbnail (a JPEG inside APP1) is skipped with its
    # segment; a scan's data is skipped by searching for the next marker; the walk ends at the first
    # end of image (further pictures of an MPF file are not decoded).
    segments, scans, position = 0, 0, 2
    while (marker := _JPEG_MARKER.search(data, position)) is not None:
        code = data[marker.start() + 1]
        if code == 0xD9:  # end of image
            break
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise _too_complex()
        if code == 0xD8:  # a start of image has no length
            position = marker.end()
            continue
        if code == 0xDA:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise _too_large("The image has too many scans; save it as an ordinary (baseline) JPEG.")
        position = marker.end() + int.from_bytes(data[marker.end() : marker.end() + 2], "big")
    return scans


class _CappedBuffer(io.BytesIO):
    """The re-encoded file, refused as soon as it grows past MAX_BYTES (never held whole when larger)."""

    def write(self, data: ReadableBuffer, /) -> int:
        if self.tell() + memoryview(data).nbytes > MAX_BYTES:
            raise _refuse(DocumentErrorCode.FILE_TOO_LARGE, "A document is at most 4 MB.")
        return super().write(data)


def decode(candidate: Candidate) -> PreparedImage:
    """Decode and re-encode a checked upload (CPU-bound: call it in a worker thread, through a
    DecodeGate). At most two decoded copies are alive at once; each step frees the one before."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _open(candidate.data) as source:
                if candidate.draft is not None and isinstance(source, JpegImageFile):
                    source.draft(source.mode, candidate.draft)
                source.load()
                image: Image.Image = source
                if candidate.format == "JPEG" and image.mode not in ("RGB", "L"):
                    image = source.convert("RGB")  # CMYK, YCCK
                    source.close()  # frees the decoded pixels
                method = _TRANSPOSE.get(candidate.orientation)
                if method is not None:
                    turned = image.transpose(method)
                    image.close()
                    image = turned
                out = _CappedBuffer()
                if candidate.format == "JPEG":
                    # No `optimize`: it makes libjpeg buffer the whole image's coefficients again.
                    image.save(out, format="JPEG", quality=92)
                else:
                    image.save(out, format="PNG", optimize=True)
                width, height = image.size
                image.close()
        except ServiceError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise _not_an_image() from None
    return PreparedImage(candidate.filename, CONTENT_TYPES[candidate.format], out.getvalue(), width, height)


def prepare(filename: str, data: bytes) -> PreparedImage:
    """Check, decode and clean an upload (CPU-bound: call it in a worker thread). Nothing is written."""
    return decode(inspect(filename, data))


async def prepare_async(filename: str, data: bytes) -> PreparedImage:
    return await asyncio.to_thread(prepare, filename, data)


class DecodeGate:
    """ORG-2: uploads decode on `limit` threads of their own, so at most `limit` decode at once in this
    process; the others queue holding no thread and no database connection. A request cancelled while
    queued never decodes; one cancelled while decoding keeps its thread until the decode ends (a thread
    cannot be stopped), so the limit holds either way. Always the same few threads: the memory the
    allocator keeps between decodes stays in their few arenas (eight worst cases at once, measured as
    in bench/uploads.py: 214-240 MiB; behind a semaphore on the shared default pool, 220-336 MiB)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._threads = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="upload-decode")

    async def decode(self, candidate: Candidate) -> PreparedImage:
        return await asyncio.get_running_loop().run_in_executor(self._threads, decode, candidate)


async def upload(
    tx: Transactions,
    gate: DecodeGate,
    account_id: int,
    filename: str,
    data: bytes,
    *,
    appeal_token_id: int | None = None,
) -> Document | ServiceError:
    """ORG-2 in steps, so no transaction is open while an image decodes: the header checks (nothing
    counted), a write taking a slot of the daily quota, the decode through the gate, a write storing
    the document. A refusal after the slot was taken gives the slot back: only stored documents count."""
    try:
        candidate = await asyncio.to_thread(inspect, filename, data)
    except ServiceError as err:
        return err
    reservation = await tx.write(reserve_upload, account_id, appeal_token_id)
    if isinstance(reservation, ServiceError):
        return reservation
    await tx.release()
    stored = False
    try:
        prepared = await gate.decode(candidate)
        result = await tx.write(store, account_id, prepared, appeal_token_id)
        stored = not isinstance(result, ServiceError)
        return result
    except ServiceError as err:
        return err
    finally:
        if not stored:  # nothing committed: neither the row nor its blob
            await tx.write(give_back_upload, reservation)


async def reserve_upload(uow: Uow, account_id: int, appeal_token_id: int | None = None) -> Reservation:
    """ORG-2: take one of the account's uploads for today (Asia/Shanghai) atomically, before the
    decode; at the quota, UPLOAD_QUOTA_REACHED and nothing changes. With an appeal token (APL-2), one of
    the token's `TOKEN_UPLOADS` instead."""
    now = uow.now()
    if appeal_token_id is not None:
        if await repo.take_token_upload_slot(uow, appeal_token_id, TOKEN_UPLOADS) is None:
            raise ServiceError(
                DocumentErrorCode.UPLOAD_QUOTA_REACHED,
                f"At most {TOKEN_UPLOADS} documents can be uploaded with one appeal token.",
                None,
            )
        return Reservation(account_id, shanghai_day(now), appeal_token_id)
    day, quota = shanghai_day(now), uow.settings.upload_daily_quota
    if await repo.take_upload_slot(uow, account_id, day, quota) is None:
        raise ServiceError(
            DocumentErrorCode.UPLOAD_QUOTA_REACHED,
            f"At most {quota} documents can be uploaded a day; try again tomorrow.",
            None,
            retry_after=shanghai_day_start(now)[1],
        )
    return Reservation(account_id, day)


async def sweep(uow: Uow) -> dict[str, int]:
    """Drop the daily upload counts of days before yesterday (Asia/Shanghai): a slot reserved before
    midnight may still be given back after it, so yesterday's counts stay."""
    yesterday = shanghai_day(uow.now() - timedelta(days=1))
    return {"upload_counts_deleted": await repo.delete_upload_counts_before(uow, yesterday)}


async def give_back_upload(uow: Uow, reservation: Reservation) -> None:
    """ORG-2: a refused upload does not count (the day of the reservation, even past midnight)."""
    if reservation.appeal_token_id is not None:
        await repo.give_back_token_upload_slot(uow, reservation.appeal_token_id)
        return
    await repo.give_back_upload_slot(uow, reservation.account_id, reservation.day)


async def store(uow: Uow, account_id: int, image: PreparedImage, appeal_token_id: int | None = None) -> Document:
    """ORG-3: record the document and its bytes in this transaction: if it does not commit, neither is kept."""
    document = Document(
        public_id="doc_" + secrets.token_urlsafe(18),
        account_id=account_id,
        appeal_token_id=appeal_token_id,
        filename=image.filename,
        content_type=image.content_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.data).hexdigest(),
        created_at=uow.now(),
    )
    await repo.add_document(uow, document, image.data)
    return document


async def owned(uow: Uow, account_id: int, document_id: int) -> Document:
    """ORG-3: the owner's document; anyone else's behaves as one that does not exist."""
    document = await repo.document_by_id(uow, document_id, account_id=account_id)
    if document is None:
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    return document


async def of_account(uow: Uow, account_id: int, document_ids: list[int]) -> list[Document]:
    """ORG-3: those of the documents that belong to the account."""
    return await repo.documents_of_account(uow, account_id, document_ids)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A document with its bytes, read to be served (ORG-3)."""

    document: Document
    data: bytes


async def owned_file(uow: Uow, account_id: int, document_id: int) -> StoredFile:
    """ORG-3: the owner's document with its bytes, in one statement; anyone else's behaves as one that does
    not exist."""
    found = await repo.document_with_data_by_id(uow, document_id, account_id=account_id)
    if found is None:
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    return StoredFile(*found)


async def for_staff(uow: Uow, public_id: str) -> Document:
    """ORG-3: reviewers read any document from the back office, but a cancelled account's (CAN-6)."""
    if has_control_characters(public_id):
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    document = await repo.document_by_public_id(uow, public_id, live_account=True)
    if document is None:
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    return document


async def file_for_staff(uow: Uow, public_id: str) -> StoredFile:
    """ORG-3: `for_staff`'s document with its bytes, in one statement (the back office serves them)."""
    if has_control_characters(public_id):
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    found = await repo.document_with_data_by_public_id(uow, public_id)
    if found is None:
        raise ServiceError(DocumentErrorCode.DOCUMENT_NOT_FOUND, "No such document.", "id")
    return StoredFile(*found)
