"""Sandbox pages (docs/sandbox.md). Mounted only when sandbox mode is on; 404 otherwise."""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from models.verification import VerificationAttempt
from services.clock import SHANGHAI
from services.database import DbTransactions, run_read, run_write
from services.errors import ServiceError
from services.notify.service import latest_messages
from services.providers.bank import format_cny
from services.providers.standing import MAX_FACT, STANDING_FIELDS, AccountStanding, SandboxStanding
from services.verification import liveness
from services.verification.documents import mask_name
from services.verification.enterprise import repository as enterprise_repo
from services.verification.enterprise.recharge import remittance_received
from services.verification.enterprise.transfer import PAYOUT_PAYER, after_face_check
from services.verification.errors import CallbackErrorCode
from services.webhooks import endpoints as webhook_endpoints
from services.webhooks import signing

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


# The sandbox webhook receiver keeps the last RECEIVED_KEEP deliveries in this process's memory (a sandbox
# aid: with several workers each shows what it received).
RECEIVED_KEEP = 100


def _received(request: Request) -> deque[dict[str, Any]]:
    state = request.app.state
    if not hasattr(state, "webhooks_received"):
        state.webhooks_received = deque(maxlen=RECEIVED_KEEP)
    found: deque[dict[str, Any]] = state.webhooks_received
    return found


async def webhook_receive(request: Request) -> Response:
    """The built-in receiver (docs/sandbox.md): verifies the signature as a real receiver must (WH-2) with
    the secret of the endpoint registered at this path, stores what it got, answers 200 (or 400 to a bad
    signature, so the relay retries it as a real receiver would make it)."""
    body = await request.body()
    deps = request.app.state.deps
    secrets = await run_read(request.app.state.db, deps, webhook_endpoints.receiver_secrets)
    now = int(deps.clock.now().timestamp())
    header = request.headers.get(signing.SIGNATURE_HEADER)
    valid = any(signing.verify(secret, header, body, now) for secret in secrets)
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = None
    event = parsed if isinstance(parsed, dict) else {}
    _received(request).appendleft(
        {
            "event_id": request.headers.get(signing.EVENT_ID_HEADER, ""),
            "type": str(event.get("type", "")),
            "sequence": event.get("sequence"),
            "valid": valid,
            "received_at_local": deps.clock.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            "body": json.dumps(parsed, indent=2, ensure_ascii=False)
            if parsed is not None
            else body.decode(errors="replace"),
        }
    )
    if not valid:
        return JSONResponse({"error": "signature not valid"}, status_code=400)
    return JSONResponse({"received": True})


async def webhooks_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "webhooks.html", {"received": list(_received(request))})


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


# --- face (liveness) check: the page the user's phone would show (docs/sandbox.md) --------------------

FACE_STATUS: dict[Enum, int] = {
    CallbackErrorCode.FACE_TICKET_NOT_FOUND: 404,
    CallbackErrorCode.FACE_TICKET_USED: 409,
    CallbackErrorCode.FACE_TICKET_EXPIRED: 410,
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
    attempt = await run_read(request.app.state.db, request.app.state.deps, liveness.face_ticket, ticket)
    now = request.app.state.deps.clock.now()
    status, message = 200, None
    if attempt is None:
        status, message = 404, "No such face check."
    elif attempt.outcome != "pending" or attempt.ticket_expires_at is None:
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
    tx = DbTransactions(request.app.state.db, request.app.state.deps)
    result = await tx.write(liveness.complete_face_check, ticket, outcome == "pass")
    if not isinstance(result, ServiceError):
        await after_face_check(tx, result)  # a bank transfer pays out now (RNE-4)
    if isinstance(result, ServiceError):
        failed: dict[str, object] = {"attempt": None, "message": result.message}
        status = FACE_STATUS.get(result.code, 400)
        return templates.TemplateResponse(request, "face.html", failed, status_code=status, headers=FACE_HEADERS)
    messages = {
        "passed": "Passed. Return to the console: the account is verified.",
        "pending": "Passed. Return to the console to follow the verification.",
        "failed": "Not passed. This QR code is void; start a new face check from the console.",
    }
    done: dict[str, object] = {"attempt": _face_view(result), "message": messages.get(result.outcome, result.outcome)}
    return templates.TemplateResponse(request, "face.html", done, headers=FACE_HEADERS)


# --- bank (docs/sandbox.md "Bank"): the organisation's statement, and money arriving ----------------------


def _local(when: datetime) -> str:
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


async def _statement(request: Request) -> tuple[str, list[dict[str, str | None]]]:
    """The payouts the bank made to the account (RNE-4). One still in transit (sandbox accounts ending in 3
    arrive a day later) is listed with its arrival time and no amount yet: the organisation reads the
    amount once the money is in the account."""
    number = request.path_params["account"].removesuffix(".json")
    rows = await run_read(request.app.state.db, request.app.state.deps, enterprise_repo.payouts_to, number)
    now = request.app.state.deps.clock.now()
    credits: list[dict[str, str | None]] = []
    for p in rows:
        assert p.paid_at is not None
        assert p.arrives_at is not None
        arrived = p.arrives_at <= now
        credits.append(
            {
                "amount": format_cny(p.amount_fen) if arrived else None,
                "payer": PAYOUT_PAYER,
                "account_name": p.account_name,
                "bank_name": p.bank_name,
                "reference": p.reference,
                "paid_at": p.paid_at.isoformat(),
                "arrived_at": p.arrives_at.isoformat() if arrived else None,
                "arrives_at": p.arrives_at.isoformat(),
                "paid_at_local": _local(p.paid_at),
                "arrives_at_local": _local(p.arrives_at),
                "in_transit": None if arrived else "yes",
            }
        )
    return number, credits


LOCAL_ONLY = {"paid_at_local", "arrives_at_local", "in_transit"}


async def bank_statement(request: Request) -> Response:
    number, credits = await _statement(request)
    if request.path_params["account"].endswith(".json"):
        return JSONResponse(
            [{k: v for k, v in c.items() if k not in LOCAL_ONLY} for c in credits],
            headers={"cache-control": "no-store"},
        )
    return templates.TemplateResponse(request, "bank.html", {"number": number, "credits": credits})


async def remittance(request: Request) -> Response:
    """Money arriving in a dedicated remittance account now (RNE-8)."""
    form = await request.form()
    fields = ("payer_account_name", "payer_account_number", "amount", "to_account")
    values = {f: str(form.get(f) or "").strip() for f in fields}
    missing = [f for f in fields if not values[f]]
    if missing:
        return JSONResponse({"error": f"missing: {', '.join(missing)}"}, status_code=400)
    result = await run_write(
        request.app.state.db,
        request.app.state.deps,
        remittance_received,
        payer_account_name=values["payer_account_name"],
        payer_account_number=values["payer_account_number"],
        amount_text=values["amount"],
        to_account=values["to_account"],
    )
    if isinstance(result, ServiceError):
        status = 404 if result.code is CallbackErrorCode.REMITTANCE_ACCOUNT_NOT_FOUND else 400
        return JSONResponse({"error": result.code.value, "message": result.message}, status_code=status)
    return JSONResponse(
        {
            "credited": format_cny(result.credited_fen),
            "outcome": result.note,
            "verification_state": result.application.state if result.application is not None else None,
        }
    )


# --- account standing (docs/sandbox.md "Cancellation pre-check"): what the outside systems hold ------------

STANDING_LABELS = {
    "unfinished_orders": "Unfinished orders",
    "unfinished_services": "Unfinished services",
    "arrears_fen": "Arrears (fen)",
    "open_complaints": "Open complaints or reports, by or against the account",
    "organisation_settings": "Enterprise-organisation settings still tied to the account",
    "vouchers": "Vouchers (forfeited)",
    "resources_in_use": "Resources in use (forfeited)",
}


def _standing_store(request: Request) -> SandboxStanding | None:
    store = request.app.state.deps.providers.standing
    return store if isinstance(store, SandboxStanding) else None


def _standing_view(request: Request, standing: AccountStanding, message: str | None, status: int = 200) -> Response:
    account_id = request.path_params["account_id"]
    facts = [(name, STANDING_LABELS[name], getattr(standing, name)) for name in STANDING_FIELDS]
    context = {"account_id": account_id, "facts": facts, "message": message}
    return templates.TemplateResponse(
        request, "standing.html", context, status_code=status, headers={"cache-control": "no-store"}
    )


def _standing_json(account_id: int, standing: AccountStanding) -> JSONResponse:
    body = {"account_id": account_id} | {name: getattr(standing, name) for name in STANDING_FIELDS}
    return JSONResponse(body, headers={"cache-control": "no-store"})


async def standing_page(request: Request) -> Response:
    store = _standing_store(request)
    if store is None:
        return Response("no sandbox standing", status_code=404)
    account_id = request.path_params["account_id"]
    standing = await store.standing(account_id=account_id)
    if request.url.path.endswith(".json"):
        return _standing_json(account_id, standing)
    return _standing_view(request, standing, None)


async def standing_update(request: Request) -> Response:
    """Change the facts from the form, or from a JSON object (answered as JSON); a field left out keeps its
    value; each is a whole number from 0 to 10^12."""
    store = _standing_store(request)
    if store is None:
        return Response("no sandbox standing", status_code=404)
    account_id = request.path_params["account_id"]
    wants_json = request.headers.get("content-type", "").startswith("application/json")
    raw: dict[str, Any]
    if wants_json:
        try:
            loaded = await request.json()
        except ValueError:
            return JSONResponse({"error": "a JSON object of whole numbers"}, status_code=400)
        raw = loaded if isinstance(loaded, dict) else {}
    else:
        raw = dict(await request.form())
    current = await store.standing(account_id=account_id)
    values: dict[str, int] = {}
    for name in STANDING_FIELDS:
        given = raw.get(name)
        if given is None or given == "":
            values[name] = getattr(current, name)
            continue
        text = str(given).strip()
        if isinstance(given, bool) or not text.isascii() or not text.isdigit() or int(text) > MAX_FACT:
            problem = f"{name} must be a whole number from 0 to {MAX_FACT}"
            if wants_json:
                return JSONResponse({"error": problem}, status_code=400)
            return _standing_view(request, current, problem, 400)
        values[name] = int(text)
    standing = AccountStanding(**values)
    store.set(account_id, standing)
    if wants_json:
        return _standing_json(account_id, standing)
    return _standing_view(request, standing, "Saved.")


routes: list[BaseRoute] = [
    # The pages' stylesheet: no inline style, so their Content-Security-Policy can say style-src 'self'.
    Mount("/static", app=StaticFiles(directory=Path(__file__).with_name("static")), name="sandbox-static"),
    Route("/outbox", outbox_page, methods=["GET"]),
    Route("/webhooks", webhooks_page, methods=["GET"]),
    Route("/webhooks/receive", webhook_receive, methods=["POST"]),
    Route("/bank/{account}", bank_statement, methods=["GET"]),
    Route("/remittance", remittance, methods=["POST"]),
    Route("/outbox.json", outbox_json, methods=["GET"]),
    Route("/face/{ticket}", face_page, methods=["GET"]),
    Route("/face/{ticket}", face_submit, methods=["POST"]),
    Route("/accounts/{account_id:int}/standing.json", standing_page, methods=["GET"]),
    Route("/accounts/{account_id:int}/standing", standing_page, methods=["GET"]),
    Route("/accounts/{account_id:int}/standing", standing_update, methods=["POST"]),
]

__all__ = ["routes"]
