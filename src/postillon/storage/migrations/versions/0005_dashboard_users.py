"""People who sign in to the dashboard with an email and an argon2id-hashed password.

Revision ID: 0005_dashboard_users
Revises: 0004_mta_sts
Create Date: 2026-11-30

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dashboard_users"
down_revision: str | None = "0004_mta_sts"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(40)
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``dashboard_users`` and its per-account index."""
    op.create_table(
        "dashboard_users",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("password_changed_at", _TIME, nullable=False),
        sa.Column("last_sign_in_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dashboard_users"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_dashboard_users_account_id_accounts"
        ),
        sa.UniqueConstraint("email", name="uq_dashboard_users_email"),
    )
    op.create_index(
        "ix_dashboard_users_account_id_email", "dashboard_users", ["account_id", "email"]
    )


def downgrade() -> None:
    """Drop ``dashboard_users``."""
    op.drop_index("ix_dashboard_users_account_id_email", table_name="dashboard_users")
    op.drop_table("dashboard_users")
