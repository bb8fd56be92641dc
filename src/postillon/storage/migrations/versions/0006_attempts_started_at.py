"""An index on ``attempts.started_at``: the overview's statistics read the attempts of a time
window as a range scan instead of reading every attempt (see storage/stats_sql.py).

Revision ID: 0006_attempts_started_at
Revises: 0005_dashboard_users
Create Date: 2026-12-04

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

from alembic import op

revision = "0006_attempts_started_at"
down_revision: str | None = "0005_dashboard_users"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``ix_attempts_started_at``."""
    op.create_index(op.f("ix_attempts_started_at"), "attempts", ["started_at"])


def downgrade() -> None:
    """Drop ``ix_attempts_started_at``."""
    op.drop_index(op.f("ix_attempts_started_at"), table_name="attempts")
