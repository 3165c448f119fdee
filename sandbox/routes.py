"""Sandbox pages (SANDBOX.md). Mounted only when sandbox mode is on; 404 otherwise."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from services.clock import SHANGHAI
from services.database import run_read
from services.notify.service import latest_messages

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


async def _messages(request: Request) -> tuple[str, list[dict[str, str | int]]]:
    to = request.query_params.get("to", "").strip()
    if not to:
        return "", []
    rows = await run_read(request.app.state.db, request.app.state.deps, latest_messages, to)
    return to, [
        {
            "id": m.id,
            "channel": m.channel,
            "destination": m.destination,
            "purpose": m.purpose,
            "text": m.text,
            "created_at": m.created_at.isoformat(),
            "created_at_local": m.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for m in rows
    ]


async def outbox_page(request: Request) -> Response:
    to, messages = await _messages(request)
    return templates.TemplateResponse(request, "outbox.html", {"to": to, "messages": messages})


async def outbox_json(request: Request) -> Response:
    to, messages = await _messages(request)
    if not to:
        return JSONResponse({"error": "pass ?to=DESTINATION"}, status_code=400)
    return JSONResponse(
        [{k: v for k, v in m.items() if k != "created_at_local"} for m in messages],
        headers={"cache-control": "no-store"},
    )


routes = [
    Route("/outbox", outbox_page, methods=["GET"]),
    Route("/outbox.json", outbox_json, methods=["GET"]),
]

__all__ = ["routes"]
