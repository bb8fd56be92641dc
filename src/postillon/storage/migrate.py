"""Schema migrations, applied programmatically at startup (``await store.migrate()``).

Owns running alembic against our own connection: the revisions live in migrations/versions/,
one history for SQLite and PostgreSQL. The upgrade runs inside one write transaction (DDL is
transactional on both databases), so a crash mid-migration leaves the old schema.
It must not change the schema any other way.
"""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Several nodes may start at once on one PostgreSQL database: the first to take this
# transaction-scoped advisory lock migrates, the others wait and then find nothing to do.
# (On SQLite the writer's BEGIN IMMEDIATE serialises migrations already.)
_PG_MIGRATION_LOCK = 0x706F7374  # "post"


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
    command.upgrade(_config(connection), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Apply every revision not yet applied (nothing when the schema is current)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def offline_sql(dialect_name: str) -> str:
    """The DDL the revisions would run on ``dialect_name`` (``sqlite``, ``postgresql``), as text.

    For review and for DBAs who apply migrations by hand; needs no database.
    """
    output = io.StringIO()
    config = Config(output_buffer=output)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["dialect_name"] = dialect_name
    command.upgrade(config, "head", sql=True)
    return output.getvalue()


def head_revision() -> str | None:
    """The newest revision shipped with this version of postillon."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
