"""Reports received by mail (bounces, delays, complaints, auto-replies, unmatched),
suppressions with a reason from a fixed set plus a free-text detail, and a sender domain's
one-click unsubscribe default.

Revision ID: 0009_inbound_reports
Revises: 0008_message_source
Create Date: 2026-12-05

Suppression reasons were free text (the bounce's reply); they become ``bounce``,
``complaint``, ``unsubscribe`` or ``manual``, the old text moving to ``detail``.
Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_inbound_reports"
down_revision: str | None = "0008_message_source"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(40)
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``inbound_reports``; add ``suppressions.detail`` and move free-text reasons."""
    op.create_table(
        "inbound_reports",
        sa.Column("id", _ID, nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("message_id", _ID, nullable=True),
        sa.Column("mail_from", sa.String(320), nullable=False),
        sa.Column("rcpt_to", sa.String(320), nullable=False),
        sa.Column("peer", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("shape", sa.String(40), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("summary", _JSON, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("head", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_reports"),
    )
    op.create_index(
        "ix_inbound_reports_account_id_received_at",
        "inbound_reports",
        ["account_id", "received_at"],
    )
    op.create_index("ix_inbound_reports_message_id_id", "inbound_reports", ["message_id", "id"])
    op.create_index("ix_inbound_reports_matched_id", "inbound_reports", ["matched", "id"])
    op.add_column("suppressions", sa.Column("detail", sa.Text(), nullable=True))
    op.add_column(
        "sender_domains",
        sa.Column("unsubscribe_default", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE suppressions SET detail = reason, reason = 'bounce' "
        "WHERE reason NOT IN ('bounce', 'complaint', 'unsubscribe', 'manual')"
    )


def downgrade() -> None:
    """Drop ``inbound_reports`` and ``suppressions.detail`` (bounce details back as reasons)."""
    op.execute(
        "UPDATE suppressions SET reason = detail WHERE reason = 'bounce' AND detail IS NOT NULL"
    )
    with op.batch_alter_table("suppressions") as batch:
        batch.drop_column("detail")
    with op.batch_alter_table("sender_domains") as batch:
        batch.drop_column("unsubscribe_default")
    op.drop_index("ix_inbound_reports_matched_id", table_name="inbound_reports")
    op.drop_index("ix_inbound_reports_message_id_id", table_name="inbound_reports")
    op.drop_index("ix_inbound_reports_account_id_received_at", table_name="inbound_reports")
    op.drop_table("inbound_reports")
