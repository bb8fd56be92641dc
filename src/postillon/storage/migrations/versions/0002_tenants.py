"""Accounts' API keys, sender domains and their DKIM keys, idempotency keys.

Revision ID: 0002_tenants
Revises: 0001_initial
Create Date: 2026-11-29

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_tenants"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(40)
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "api_keys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(20), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_used_at", _TIME, nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_api_keys_account_id_accounts"
        ),
        sa.UniqueConstraint("digest", name="uq_api_keys_digest"),
    )
    op.create_index("ix_api_keys_account_id_id", "api_keys", ["account_id", "id"])
    op.create_table(
        "sender_domains",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("verified_at", _TIME, nullable=True),
        sa.Column("last_checked_at", _TIME, nullable=True),
        sa.Column("check_results", _JSON, nullable=False),
        sa.Column("dmarc_policy", sa.String(20), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sender_domains"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_sender_domains_account_id_accounts"
        ),
        sa.UniqueConstraint("account_id", "name", name="uq_sender_domains_account_id_name"),
    )
    op.create_index("ix_sender_domains_last_checked_at", "sender_domains", ["last_checked_at"])
    op.create_table(
        "dkim_keys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("domain_id", _ID, nullable=False),
        sa.Column("selector", sa.String(63), nullable=False),
        sa.Column("key_type", sa.String(20), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_record", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("activated_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dkim_keys"),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["sender_domains.id"],
            name="fk_dkim_keys_domain_id_sender_domains",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("domain_id", "selector", name="uq_dkim_keys_domain_id_selector"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=False),
        sa.Column("response", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_keys"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_idempotency_keys_account_id_accounts"
        ),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    """Drop the four tables (children first)."""
    for table in ("idempotency_keys", "dkim_keys", "sender_domains", "api_keys"):
        op.drop_table(table)
