"""ORG-2: what decoding an upload may cost is known from its header, and the decode gate bounds how
many decodes run at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from bench.uploads import jpeg, png_rgb, png_rgba16
from services.documents import service as documents
from services.documents.service import MAX_DECODE_BYTES, Candidate, DecodeGate, PreparedImage, inspect

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data", "decoded_size", "estimate"),
    [
        ("a.png", png_rgba16(5000, 5000), None, 5000 * 5000 * 4),  # 16-bit RGBA: 8 bits a channel in Pillow
        ("a.jpg", jpeg(4032, 3024), None, 4032 * 3024 * 4),  # baseline: libjpeg streams
        ("a.jpg", jpeg(4096, 4096, progressive=True), None, 112 * MIB),  # 64 MiB pixels + 48 MiB coefficients
        ("a.jpg", jpeg(5712, 4284), (2856, 2142), 2856 * 2142 * 4),  # drafted to half scale
        ("a.jpg", jpeg(4096, 4096, "CMYK"), None, 128 * MIB),  # CMYK pixels, then the RGB copy
    ],
    ids=["png16-rgba-at-cap", "jpeg-12mp", "jpeg-progressive-4096", "jpeg-24mp-drafted", "jpeg-cmyk-4096"],
)
def test_org_2_the_decode_estimate_comes_from_the_header(name, data, decoded_size, estimate) -> None:
    # When an upload's header is inspected
    candidate = inspect(name, data)
    # Then the memory its decode takes is known without decoding it, and within the budget
    assert candidate.decode_bytes == estimate
    assert candidate.decode_bytes <= MAX_DECODE_BYTES
    if decoded_size is not None:
        assert documents.decode(candidate).width == decoded_size[0]


class _Watched:
    """Wraps the real decode, recording which threads ran it and how many ran at once."""

    def __init__(self, real: Callable[[Candidate], PreparedImage]) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()
        self.started = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def __call__(self, candidate: Candidate) -> PreparedImage:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        self.started.set()
        try:
            assert self.go_on.wait(timeout=30)
            return self.real(candidate)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> _Watched:
    watcher = _Watched(documents.decode)
    monkeypatch.setattr(documents, "decode", watcher)
    return watcher


async def test_org_2_the_decode_gate_runs_at_most_its_limit_at_once(watched: _Watched) -> None:
    # Given a gate of 2 and eight uploads of 1500 x 1500 PNGs
    gate = DecodeGate(2)
    candidates = [inspect("scan.png", png_rgb(1500, 1500)) for _ in range(8)]
    # When all eight are decoded at once
    results = await asyncio.gather(*(gate.decode(c) for c in candidates))
    # Then all are decoded, never more than two at a time, on the gate's own two threads
    assert [(r.width, r.height) for r in results] == [(1500, 1500)] * 8
    assert watched.most <= 2
    assert len(watched.threads) <= 2
    assert all(name.startswith("upload-decode") for name in watched.threads)


async def test_org_2_a_cancelled_decode_keeps_its_slot_until_it_ends(watched: _Watched) -> None:
    # Given a gate of 1 whose decode is under way
    gate = DecodeGate(1)
    candidate = inspect("scan.png", png_rgb(64, 64))
    watched.go_on.clear()
    first = asyncio.create_task(gate.decode(candidate))
    assert await asyncio.to_thread(watched.started.wait, 30)
    # When the request waiting for it is cancelled and another upload arrives
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    second = asyncio.create_task(gate.decode(candidate))
    for _ in range(20):
        await asyncio.sleep(0)
    # Then the second waits until the first decode has ended: still one at a time
    assert (watched.running, second.done()) == (1, False)
    watched.go_on.set()
    assert (await second).width == 64
    assert watched.most == 1
