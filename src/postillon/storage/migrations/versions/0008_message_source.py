"""Where each message came in: ``messages.source`` ("api" or "smtp") and the prefix of the API
key that sent it (``api_key_prefix``, the part listings show; never the key).

Revision ID: 0008_message_source
Revises: 0007_session_ends
Create Date: 2026-12-05

Self-contained like 0001 (it does not import schema.py). Rows written before it came from the
API, so ``source`` defaults to "api".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_message_source"
down_revision: str | None = "0007_session_ends"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``messages.source`` and ``messages.api_key_prefix``."""
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="api"))
        batch.add_column(sa.Column("api_key_prefix", sa.String(16), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("api_key_prefix")
        batch.drop_column("source")
