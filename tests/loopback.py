"""The app served on a loopback port for the browser tests, safe when pytest-xdist runs tests in parallel.

A port found free and closed again (bind to port 0, read the number, close) can be taken by another worker's
server before ours binds it. Here the socket is bound and listening first and stays open: uvicorn is handed
that socket, so the port is ours from the moment its number is known until the server stops."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def listening_socket() -> socket.socket:
    """A TCP socket on a free loopback port, already listening (a connection made before the server runs
    waits in the backlog)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any, sock: socket.socket, **config: Any) -> Iterator[None]:
    """Serve `app` with uvicorn on `sock` in a daemon thread until the block ends; the socket is closed
    afterwards. `config`: more of uvicorn's settings (e.g. `ssl_certfile` and `ssl_keyfile` for TLS)."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)  # waits for the server thread, not for the test clock
        assert server.started, "uvicorn did not start"
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
