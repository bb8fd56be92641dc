"""A partial index of the waiting recipients in claim order: ``(next_attempt_at, id) WHERE
status IN ('deferred', 'queued')``. The claim (storage/claims.py) reads the due end of it in
order and stops at its LIMIT, so a claim costs O(batch) however deep the queue; with only
``(status, next_attempt_at)`` it read and sorted every due recipient (two status ranges merged
by a temporary B-tree).

Revision ID: 0011_recipients_due
Revises: 0010_dane_tlsrpt
Create Date: 2026-12-05

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_recipients_due"
down_revision: str | None = "0010_dane_tlsrpt"
branch_labels: str | None = None
depends_on: str | None = None

_WAITING = sa.text("status IN ('deferred', 'queued')")


def upgrade() -> None:
    """Create ``ix_recipients_due``."""
    op.create_index(
        "ix_recipients_due",
        "recipients",
        ["next_attempt_at", "id"],
        sqlite_where=_WAITING,
        postgresql_where=_WAITING,
    )


def downgrade() -> None:
    """Drop ``ix_recipients_due``."""
    op.drop_index("ix_recipients_due", table_name="recipients")
