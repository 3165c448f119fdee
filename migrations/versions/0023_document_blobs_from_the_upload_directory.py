"""document_blobs: uploaded documents move from the upload directory into the database (ORG-3)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 19:30:00.000000

Every instance behind a load balancer reads the same documents: their bytes live in `document_blobs`
(bytea on PostgreSQL, BLOB on SQLite), written in the document row's transaction.

Upgrade: copies every document's file from the upload directory the instances used into `document_blobs`,
a batch at a time (at most BATCH_ROWS files or BATCH_BYTES bytes held at once), then drops
`documents.storage_key`. The directory is the one the previous version read: the UPLOAD_DIR environment
variable, or `./var/uploads` (relative to the current directory) when it is not set. The files are left
on disk: the operator deletes the directory once the documents read back through the service.

A document whose file is missing fails the upgrade before anything changes, with the number of such
documents and their first row IDs (never a file name or a value): point UPLOAD_DIR at the right
directory, or restore the files from a backup, and run `account-center migrate` again. (On PostgreSQL the
upgrade is one transaction; on SQLite a CREATE TABLE is not rolled back, so a run that stopped while
copying leaves an incomplete `document_blobs`, which the next run drops and fills again.)

Downgrade: writes every blob back to a file under a new random name in that directory, fills
`storage_key`, and drops `document_blobs`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0023'
down_revision: Union[str, Sequence[str], None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DEFAULT_UPLOAD_DIR = "./var/uploads"  # the former settings.upload_dir default
BATCH_ROWS = 100
BATCH_BYTES = 64 * 1024 * 1024  # a document is at most 4 MB (ORG-2)
SHOWN_MISSING = 10

_documents = sa.table(
    "documents", sa.column("id", sa.BigInteger()), sa.column("storage_key", sa.String(80)), sa.column("size", sa.Integer())
)
_blobs = sa.table("document_blobs", sa.column("document_id", sa.BigInteger()), sa.column("data", sa.LargeBinary()))


class MissingUploads(RuntimeError):
    """Documents whose file is not in the upload directory: the upgrade changed nothing."""


def upload_dir() -> Path:
    return Path(os.environ.get("UPLOAD_DIR") or DEFAULT_UPLOAD_DIR).resolve()


def _keys(connection: sa.Connection) -> Iterator[list[tuple[int, str]]]:
    """(id, storage_key) of every document, BATCH_ROWS at a time, by row ID."""
    after = 0
    while True:
        rows = connection.execute(
            sa.select(_documents.c.id, _documents.c.storage_key)
            .where(_documents.c.id > after)
            .order_by(_documents.c.id)
            .limit(BATCH_ROWS)
        ).all()
        if not rows:
            return
        yield [(int(r[0]), str(r[1])) for r in rows]
        after = int(rows[-1][0])


def _path(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if not path.is_relative_to(root):  # a storage key was always "xx/<hex>.<ext>": never outside the root
        raise MissingUploads(f"A document's storage key points outside {root}; nothing was changed.")
    return path


def _check_every_file(connection: sa.Connection, root: Path) -> None:
    missing: list[int] = []
    for batch in _keys(connection):
        missing += [row_id for row_id, key in batch if not _path(root, key).is_file()]
    if missing:
        shown = ", ".join(str(i) for i in missing[:SHOWN_MISSING]) + (", ..." if len(missing) > SHOWN_MISSING else "")
        raise MissingUploads(
            f"{len(missing)} uploaded document(s) have no file under the upload directory {root} "
            f"(document row IDs {shown}); nothing was changed. Set UPLOAD_DIR to the directory the instances "
            "used (a relative path is read from the current directory), or restore the files from a backup, "
            "then run `account-center migrate` again."
        )


def _copy_files(connection: sa.Connection, root: Path) -> None:
    pending: list[dict[str, object]] = []
    held = 0
    for batch in _keys(connection):
        for row_id, key in batch:
            data = _path(root, key).read_bytes()
            pending.append({"document_id": row_id, "data": data})
            held += len(data)
            if held >= BATCH_BYTES:
                connection.execute(sa.insert(_blobs), pending)
                pending, held = [], 0
        if pending:
            connection.execute(sa.insert(_blobs), pending)
            pending, held = [], 0


def upgrade() -> None:
    """Upgrade schema."""
    connection = op.get_bind()
    root = upload_dir()
    _check_every_file(connection, root)  # before any change: SQLite may not roll back DDL
    if "document_blobs" in sa.inspect(connection).get_table_names():
        # A run on SQLite that stopped midway (its CREATE TABLE was not rolled back): start that step again.
        op.drop_table('document_blobs')
    op.create_table('document_blobs',
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_blobs_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_document_blobs'))
    )
    _copy_files(connection, root)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('storage_key')


def _write_private(path: Path, data: bytes) -> None:
    """As the previous version wrote uploads: owner-only directory and file, complete or absent."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "xb") as fh:
        fh.write(data)
    tmp.chmod(0o600)
    tmp.replace(path)


def downgrade() -> None:
    """Downgrade schema."""
    connection = op.get_bind()
    root = upload_dir()
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_key', sa.String(length=80), nullable=True))
    content_types = sa.table("documents", sa.column("id", sa.BigInteger()), sa.column("content_type", sa.String(16)))
    after = 0
    while True:
        rows = connection.execute(
            sa.select(_blobs.c.document_id, _blobs.c.data, content_types.c.content_type)
            .join(content_types, content_types.c.id == _blobs.c.document_id)
            .where(_blobs.c.document_id > after)
            .order_by(_blobs.c.document_id)
            .limit(BATCH_ROWS)
        ).all()
        if not rows:
            break
        for row_id, data, content_type in rows:
            name = secrets.token_hex(16)
            key = f"{name[:2]}/{name}{'.png' if content_type == 'image/png' else '.jpg'}"
            _write_private(root / key, bytes(data))
            connection.execute(sa.update(_documents).where(_documents.c.id == row_id).values(storage_key=key))
        after = int(rows[-1][0])
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('storage_key', existing_type=sa.String(length=80), nullable=False)
    op.drop_table('document_blobs')
