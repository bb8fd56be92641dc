"""MTA-STS policies kept across restarts, one row per recipient domain (RFC 8461 §5.1).

Revision ID: 0004_mta_sts
Revises: 0003_webhooks
Create Date: 2026-11-29

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_mta_sts"
down_revision: str | None = "0003_webhooks"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``mta_sts_policies``."""
    op.create_table(
        "mta_sts_policies",
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("policy_id", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("mx", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("max_age_s", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_mta_sts_policies")),
    )


def downgrade() -> None:
    """Drop ``mta_sts_policies``."""
    op.drop_table("mta_sts_policies")
