"""The same queries and revisions for SQLite and PostgreSQL, checked without a PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from postillon.storage.claims import due_query
from postillon.storage.connect import async_url
from postillon.storage.errors import StorageError
from postillon.storage.migrate import offline_sql
from postillon.storage.schema import metadata

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_claim_locks_and_skips_locked_rows_on_postgresql() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    sql = str(due_query(NOW, 10).compile(dialect=dialect))

    assert sql.rstrip().endswith("FOR UPDATE SKIP LOCKED")


def test_the_claim_renders_no_row_lock_on_sqlite() -> None:
    sql = str(due_query(NOW, 10).compile(dialect=sqlite.dialect()))

    assert "FOR UPDATE" not in sql


def test_the_revisions_render_postgresql_ddl_for_every_table() -> None:
    ddl = offline_sql("postgresql")

    for table in metadata.sorted_tables:
        assert f"CREATE TABLE {table.name} (" in ddl
    assert "body BYTEA NOT NULL" in ddl
    assert "payload JSONB NOT NULL" in ddl
    assert "seq BIGSERIAL NOT NULL" in ddl
    assert "next_attempt_at TIMESTAMP WITH TIME ZONE" in ddl


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("sqlite:///var/q.db", "sqlite+aiosqlite:///var/q.db", id="sqlite"),
        pytest.param(
            "postgresql://u:p@127.0.0.1:5432/postillon",
            "postgresql+psycopg://u:p@127.0.0.1:5432/postillon",
            id="postgresql",
        ),
        pytest.param(
            "postgresql+asyncpg://127.0.0.1/p", "postgresql+asyncpg://127.0.0.1/p", id="explicit"
        ),
    ],
)
def test_urls_get_an_async_driver(url: str, expected: str) -> None:
    assert async_url(url) == expected


def test_an_unsupported_database_is_a_named_error() -> None:
    with pytest.raises(StorageError, match="mysql"):
        async_url("mysql://localhost/db")
