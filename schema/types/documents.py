"""Uploaded documents as their owner sees them (ORG-2, ORG-3), and their global IDs.

`POST /uploads` answers the global ID of an `UploadedDocument`; every input that takes an upload takes
that ID (type `ID`), parsed strictly here: an ID this API did not give out is refused exactly as an
unknown upload or another account's (DOCUMENT_NOT_FOUND at its input path).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from models.documents import Document
from schema.context import Context
from schema.types.common import node_id, resolve_owned_nodes
from services.documents import service as documents
from services.viewer import Viewer

Info = strawberry.Info[Context, None]
TYPE_NAME = "UploadedDocument"
# The row ID a malformed upload ID stands for: no row has it, so it is refused as an unknown upload.
NO_ROW = -1


def upload_id(document: Document) -> str:
    """The global ID `POST /uploads` answers for a stored document."""
    return relay.to_base64(TYPE_NAME, document.id)


def document_row_id(global_id: str) -> int:
    """The row ID behind an upload's global ID; NO_ROW for anything this API did not give out as one."""
    return node_id(global_id, TYPE_NAME) or NO_ROW


@strawberry.type(
    name=TYPE_NAME,
    description="An image uploaded with `POST /uploads` for an appeal or a verification (ORG-2). Only its owner sees "
    "it (ORG-3); read the file with `GET /uploads/{id}`.",
)
class UploadedDocument(relay.Node):
    id: relay.NodeID[int]
    filename: str = strawberry.field(description="The file name as uploaded, control characters dropped; display only.")
    content_type: str = strawberry.field(
        description="`image/jpeg` or `image/png`, from the content (never from the name)."
    )
    size: int = strawberry.field(description="Bytes stored, after the metadata was stripped (at most 4 MB).")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    created_at: datetime = strawberry.field(description="When it was uploaded.")

    @classmethod
    def from_model(cls, row: Document) -> Self:
        return cls(
            id=row.id,
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            width=row.width,
            height=row.height,
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        return await resolve_owned_nodes(info, node_ids, cls, cls._owned)

    @classmethod
    async def _owned(cls, context: Context, viewer: Viewer, ids: list[int]) -> list[Self]:
        return [cls.from_model(r) for r in await context.read(documents.of_account, viewer.account.id, ids)]
