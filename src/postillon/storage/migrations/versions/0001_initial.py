"""Initial schema: accounts, messages, message_tags, recipients, attempts, events, suppressions.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29

Self-contained on purpose (it does not import schema.py): later changes to the metadata go in
new revisions and must not rewrite this one. A test checks that the revisions and schema.py
agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(40)
_ADDRESS = sa.String(320)
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "accounts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "messages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("mail_from", _ADDRESS, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("header_message_id", sa.Text(), nullable=False),
        sa.Column("from_header", sa.Text(), nullable=False),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("metadata", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("scheduled_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_messages_account_id_accounts"
        ),
    )
    op.create_index("ix_messages_account_id_id", "messages", ["account_id", "id"])
    op.create_table(
        "message_tags",
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("tag", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "tag", name="pk_message_tags"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_tags_message_id_messages",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_message_tags_tag_message_id", "message_tags", ["tag", "message_id"])
    op.create_table(
        "recipients",
        sa.Column("id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("address", _ADDRESS, nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", _TIME, nullable=True),
        sa.Column("last_reply_code", sa.Integer(), nullable=True),
        sa.Column("last_enhanced_code", sa.String(20), nullable=True),
        sa.Column("last_reply_text", sa.Text(), nullable=True),
        sa.Column("bounce_class", sa.String(40), nullable=True),
        sa.Column("possible_duplicate", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recipients"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_recipients_message_id_messages",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_recipients_status_next_attempt_at", "recipients", ["status", "next_attempt_at"]
    )
    op.create_index("ix_recipients_domain", "recipients", ["domain"])
    op.create_index("ix_recipients_message_id", "recipients", ["message_id"])
    op.create_index("ix_recipients_address", "recipients", ["address"])
    op.create_table(
        "attempts",
        sa.Column("id", _SEQ, autoincrement=True, nullable=False),
        sa.Column("recipient_id", _ID, nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("mx_host", sa.String(255), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("tls_used", sa.Boolean(), nullable=False),
        sa.Column("tls_version", sa.String(40), nullable=True),
        sa.Column("tls_cipher", sa.String(200), nullable=True),
        sa.Column("tls_verified", sa.Boolean(), nullable=True),
        sa.Column("tls_reason", sa.Text(), nullable=True),
        sa.Column("mta_sts_mode", sa.String(20), nullable=True),
        sa.Column("mta_sts_policy_id", sa.String(200), nullable=True),
        sa.Column("reply_code", sa.Integer(), nullable=True),
        sa.Column("enhanced_code", sa.String(20), nullable=True),
        sa.Column("reply_text", sa.Text(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name="fk_attempts_recipient_id_recipients",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_attempts_recipient_id_id", "attempts", ["recipient_id", "id"])
    op.create_table(
        "events",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=True),
        sa.Column("recipient_id", _ID, nullable=True),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("dispatched_at", _TIME, nullable=True),
        sa.Column("dispatch_owner", sa.String(200), nullable=True),
        sa.Column("dispatch_until", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.UniqueConstraint("id", name="uq_events_id"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_events_account_id_accounts"
        ),
    )
    op.create_index("ix_events_dispatched_at_seq", "events", ["dispatched_at", "seq"])
    op.create_index("ix_events_account_id_seq", "events", ["account_id", "seq"])
    op.create_index("ix_events_message_id_seq", "events", ["message_id", "seq"])
    op.create_table(
        "suppressions",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("address", _ADDRESS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_message_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "address", name="pk_suppressions"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_suppressions_account_id_accounts"
        ),
    )


def downgrade() -> None:
    """Drop everything (children first)."""
    for table in (
        "suppressions",
        "events",
        "attempts",
        "recipients",
        "message_tags",
        "messages",
        "accounts",
    ):
        op.drop_table(table)
