"""ORG-2: eight simultaneous worst-case uploads keep a served app under 600 MB resident.

The app runs in a uvicorn process of its own (SQLite in a temporary directory, sandbox settings), so
its peak resident memory (VmHWM) is the server's alone. Linux only (/proc)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

import httpx
import pytest

from bench.servers import serve
from bench.uploads import Case, eight_at_once
from cli import migrate
from tests.helpers import registered_and_signed_in

LIMIT_BYTES = 600 * 1000 * 1000


def _peak_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


async def _upload_at_once(base_url: str, pid: int, files: list[Case]) -> tuple[int, int, list[httpx.Response]]:
    """Sign up and in, then send every file at once: (peak before, peak after, the answers)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        token = await registered_and_signed_in(client)
        before = _peak_bytes(pid)
        responses = await asyncio.gather(
            *(
                client.post(
                    "/uploads",
                    files={"file": (case.filename, case.data, "application/octet-stream")},
                    headers={"authorization": f"Bearer {token}"},
                )
                for case in files
            )
        )
        return before, _peak_bytes(pid), list(responses)


@pytest.mark.slow
def test_org_2_eight_simultaneous_worst_case_uploads_keep_the_server_under_600_mb(tmp_path: Path) -> None:
    # Given the app served in its own process, a signed-in user, and eight worst-case files: two
    # 6300 x 6300 PNGs of 131 KB (the file), two 16-bit RGBA PNGs at the pixel cap, two
    # progressive 4096 x 4096 JPEGs, a CMYK 4096 x 4096 JPEG and a 25 MP photo of 3.5 MB
    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    migrate(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "SANDBOX": "true",
        "SECRET_KEY": "test-secret-key",
        "ARGON2_MEMORY_KIB": "1024",
        "ARGON2_TIME_COST": "1",
        "SWEEP_INTERVAL_SECONDS": "0",
    }
    files = eight_at_once()
    with serve("uploads", "app:create_app", env, tmp_path) as server:
        # When the eight are uploaded at once
        before, peak, responses = asyncio.run(_upload_at_once(server.url(""), server.pid, files))
    # Then the server's peak resident memory stays under 600 MB
    assert peak < LIMIT_BYTES, f"peak {peak / 1e6:.0f} MB (before the uploads {before / 1e6:.0f} MB)"
    print(f"served app: {before / 1e6:.0f} MB before the uploads, peak {peak / 1e6:.0f} MB")
    # And the PNGs over the pixel cap are refused from their header, every other file is stored
    answers = [(r.status_code, r.json()["errors"][0]["code"] if r.status_code != 201 else None) for r in responses]
    assert answers == [(422, "IMAGE_TOO_LARGE")] * 2 + [(201, None)] * 6
    with contextlib.closing(sqlite3.connect(tmp_path / "served.db")) as conn:
        assert conn.execute("SELECT count(*) FROM document_blobs").fetchone() == (6,)
