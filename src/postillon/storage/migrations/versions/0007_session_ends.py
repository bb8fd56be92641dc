"""``sessions_ended_at`` on ``dashboard_users`` and ``api_keys``: signing out of the dashboard
ends every session of that user or key issued before it, so a stolen session cookie dies with
the sign-out (the cookie itself is only signed, not stored). Dashboard user emails become
unique per account instead of across accounts: one tenant can neither probe nor squat another
company's address.

Revision ID: 0007_session_ends
Revises: 0006_attempts_started_at
Create Date: 2026-12-05

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_session_ends"
down_revision: str | None = "0006_attempts_started_at"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the nullable ``sessions_ended_at`` columns."""
    for table in ("dashboard_users", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("sessions_ended_at", _TIME, nullable=True))
    with op.batch_alter_table("dashboard_users") as batch:
        batch.drop_constraint("uq_dashboard_users_email", type_="unique")
        batch.create_unique_constraint(
            "uq_dashboard_users_account_id_email", ["account_id", "email"]
        )


def downgrade() -> None:
    """Drop them (the emails must be unique across accounts again)."""
    with op.batch_alter_table("dashboard_users") as batch:
        batch.drop_constraint("uq_dashboard_users_account_id_email", type_="unique")
        batch.create_unique_constraint("uq_dashboard_users_email", ["email"])
    for table in ("dashboard_users", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("sessions_ended_at")
