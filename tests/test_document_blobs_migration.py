"""Migration 0023 (ORG-3): documents uploaded under 0022 (a file under UPLOAD_DIR and a row naming it) move into
`document_blobs` and read back through the API; a missing file stops the upgrade before anything changes; the
downgrade writes the bytes back to files. On both engines (the worker's PostgreSQL test database is always
brought back to head)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import secrets
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from PIL import Image
from sqlalchemy import func, select, text
from strawberry import relay

import cli
from models import Base
from models.base import UTCDateTime
from models.documents import DocumentBlob
from schema.types.documents import TYPE_NAME
from services.database import Database
from settings import Settings
from tests.helpers import registered_and_signed_in

_OLD_DOCUMENTS = sa.table(
    "documents",
    sa.column("id", sa.BigInteger()),
    sa.column("public_id", sa.String()),
    sa.column("account_id", sa.BigInteger()),
    sa.column("filename", sa.String()),
    sa.column("content_type", sa.String()),
    sa.column("size", sa.Integer()),
    sa.column("width", sa.Integer()),
    sa.column("height", sa.Integer()),
    sa.column("sha256", sa.String()),
    sa.column("storage_key", sa.String()),
    sa.column("created_at", UTCDateTime()),
)


def _alembic(settings: Settings, action: str, revision: str) -> None:
    cfg = Config(str(cli.HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(cli.HERE / "migrations"))
    cfg.attributes["database_url"] = settings.database_url
    cfg.attributes["configure_logger"] = False
    getattr(command, action)(cfg, revision)


async def _migrate(db: Database, settings: Settings, action: str, revision: str) -> None:
    await db.engine.dispose()  # no pooled connection holds the SQLite file while Alembic writes to it
    await asyncio.to_thread(_alembic, settings, action, revision)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 160, 90)).save(out, format="PNG")
    return out.getvalue()


async def _account_id(db: Database) -> int:
    async with db.read_sessions() as s:
        return int(await s.scalar(text("SELECT id FROM accounts")))


async def _insert_old_document(db: Database, account_id: int, data: bytes, storage_key: str) -> int:
    """A document as 0022 stored it: the row names a file under UPLOAD_DIR."""
    async with db.engine.begin() as conn:
        inserted = await conn.execute(
            sa.insert(_OLD_DOCUMENTS)
            .values(
                public_id="doc_" + secrets.token_urlsafe(18),
                account_id=account_id,
                filename="licence.png",
                content_type="image/png",
                size=len(data),
                width=40,
                height=30,
                sha256=hashlib.sha256(data).hexdigest(),
                storage_key=storage_key,
                created_at=datetime(2026, 11, 26, 2, tzinfo=UTC),
            )
            .returning(_OLD_DOCUMENTS.c.id)
        )
        return int(inserted.scalar_one())


def _old_file(root: Path, data: bytes) -> str:
    name = secrets.token_hex(16)
    key = f"{name[:2]}/{name}.png"
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(data)
    return key


async def _columns(db: Database, table: str) -> list[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: [col["name"] for col in sa.inspect(c).get_columns(table)])


async def _tables(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: sa.inspect(c).get_table_names())


async def test_org_3_migration_0023_moves_uploaded_files_into_the_database(
    client: httpx.AsyncClient, db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account, and the database at 0022 with a document stored the 0022 way (file + row)
    token = await registered_and_signed_in(client)
    account_id = await _account_id(db)
    uploads = tmp_path / "var-uploads"
    monkeypatch.setenv("UPLOAD_DIR", str(uploads))
    data = _png()
    try:
        await _migrate(db, settings, "downgrade", "0022")
        assert "storage_key" in await _columns(db, "documents")
        document_id = await _insert_old_document(db, account_id, data, _old_file(uploads, data))
    finally:
        # When the database is upgraded (always, so that the PostgreSQL test database stays at head)
        await _migrate(db, settings, "upgrade", "head")
    # Then the document reads back through the API, byte for byte
    upload = relay.to_base64(TYPE_NAME, document_id)
    fetched = await client.get(f"/uploads/{upload}", headers={"authorization": f"Bearer {token}"})
    assert fetched.status_code == 200, fetched.text
    assert (fetched.content, fetched.headers["content-type"]) == (data, "image/png")
    # And its bytes are a blob row, the column naming the file is gone, and the file was left on disk
    async with db.read_sessions() as s:
        assert await s.scalar(select(DocumentBlob.data).where(DocumentBlob.document_id == document_id)) == data
    assert "storage_key" not in await _columns(db, "documents")
    assert [p.read_bytes() for p in uploads.rglob("*.png")] == [data]

    # And a downgrade writes the bytes back to a file the row names (under a new name), then the upgrade reads it
    try:
        await _migrate(db, settings, "downgrade", "0022")
        async with db.engine.connect() as conn:
            key = (await conn.execute(text("SELECT storage_key FROM documents"))).scalar_one()
        assert (uploads / key).read_bytes() == data
        assert "document_blobs" not in await _tables(db)
    finally:
        await _migrate(db, settings, "upgrade", "head")
    fetched = await client.get(f"/uploads/{upload}", headers={"authorization": f"Bearer {token}"})
    assert fetched.content == data


async def test_org_3_migration_0023_stops_before_any_change_when_a_file_is_missing(
    client: httpx.AsyncClient, db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the database at 0022 with two documents, one of whose files is not in UPLOAD_DIR
    await registered_and_signed_in(client)
    account_id = await _account_id(db)
    uploads = tmp_path / "var-uploads"
    monkeypatch.setenv("UPLOAD_DIR", str(uploads))
    data = _png()
    try:
        await _migrate(db, settings, "downgrade", "0022")
        await _insert_old_document(db, account_id, data, _old_file(uploads, data))
        lost_key = "ab/" + "ab" * 16 + ".png"
        lost = await _insert_old_document(db, account_id, data, lost_key)
        # When the upgrade runs
        with pytest.raises(Exception, match="1 uploaded document") as failed:
            await _migrate(db, settings, "upgrade", "head")
        # Then it names how many, which rows, where it looked and how to proceed (never the file's name)
        message = str(failed.value)
        assert f"document row IDs {lost}" in message
        assert str(uploads) in message
        assert "UPLOAD_DIR" in message
        assert "account-center migrate" in message
        assert lost_key not in message
        # And nothing changed: still at 0022, the column in place, no blob table
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == "0022"
        assert "storage_key" in await _columns(db, "documents")
        assert "document_blobs" not in await _tables(db)
        # And once the file is restored, the upgrade goes through
        (uploads / lost_key).parent.mkdir(parents=True, exist_ok=True)
        (uploads / lost_key).write_bytes(data)
    finally:
        await _migrate(db, settings, "upgrade", "head")
    async with db.read_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(DocumentBlob)) == 2


async def test_org_3_migration_0023_starts_again_after_a_run_that_stopped_while_copying(
    client: httpx.AsyncClient, db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the database at 0022 with a document, and the incomplete blob table a stopped run left on SQLite
    # (its CREATE TABLE is not rolled back there), holding nothing of the document
    token = await registered_and_signed_in(client)
    account_id = await _account_id(db)
    uploads = tmp_path / "var-uploads"
    monkeypatch.setenv("UPLOAD_DIR", str(uploads))
    data = _png()
    try:
        await _migrate(db, settings, "downgrade", "0022")
        document_id = await _insert_old_document(db, account_id, data, _old_file(uploads, data))
        leftover = sa.Table("document_blobs", sa.MetaData(), sa.Column("document_id", sa.BigInteger, primary_key=True))
        async with db.engine.begin() as conn:
            await conn.run_sync(leftover.create)
    finally:
        # When the upgrade runs again
        await _migrate(db, settings, "upgrade", "head")
    # Then it goes through: the table is the models' (no drift), and the document reads back
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert diff == []
    upload = relay.to_base64(TYPE_NAME, document_id)
    fetched = await client.get(f"/uploads/{upload}", headers={"authorization": f"Bearer {token}"})
    assert fetched.content == data
