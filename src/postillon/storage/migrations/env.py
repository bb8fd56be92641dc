"""Alembic environment: runs revisions on the connection :func:`postillon.storage.migrate`
passes in (no alembic.ini, no URL of its own), or renders them as SQL for a named dialect
(offline mode). Batch mode on SQLite, whose ALTER TABLE is weak.
"""

from __future__ import annotations

from alembic import context

from postillon.storage.schema import metadata

if context.is_offline_mode():
    _dialect = context.config.attributes["dialect_name"]
    context.configure(
        dialect_name=_dialect,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=_dialect == "sqlite",
    )
else:
    _connection = context.config.attributes["connection"]
    context.configure(
        connection=_connection,
        target_metadata=metadata,
        render_as_batch=_connection.dialect.name == "sqlite",
    )
with context.begin_transaction():
    context.run_migrations()
