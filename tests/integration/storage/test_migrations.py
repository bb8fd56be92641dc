"""Migrations: applied at startup, idempotent, and in agreement with schema.py."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from postillon.storage import SqlStore
from postillon.storage.migrate import current_revision, head_revision
from postillon.storage.schema import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrate_twice_reaches_the_head_revision(store: SqlStore) -> None:
    await store.migrate()

    assert head_revision() is not None
    assert await current_revision(store.writer) == head_revision()


async def test_the_migrated_schema_matches_the_metadata(store: SqlStore) -> None:
    async with store.writer.connect() as connection:
        differences = await connection.run_sync(_differences)

    assert differences == []


async def test_sqlite_runs_durable_settings(store: SqlStore) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite pragmas (PostgreSQL: test_postgres.py)")
    async with store.writer.connect() as connection:
        values = {
            pragma: (await connection.exec_driver_sql(f"PRAGMA {pragma}")).scalar()
            for pragma in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }

    assert values == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }
