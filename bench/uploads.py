"""`python -m bench.uploads`: what decoding an upload costs, the old way against the way it is now,
on the worst cases (ORG-2).

Old: Pillow's whole decode under a 40 MP cap, a copy for the EXIF orientation, a conversion copy,
and an optimising re-encode, with nothing limiting how many run at once. Now: the header checks of
`services.documents.service.inspect` (25 MP, JPEG draft scaling to 4096 px, scans, a 128 MiB decode
estimate) and `decode`, at most `upload_decode_concurrency` (2) at once through a DecodeGate.

Each case runs in a fresh process, which reports its peak resident memory (VmHWM) above its
baseline once its input is in memory, and the CPU seconds of the decode. Then the eight uploads the
served-app test sends at once (tests/api/test_uploads_memory.py): old as eight threads, new through
the gate. Linux only (/proc/self).

Usage: `python -m bench.uploads` (about a minute on two cores).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from services.documents import service as documents
from services.errors import ServiceError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Case:
    label: str
    filename: str
    data: bytes


def png_rgb(width: int, height: int) -> bytes:
    """A flat RGB PNG: a few hundred KB that decode to width x height x 4 bytes (the issue's file)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 250, 250)).save(out, format="PNG")
    return out.getvalue()


def png_rgba16(width: int, height: int) -> bytes:
    """A 16-bit RGBA PNG (8 bytes a pixel on disk before compression), written by hand: Pillow
    cannot write one."""
    compressor = zlib.compressobj(9)
    row = b"\0" + b"\x12\x34\x56\x78\x9a\xbc\xde\xf0" * width
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg(width: int, height: int, mode: str = "RGB", **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (250,) * len(mode)).save(out, format="JPEG", quality=90, **options)
    return out.getvalue()


def jpeg_photo(width: int, height: int, quality: int = 50) -> bytes:
    """A JPEG with photo-like detail (noise over a gradient), close to the 4 MB cap at 25 MP."""
    noise = Image.effect_noise((width, height), 40)
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def worst_cases() -> list[Case]:
    """One of each: the largest files each of the old and the new limits let through."""
    return [
        Case("PNG 6300x6300 RGB (the issue's file)", "scan.png", png_rgb(6300, 6300)),
        Case("PNG 5000x5000 16-bit RGBA (25 MP cap)", "scan.png", png_rgba16(5000, 5000)),
        Case("JPEG 6300x6300 (40 MP, the old cap)", "photo.jpg", jpeg(6300, 6300)),
        Case("JPEG 5000x5000 ~3.5 MB photo (25 MP)", "photo.jpg", jpeg_photo(5000, 5000)),
        Case("JPEG 4096x4096 progressive 4:2:0", "photo.jpg", jpeg(4096, 4096, progressive=True)),
        Case("JPEG 4096x4096 CMYK", "photo.jpg", jpeg(4096, 4096, "CMYK")),
    ]


def eight_at_once(cases: list[Case] | None = None) -> list[Case]:
    """The eight simultaneous uploads of the served-app test: two each of the issue's PNG, the 16-bit
    RGBA PNG at the cap and the progressive JPEG, one CMYK JPEG, one 25 MP photo near 4 MB."""
    by_label = {case.label.split(" (")[0]: case for case in (cases or worst_cases())}
    pick = [
        "PNG 6300x6300 RGB",
        "PNG 5000x5000 16-bit RGBA",
        "JPEG 4096x4096 progressive 4:2:0",
        "JPEG 4096x4096 CMYK",
        "JPEG 5000x5000 ~3.5 MB photo",
    ]
    first, second, third, cmyk, photo = (by_label[p] for p in pick)
    return [first, first, second, second, third, third, cmyk, photo]


def old_prepare(filename: str, data: bytes) -> tuple[int, int, int]:
    """The decode as it was before the budget (services/documents/service.py `prepare`, less the
    storage key): (width, height, bytes stored)."""
    name = Path((filename or "").replace("\\", "/")).name.strip()[:128]
    expected = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}[Path(name).suffix.lower()]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as probe:
            found = probe.format
            if probe.width * probe.height > 40_000_000:
                raise ValueError("IMAGE_TOO_LARGE")
            probe.verify()
        if found != expected:
            raise ValueError("FILE_TYPE_MISMATCH")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            clean = ImageOps.exif_transpose(image) or image
            out = io.BytesIO()
            if expected == "JPEG":
                clean.convert("RGB").save(out, format="JPEG", quality=92, optimize=True)
            else:
                clean.save(out, format="PNG", optimize=True)
            width, height = clean.size
    return width, height, len(out.getvalue())


def new_prepare(filename: str, data: bytes) -> tuple[int, int, int]:
    prepared = documents.prepare(filename, data)
    return prepared.width, prepared.height, len(prepared.data)


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _reset_peak() -> int:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from the current RSS
    return _peak_kib()


def _outcome(fn: Any, case: Case) -> str:
    try:
        width, height, size = fn(case.filename, case.data)
    except ServiceError as err:
        return err.code.value
    except ValueError as err:
        return str(err)
    return f"stored {width}x{height}, {size / 1e6:.2f} MB"


def _child(way: str, paths: list[str]) -> None:
    cases = [Case(Path(p).stem, Path(p).name.split("-", 1)[1], Path(p).read_bytes()) for p in paths]
    fn = old_prepare if way == "old" else new_prepare
    base = _reset_peak()
    started = time.process_time()
    if len(cases) == 1:
        outcomes = [_outcome(fn, cases[0])]
    elif way == "old":
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            outcomes = list(pool.map(lambda c: _outcome(fn, c), cases))
    else:
        outcomes = asyncio.run(_through_gate(cases))
    cpu = time.process_time() - started
    print(json.dumps({"peak_mib": (_peak_kib() - base) / 1024, "cpu_s": cpu, "outcomes": outcomes}))


async def _through_gate(cases: list[Case]) -> list[str]:
    gate = documents.DecodeGate(2)

    async def one(case: Case) -> str:
        try:
            candidate = await asyncio.to_thread(documents.inspect, case.filename, case.data)
            prepared = await gate.decode(candidate)
        except ServiceError as err:
            return err.code.value
        return f"stored {prepared.width}x{prepared.height}, {len(prepared.data) / 1e6:.2f} MB"

    return list(await asyncio.gather(*(one(c) for c in cases)))


def _run(way: str, paths: list[Path]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.uploads", "--child", way, *map(str, paths)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1:])
        return
    cases = worst_cases()
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for index, case in enumerate(cases):
            path = Path(tmp) / f"{index}-{case.filename}"
            path.write_bytes(case.data)
            paths[case.label] = path
        print(
            f"{'case':<42} {'input':>8} | {'old peak':>9} {'old CPU':>8} | {'new peak':>9} {'new CPU':>8} | new outcome"
        )
        for case in cases:
            old, new = _run("old", [paths[case.label]]), _run("new", [paths[case.label]])
            print(
                f"{case.label:<42} {len(case.data) / 1e6:>6.2f}MB | {old['peak_mib']:>5.0f} MiB {old['cpu_s']:>7.2f}s"
                f" | {new['peak_mib']:>5.0f} MiB {new['cpu_s']:>7.2f}s | {new['outcomes'][0]}"
            )
        eight = [paths[c.label] for c in eight_at_once(cases)]
        old, new = _run("old", eight), _run("new", eight)
        print(
            f"{'eight at once (old: 8 threads; new: gate of 2)':<51} | {old['peak_mib']:>5.0f} MiB"
            f" {old['cpu_s']:>7.2f}s | {new['peak_mib']:>5.0f} MiB {new['cpu_s']:>7.2f}s |"
        )


if __name__ == "__main__":
    main()
