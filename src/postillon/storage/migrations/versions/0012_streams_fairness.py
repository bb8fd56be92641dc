"""Message streams and fair claiming: ``messages.stream``, and on each recipient its
``account_id`` and ``stream_rank`` (copied from its message, so a claim reads one index), with
``ix_recipients_fair`` ``(account_id, stream_rank, next_attempt_at, id) WHERE status IN
('deferred', 'queued')``: a claim finds the accounts with waiting mail by skipping through it,
then reads each account's due end per rank and stops at its share (storage/claims.py).

Existing mail is transactional (rank 0) and takes its message's account.

Revision ID: 0012_streams_fairness
Revises: 0011_recipients_due
Create Date: 2026-12-05

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_streams_fairness"
down_revision: str | None = "0011_recipients_due"
branch_labels: str | None = None
depends_on: str | None = None

_WAITING = sa.text("status IN ('deferred', 'queued')")


def upgrade() -> None:
    """Add the columns, copy each message's account to its recipients, create the index."""
    op.add_column(
        "messages",
        sa.Column("stream", sa.String(20), nullable=False, server_default="transactional"),
    )
    op.add_column(
        "recipients",
        sa.Column("account_id", sa.String(40), nullable=False, server_default=""),
    )
    op.add_column(
        "recipients",
        sa.Column("stream_rank", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE recipients SET account_id = "
        "(SELECT messages.account_id FROM messages WHERE messages.id = recipients.message_id)"
    )
    op.create_index(
        "ix_recipients_fair",
        "recipients",
        ["account_id", "stream_rank", "next_attempt_at", "id"],
        sqlite_where=_WAITING,
        postgresql_where=_WAITING,
    )


def downgrade() -> None:
    """Drop the index and the columns."""
    op.drop_index("ix_recipients_fair", table_name="recipients")
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("stream_rank")
        batch.drop_column("account_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("stream")
