"""Sandbox pages (SANDBOX.md). Mounted only when sandbox mode is on; 404 otherwise."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from models.verification import VerificationAttempt
from services.clock import SHANGHAI
from services.database import run_read, run_write
from services.errors import ServiceError
from services.notify.service import latest_messages
from services.verification import personal
from services.verification.documents import mask_name
from services.verification.errors import VerificationErrorCode

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


# --- face (liveness) check: the page the user's phone would show (SANDBOX.md) --------------------

FACE_STATUS: dict[Enum, int] = {
    VerificationErrorCode.FACE_TICKET_NOT_FOUND: 404,
    VerificationErrorCode.FACE_TICKET_USED: 409,
    VerificationErrorCode.FACE_TICKET_EXPIRED: 410,
}
FACE_HEADERS = {"cache-control": "no-store", "x-robots-tag": "noindex"}


def _face_view(attempt: VerificationAttempt | None) -> dict[str, str] | None:
    if attempt is None or attempt.ticket_expires_at is None:
        return None
    return {
        "name_masked": mask_name(attempt.name),
        "document_type": attempt.document_type,
        "document_masked": attempt.document_masked,
        "expires_local": attempt.ticket_expires_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
    }


async def face_page(request: Request) -> Response:
    ticket = request.path_params["ticket"]
    attempt = await run_read(request.app.state.db, request.app.state.deps, personal.face_ticket, ticket)
    now = request.app.state.deps.clock.now()
    status, message = 200, None
    if attempt is None:
        status, message = 404, "No such face check."
    elif attempt.outcome != "pending":
        status, message = 409, "This face check is finished; start a new one from the console."
    elif attempt.ticket_expires_at is not None and attempt.ticket_expires_at <= now:
        status, message = 410, "This face check expired (10 minutes); start a new one from the console."
    context: dict[str, object] = {"attempt": _face_view(attempt), "message": message}
    return templates.TemplateResponse(request, "face.html", context, status_code=status, headers=FACE_HEADERS)


async def face_submit(request: Request) -> Response:
    ticket = request.path_params["ticket"]
    form = await request.form()
    outcome = form.get("outcome")
    if outcome not in {"pass", "fail"}:
        return Response("outcome must be pass or fail", status_code=400, headers=FACE_HEADERS)
    result = await run_write(
        request.app.state.db, request.app.state.deps, personal.complete_face_check, ticket, outcome == "pass"
    )
    if isinstance(result, ServiceError):
        failed: dict[str, object] = {"attempt": None, "message": result.message}
        status = FACE_STATUS.get(result.code, 400)
        return templates.TemplateResponse(request, "face.html", failed, status_code=status, headers=FACE_HEADERS)
    messages = {
        "passed": "Passed. Return to the console: the account is verified.",
        "failed": "Not passed. This QR code is void; start a new face check from the console.",
    }
    done: dict[str, object] = {"attempt": _face_view(result), "message": messages.get(result.outcome, result.outcome)}
    return templates.TemplateResponse(request, "face.html", done, headers=FACE_HEADERS)


routes = [
    Route("/outbox", outbox_page, methods=["GET"]),
    Route("/outbox.json", outbox_json, methods=["GET"]),
    Route("/face/{ticket}", face_page, methods=["GET"]),
    Route("/face/{ticket}", face_submit, methods=["POST"]),
]

__all__ = ["routes"]
