"""A "siteverify" endpoint on loopback for the bot-check tests: it records every request and answers
as the test tells it (pass, fail, garbage, an HTTP error, an oversized body, or no answer until
released)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

SECRET = "test-siteverify-secret"


@dataclass
class Siteverify:
    url: str
    # success | failure | secret-refused | not-json | no-success | http-500 | huge | hang (then success)
    answer: str = "success"
    requests: list[dict[str, str]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(state: Siteverify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            state.requests.append({k: v[0] for k, v in form.items()})
            state.content_types.append(self.headers.get("content-type", ""))
            state.received.set()
            answer = state.answer
            if answer == "hang":  # no answer until released (or 10 s), then a pass
                state.release.wait(10)
            status, body = 200, b""
            if answer in ("success", "hang"):
                body = json.dumps({"success": True, "error-codes": []}).encode()
            elif answer == "failure":
                body = json.dumps({"success": False, "error-codes": ["invalid-input-response"]}).encode()
            elif answer == "secret-refused":
                body = json.dumps({"success": False, "error-codes": ["invalid-input-secret"]}).encode()
            elif answer == "not-json":
                body = b"<html>upstream error</html>"
            elif answer == "no-success":
                body = json.dumps({"success": "true"}).encode()
            elif answer == "http-500":
                status, body = 500, json.dumps({"success": True}).encode()
            elif answer == "huge":
                body = b'{"success": true, "pad": "' + b"x" * (200 * 1024) + b'"}'
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@pytest.fixture
def siteverify() -> Iterator[Siteverify]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Siteverify("")))
    state = Siteverify(f"http://127.0.0.1:{server.server_address[1]}/siteverify")
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
