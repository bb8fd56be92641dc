"""Transport security per attempt (DANE) and TLS-RPT counts (RFC 8460).

``attempts`` gains the policy that applied (``dane``, ``mta-sts-enforce``, ``mta-sts-testing``,
``opportunistic``), the TLSA record that authenticated the server (usage selector matching), why
a session was refused and its RFC 8460 result type. ``tlsrpt_counts`` holds session counts per
UTC day, policy domain, policy, MX host, result type, receiving IP and node (each node adds to
its own rows, so nodes never wait on each other's row locks), incremented in the
transaction that records the attempt (so a restart or a second node neither loses nor doubles
one); ``tlsrpt_reports`` has one row per day and policy domain, claimed by the node that sends
that report.

Revision ID: 0010_dane_tlsrpt
Revises: 0009_inbound_reports
Create Date: 2026-12-05

Self-contained like 0001 (it does not import schema.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_dane_tlsrpt"
down_revision: str | None = "0009_inbound_reports"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the attempt columns and create the TLS-RPT tables."""
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("tls_policy", sa.String(20), nullable=True))
        batch.add_column(sa.Column("dane_tlsa", sa.String(20), nullable=True))
        batch.add_column(sa.Column("tls_refusal", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tls_result", sa.String(40), nullable=True))
    op.create_table(
        "tlsrpt_counts",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("policy_domain", sa.String(253), nullable=False),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column("mx_host", sa.String(255), nullable=False),
        sa.Column("result_type", sa.String(40), nullable=False),
        sa.Column("receiving_ip", sa.String(64), nullable=False),
        sa.Column("node", sa.String(200), nullable=False),
        sa.Column("policy_type", sa.String(20), nullable=False),
        sa.Column("policy_strings", sa.Text(), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "policy_domain",
            "policy_key",
            "mx_host",
            "result_type",
            "receiving_ip",
            "node",
            name=op.f("pk_tlsrpt_counts"),
        ),
    )
    op.create_table(
        "tlsrpt_reports",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("policy_domain", sa.String(253), nullable=False),
        sa.Column("report_id", sa.String(200), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("day", "policy_domain", name=op.f("pk_tlsrpt_reports")),
    )


def downgrade() -> None:
    """Drop the TLS-RPT tables and the attempt columns."""
    op.drop_table("tlsrpt_reports")
    op.drop_table("tlsrpt_counts")
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("tls_result")
        batch.drop_column("tls_refusal")
        batch.drop_column("dane_tlsa")
        batch.drop_column("tls_policy")
