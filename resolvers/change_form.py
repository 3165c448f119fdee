"""`GET /subject-changes/{id}/form`: the printable change application form of a change to another enterprise
(CHG-3), for its owner only.

It takes the change's global ID (`SubjectChange.id`, as `SubjectChange.formDownloadUrl` gives it) and
`Authorization: Bearer <session token>`, and answers the form as an HTML page to print, with both subjects'
details (legal representatives and the contact masked), the reason, the form's reference and date, and boxes
for both subjects' seals and signatures. Before the form exists (FORM_PENDING), for another kind of change, and
for another account's or an unknown change: 404 CHANGE_NOT_FOUND; without a session: 401."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from schema.errors import rest_errors
from schema.types.common import node_id
from services.auth import service as auth
from services.database import run_read
from services.errors import ServiceError
from services.security import bearer_token
from services.verification.changes import enterprise as to_enterprise
from services.verification.changes.errors import ChangeErrorCode

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "downloads" / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _error(code: ChangeErrorCode, message: str, status: int) -> JSONResponse:
    return JSONResponse({"errors": rest_errors(ServiceError(code, message, None))}, status_code=status)


async def change_form(request: Request) -> Response:
    db, deps = request.app.state.db, request.app.state.deps
    viewer = await run_read(db, deps, auth.authenticate, bearer_token(request.headers.get("authorization")))
    if viewer is None:
        return _error(ChangeErrorCode.AUTHENTICATION_REQUIRED, "Sign in first.", 401)
    change_id = node_id(request.path_params["id"], "SubjectChange") or -1
    form = await run_read(db, deps, to_enterprise.form_of, viewer.account.id, change_id)
    if form is None:
        return _error(ChangeErrorCode.CHANGE_NOT_FOUND, "No such change application form of this account.", 404)
    html = TEMPLATES.get_template("subject-change-form.html").render(form=form)
    return HTMLResponse(
        html,
        headers={
            "cache-control": "private, no-store",
            "content-disposition": f'inline; filename="subject-change-form-{form.reference}.html"',
        },
    )


routes = [Route("/subject-changes/{id:path}/form", change_form, methods=["GET"])]
