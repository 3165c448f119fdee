"""The app served on a loopback port for the browser tests that need links the app hands out (face-check
URLs are built from `Settings.base_url`) and exact due times (the test clock, on a Thursday)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import pytest
from starlette.applications import Starlette

from app import create_app
from services.clock import SHANGHAI, ManualClock
from services.database import Database
from settings import Settings
from tests.loopback import listening_socket, port_of, serve_in_thread

THURSDAY_10_AM = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def served_at(settings: Settings, db: Database, clock: ManualClock) -> Iterator[tuple[str, Starlette]]:
    """The app in a thread of its own on a port known up front, with the test clock set to Thursday
    2026-11-26 10:00 in Shanghai. `db` empties the PostgreSQL test database first, as for every test."""
    sock = listening_socket()
    port = port_of(sock)
    base = f"http://127.0.0.1:{port}"
    clock.set(THURSDAY_10_AM)
    app = create_app(replace(settings, environment="development", port=port, public_url=base), clock=clock)
    with serve_in_thread(app, sock):
        yield base, app
