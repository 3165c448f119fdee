"""The back office (REV-2..6): server-rendered pages for reviewers, plain HTML forms.

Sessions are server-side, in an HttpOnly, SameSite=Lax cookie (Secure outside development), scoped
to /backoffice; account holders' bearer tokens are never read here. Every form carries the session's
synchronizer CSRF token (the sign-in form a pre-session one); a POST without it is refused with 403.
Each route calls the same services as the GraphQL API.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from edges.client import client_ip
from middleware import VIEWER_CSP
from services.clock import SHANGHAI
from services.database import DbTransactions, run_read, run_write
from services.documents import service as documents
from services.errors import ServiceError
from services.identifiers import mask_phone
from services.review import labels, queues, reviewers
from services.review import service as review
from services.review.errors import ReviewErrorCode
from services.review.kinds import RejectReason, registered_kinds
from services.review.reviewers import StaffViewer
from services.text import parse_row_id

SESSION_COOKIE = "bo_session"
PRE_CSRF_COOKIE = "bo_csrf"
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.filters["local"] = lambda value: (
    value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ""
)
# REV-2, REV-4: identifiers are shown in words, from the one table of each (services/review/labels.py).
templates.env.filters["kind_label"] = labels.kind_label
templates.env.filters["state_label"] = labels.state_label
templates.env.filters["action_label"] = labels.action_label
templates.env.filters["reason_label"] = labels.reason_label
templates.env.filters["caption"] = labels.material_caption


def _secure(request: Request) -> bool:
    return not request.app.state.settings.is_development


async def _staff(request: Request) -> StaffViewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    db, deps = request.app.state.db, request.app.state.deps
    staff = await run_read(db, deps, reviewers.authenticate, token)
    if staff is not None and staff.needs_touch:
        await run_write(db, deps, reviewers.touch, staff.session_id)
    return staff


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["cache-control"] = "no-store"  # framing and sniffing: middleware.SecurityHeaders
    return response


async def _staff_page(
    request: Request, staff: StaffViewer, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A signed-in page: its navigation shows each queue's open and overdue counts (REV-2), one statement."""
    counts = await run_read(request.app.state.db, request.app.state.deps, queues.counts)
    nav = [(days, counts.get(days, queues.QueueCount())) for days in review.QUEUES]
    return _page(request, name, {**context, "staff": staff, "queue_nav": nav}, status_code)


async def login_form(request: Request, flash: str | None = None, status_code: int = 200) -> Response:
    csrf = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _page(request, "login.html", {"csrf": csrf, "flash": flash, "staff": None}, status_code)
    response.set_cookie(
        PRE_CSRF_COOKIE, csrf, httponly=True, samesite="lax", secure=_secure(request), path="/backoffice"
    )
    return response


async def login(request: Request) -> Response:
    form = await request.form()
    pre = request.cookies.get(PRE_CSRF_COOKIE)
    if not pre or not secrets.compare_digest(pre, str(form.get("csrf", ""))):
        return HTMLResponse("Forbidden: the form expired; reload the page.", status_code=403)
    deps = request.app.state.deps
    result = await reviewers.sign_in(
        DbTransactions(request.app.state.db, deps),
        str(form.get("username", "")),
        str(form.get("password", "")),
        str(form.get("code", "")),
        client_ip(request, deps.settings.trusted_proxy_count),
    )
    if isinstance(result, ServiceError):
        if result.code is ReviewErrorCode.TOO_MANY_ATTEMPTS:  # the address, or the name from it, is throttled
            response = await login_form(request, result.message, status_code=429)
            response.headers["retry-after"] = str(result.retry_after)
            return response
        return await login_form(request, result.message, status_code=401)
    response = RedirectResponse("/backoffice/queues/2", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, result.token, httponly=True, samesite="lax", secure=_secure(request), path="/backoffice"
    )
    response.delete_cookie(PRE_CSRF_COOKIE, path="/backoffice")
    return response


Handler = Callable[[Request, StaffViewer], Awaitable[Response]]


def staff_only(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Signed-in reviewers only; POSTs also need the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        staff = await _staff(request)
        if staff is None:
            if request.method == "GET":
                return RedirectResponse("/backoffice/login", status_code=303)
            return HTMLResponse("Sign in first.", status_code=401)
        if request.method == "POST":
            form = await request.form()
            if not reviewers.csrf_ok(staff, str(form.get("csrf", "")) or None):
                return HTMLResponse("Forbidden: missing or wrong CSRF token.", status_code=403)
        return await handler(request, staff)

    return endpoint


async def logout(request: Request, staff: StaffViewer) -> Response:
    await run_write(request.app.state.db, request.app.state.deps, reviewers.sign_out, staff)
    response = RedirectResponse("/backoffice/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/backoffice")
    return response


async def home(request: Request, staff: StaffViewer) -> Response:
    return RedirectResponse("/backoffice/queues/2", status_code=303)


def _after(raw: str | None) -> tuple[datetime, int] | None:
    """The `after` of the next-page link (`<due time>~<item id>`); anything else means the first page."""
    if not raw:
        return None
    due_text, _, id_text = raw.partition("~")
    item_id = parse_row_id(id_text)
    try:
        due = datetime.fromisoformat(due_text)
        if item_id is None or due.tzinfo is None:  # the link carries the due time with its zone
            return None
        return due.astimezone(UTC), item_id
    except (ValueError, OverflowError):
        return None


def _item_id(request: Request) -> int | None:
    """The `{id:int}` of the path, when it can be a row ID at all (30 digits cannot)."""
    return parse_row_id(str(request.path_params["id"]))


async def queue(request: Request, staff: StaffViewer) -> Response:
    days = int(request.path_params["days"])
    if days not in review.QUEUES:
        return HTMLResponse("No such queue.", status_code=404)
    q = request.query_params
    state = q.get("state", "")
    kind = q.get("kind", "")
    f = queues.QueueFilter(
        queue_days=days,
        kinds=(kind,) if kind in registered_kinds() else (),
        states=(state,) if state in queues.ALL_STATES else queues.OPEN_STATES,
        mine=staff.reviewer.id if q.get("mine") else None,
        search=q.get("q", "")[:64],
    )
    result = await run_read(request.app.state.db, request.app.state.deps, queues.page, f, after=_after(q.get("after")))
    next_url = None
    if result.next_after is not None:
        params = {k: v for k, v in q.items() if k != "after"}
        params["after"] = f"{result.next_after[0].isoformat()}~{result.next_after[1]}"
        next_url = f"/backoffice/queues/{days}?{urlencode(params)}"
    return await _staff_page(
        request,
        staff,
        "queue.html",
        {
            "days": days,
            "rows": result.rows,
            "f": f,
            "kinds": registered_kinds(),
            "states": queues.ALL_STATES,
            "next_url": next_url,
            "flash": q.get("flash"),
        },
    )


async def item(request: Request, staff: StaffViewer, flash: str | None = None, status_code: int = 200) -> Response:
    item_id = _item_id(request)
    if item_id is None:
        return HTMLResponse("No such item.", status_code=404)
    try:
        found = await run_read(request.app.state.db, request.app.state.deps, review.detail, item_id)
    except ServiceError:
        return HTMLResponse("No such item.", status_code=404)
    return await _staff_page(
        request,
        staff,
        "item.html",
        {
            "item": found.item,
            "account": found.account,
            "phone_masked": "" if found.cancelled else mask_phone(found.account.phone),
            "cancelled": found.cancelled,
            "holder": found.holder,
            "audit": found.audit,
            "names": found.reviewer_names,
            "reviewers": found.reviewers,
            "materials": found.materials,
            "facts": found.facts,
            "comparison": found.comparison,
            "history": found.history,
            "reasons": list(RejectReason),
            "flash": flash,
        },
        status_code,
    )


async def material(request: Request, staff: StaffViewer) -> Response:
    """REV-2: one material of an item full size, with zoom and rotate controls (backoffice/static/viewer.js,
    keyboard: + - r 0, n p for the next and previous material, Escape back to the item)."""
    item_id = _item_id(request)
    number = int(request.path_params["n"])
    if item_id is None:
        return HTMLResponse("No such item.", status_code=404)
    try:
        found = await run_read(request.app.state.db, request.app.state.deps, review.detail, item_id)
    except ServiceError:
        return HTMLResponse("No such item.", status_code=404)
    if found.cancelled:  # CAN-6: nothing of a cancelled account's person is shown
        return HTMLResponse("The account was cancelled; its material was erased.", status_code=410)
    if not 1 <= number <= len(found.materials):
        return HTMLResponse("No such material.", status_code=404)
    response = await _staff_page(
        request,
        staff,
        "material.html",
        {"item": found.item, "materials": found.materials, "number": number, "m": found.materials[number - 1]},
    )
    response.headers["content-security-policy"] = VIEWER_CSP  # the viewer's own script, from this origin
    return response


def _action(fn: Callable[..., Awaitable[object]], *fields: str) -> Handler:
    async def run(request: Request, staff: StaffViewer) -> Response:
        item_id = _item_id(request)
        if item_id is None:
            return HTMLResponse("No such item.", status_code=404)
        form = await request.form()
        args: list[object] = []
        for name in fields:
            value = str(form.get(name, ""))
            if name == "reason":
                args.append(RejectReason(value) if value in RejectReason.__members__ else None)
            elif name == "reviewer":
                args.append(parse_row_id(value) or -1)
            else:
                args.append(value)
        result = await run_write(request.app.state.db, request.app.state.deps, fn, staff.reviewer, item_id, *args)
        if isinstance(result, ServiceError):
            return await item(request, staff, result.message, status_code=409)
        return RedirectResponse(f"/backoffice/items/{item_id}", status_code=303)

    return run


async def document(request: Request, staff: StaffViewer) -> Response:
    """ORG-3: reviewers see the material, read from the database (never from a served directory)."""
    deps = request.app.state.deps
    try:
        found = await run_read(request.app.state.db, deps, documents.file_for_staff, request.path_params["public_id"])
    except ServiceError:
        return HTMLResponse("No such document.", status_code=404)
    return Response(
        found.data,
        media_type=found.document.content_type,
        headers={"cache-control": "private, no-store"},  # nosniff: middleware.SecurityHeaders
    )


routes: list[BaseRoute] = [
    # The pages' stylesheet: no inline style, so their Content-Security-Policy can say style-src 'self'.
    Mount("/static", app=StaticFiles(directory=Path(__file__).with_name("static")), name="backoffice-static"),
    Route("/", staff_only(home), methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", staff_only(logout), methods=["POST"]),
    Route("/queues/{days:int}", staff_only(queue), methods=["GET"]),
    Route("/items/{id:int}", staff_only(item), methods=["GET"]),
    Route("/items/{id:int}/materials/{n:int}", staff_only(material), methods=["GET"]),
    Route("/items/{id:int}/claim", staff_only(_action(review.claim)), methods=["POST"]),
    Route("/items/{id:int}/release", staff_only(_action(review.release)), methods=["POST"]),
    Route("/items/{id:int}/approve", staff_only(_action(review.approve)), methods=["POST"]),
    Route("/items/{id:int}/reject", staff_only(_action(review.reject, "reason", "text")), methods=["POST"]),
    Route("/items/{id:int}/more", staff_only(_action(review.request_more, "message")), methods=["POST"]),
    Route("/items/{id:int}/reassign", staff_only(_action(review.reassign, "reviewer")), methods=["POST"]),
    Route("/documents/{public_id}", staff_only(document), methods=["GET"]),
]
