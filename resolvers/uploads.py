"""`POST /uploads` and `GET /uploads/{id}`: documents for appeals and verifications (ORG-2, ORG-3).

POST takes `multipart/form-data` with one part named `file` and `Authorization: Bearer <token>` (a
session; the login challenge of a right password, APL-1 and APL-2; or an appeal token, APL-2, whose
uploads only its own appeal can use, at most `documents.TOKEN_UPLOADS` of them);
the body is capped while streaming. It answers 201 with the stored `UploadedDocument`: its `id` (a
global ID, the upload ID every mutation input takes), `filename`, `contentType`, `size`, `width`,
`height`. Or an error in the API's one model, `{"errors": [{"code", "message", "path"}]}` (codes from
`ErrorCode`), with 400, 401, 413 or 422, or 429 UPLOAD_QUOTA_REACHED (with `retryAfter` and a
`Retry-After` header: seconds until the next Asia/Shanghai day) once the account's daily uploads are
used up.
GET `/uploads/{id}` takes that global ID and returns the owner's own file; any other ID (another
account's, unknown, or not a global ID of an `UploadedDocument`) is 404.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edges.client import client_ip
from schema.errors import rest_errors
from schema.types.documents import document_row_id, upload_id
from services.appeals import tokens as appeal_tokens
from services.auth import service as auth
from services.client import ClientInfo
from services.database import DbTransactions, run_read
from services.documents import service as documents
from services.documents.errors import DocumentErrorCode
from services.errors import ServiceError
from services.security import bearer_token

STATUS = {
    DocumentErrorCode.AUTHENTICATION_REQUIRED: 401,
    DocumentErrorCode.FILE_REQUIRED: 400,
    DocumentErrorCode.FILE_TOO_LARGE: 413,
    DocumentErrorCode.DOCUMENT_NOT_FOUND: 404,
    DocumentErrorCode.UPLOAD_QUOTA_REACHED: 429,
}
# The body may hold the 4 MB file plus the multipart framing.
MAX_UPLOAD_BODY = documents.MAX_BYTES + 64 * 1024


def _error(err: ServiceError) -> JSONResponse:
    code = err.code if isinstance(err.code, DocumentErrorCode) else DocumentErrorCode.NOT_AN_IMAGE
    headers = None if err.retry_after is None else {"retry-after": str(err.retry_after)}
    return JSONResponse({"errors": rest_errors(err)}, status_code=STATUS.get(code, 422), headers=headers)


def _decode_gate(request: Request) -> documents.DecodeGate:
    """The process's one gate on concurrent decodes (ORG-2), made with the app's first upload."""
    gate = getattr(request.app.state, "upload_decode_gate", None)
    if gate is None:
        gate = documents.DecodeGate(request.app.state.deps.settings.upload_decode_concurrency)
        request.app.state.upload_decode_gate = gate
    return gate


async def upload(request: Request) -> Response:
    db, deps = request.app.state.db, request.app.state.deps
    bearer = bearer_token(request.headers.get("authorization"))
    viewer = await run_read(db, deps, auth.authenticate, bearer)
    if viewer is None:  # the lost-device path (APL-1): a live login challenge of this client may upload
        client = ClientInfo(
            ip=client_ip(request, deps.settings.trusted_proxy_count), user_agent=request.headers.get("user-agent")
        )
        viewer = await run_read(db, deps, auth.challenge_viewer, bearer, client)
    owner: tuple[int, int | None] | None = None if viewer is None else (viewer.account.id, None)
    if owner is None:  # APL-2: a signed-out filer's appeal token uploads for its own appeal only
        owner = await run_read(db, deps, appeal_tokens.uploader, bearer)
    if owner is None:
        return _error(ServiceError(DocumentErrorCode.AUTHENTICATION_REQUIRED, "Sign in first.", None))
    account_id, appeal_token_id = owner
    # The body cap (BodyLimit) stops an oversized request while it streams; parts are not capped
    # lower, so what passes it gets the precise FILE_TOO_LARGE answer below.
    form = await request.form(max_files=1, max_fields=2, max_part_size=MAX_UPLOAD_BODY)
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            return _error(ServiceError(DocumentErrorCode.FILE_REQUIRED, "Send the file as the part `file`.", "file"))
        filename, data = part.filename or "", await part.read(documents.MAX_BYTES + 1)
    finally:
        await form.close()
    # The lost-device path counts against the same account's quota as a session (ORG-2, APL-1); an appeal
    # token against its own cap.
    result = await documents.upload(
        DbTransactions(db, deps), _decode_gate(request), account_id, filename, data, appeal_token_id=appeal_token_id
    )
    if isinstance(result, ServiceError):
        return _error(result)
    return JSONResponse(
        {
            "id": upload_id(result),
            "filename": result.filename,
            "contentType": result.content_type,
            "size": result.size,
            "width": result.width,
            "height": result.height,
        },
        status_code=201,
    )


async def download(request: Request) -> Response:
    db, deps = request.app.state.db, request.app.state.deps
    viewer = await run_read(db, deps, auth.authenticate, bearer_token(request.headers.get("authorization")))
    if viewer is None:
        return _error(ServiceError(DocumentErrorCode.AUTHENTICATION_REQUIRED, "Sign in first.", None))
    try:
        document_id = document_row_id(request.path_params["id"])
        stored = await run_read(db, deps, documents.owned_file, viewer.account.id, document_id)
    except ServiceError as err:
        return _error(err)
    return Response(
        stored.data,
        media_type=stored.document.content_type,
        headers={
            "cache-control": "private, no-store",  # nosniff: middleware.SecurityHeaders, on every response
            "content-disposition": "inline",
        },
    )


routes = [
    Route("/uploads", upload, methods=["POST"]),
    Route("/uploads/{id}", download, methods=["GET"]),
]
