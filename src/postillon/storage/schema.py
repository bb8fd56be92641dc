"""The tables, as SQLAlchemy Core metadata, portable between SQLite and PostgreSQL.

Owns the shape of the data; the alembic revisions under migrations/ create it (a test compares
the two). Only portable types: text ids, ``UtcDateTime`` (aware UTC in and out; TIMESTAMPTZ on
PostgreSQL), JSON (JSONB on PostgreSQL), LargeBinary (BYTEA), integer sequences.
It must not hold queries (see the store modules).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

# Long enough for any RFC 5321 path (256 octets) with room; VARCHAR length is a check on PG only.
ADDRESS_LENGTH = 320
ID_LENGTH = 40  # 26-character ids, with room for a prefix


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; stored naive-UTC on SQLite, TIMESTAMPTZ on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC time")
        utc = value.astimezone(UTC)
        # SQLite compares times as text: one offset-free form keeps the order right.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants 64 bits.
Sequence64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("mail_from", sa.String(ADDRESS_LENGTH), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),  # the signed bytes, stored once
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("subject", sa.Text(), nullable=False),
    sa.Column("header_message_id", sa.Text(), nullable=False),
    sa.Column("from_header", sa.Text(), nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("scheduled_at", UtcDateTime(), nullable=True),
    # transactional | broadcast (queue/stream.py; 0012)
    sa.Column("stream", sa.String(20), nullable=False, server_default="transactional"),
    # Which door took the message ("api", "smtp") and the shown prefix of the key it used.
    sa.Column("source", sa.String(16), nullable=False, server_default="api"),
    sa.Column("api_key_prefix", sa.String(16), nullable=True),
    sa.Index(None, "account_id", "id"),
)

# One row per (message, tag): tag filters stay portable SQL (no JSON operators).
message_tags = sa.Table(
    "message_tags",
    metadata,
    sa.Column(
        "message_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tag", sa.String(200), primary_key=True),
    sa.Index(None, "tag", "message_id"),
)

recipients = sa.Table(
    "recipients",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column(
        "message_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("address", sa.String(ADDRESS_LENGTH), nullable=False),
    sa.Column("domain", sa.String(255), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("last_reply_code", sa.Integer(), nullable=True),
    sa.Column("last_enhanced_code", sa.String(20), nullable=True),
    sa.Column("last_reply_text", sa.Text(), nullable=True),
    sa.Column("bounce_class", sa.String(40), nullable=True),
    sa.Column("possible_duplicate", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # The message's account and its stream's rank, copied here so a fair claim reads one
    # index per account (storage/claims.py; 0012).
    sa.Column("account_id", sa.String(ID_LENGTH), nullable=False, server_default=""),
    sa.Column("stream_rank", sa.Integer(), nullable=False, server_default="0"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "domain"),
    sa.Index(None, "message_id"),
    sa.Index(None, "address"),
    # The waiting recipients in claim order: a claim reads the due end and stops at its LIMIT
    # (storage/claims.py; migration 0011). The claim's status test must be these literals.
    sa.Index(
        "ix_recipients_due",
        "next_attempt_at",
        "id",
        sqlite_where=sa.text("status IN ('deferred', 'queued')"),
        postgresql_where=sa.text("status IN ('deferred', 'queued')"),
    ),
    # The same, per account and stream rank: the fair claim's turns (storage/claims.py; 0012).
    sa.Index(
        "ix_recipients_fair",
        "account_id",
        "stream_rank",
        "next_attempt_at",
        "id",
        sqlite_where=sa.text("status IN ('deferred', 'queued')"),
        postgresql_where=sa.text("status IN ('deferred', 'queued')"),
    ),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", Sequence64, primary_key=True, autoincrement=True),
    sa.Column(
        "recipient_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("recipients.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("started_at", UtcDateTime(), nullable=False),
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
    # The transport-security policy that applied, the TLSA record that matched, why a session
    # was refused (0010).
    sa.Column("tls_policy", sa.String(20), nullable=True),
    sa.Column("dane_tlsa", sa.String(20), nullable=True),
    sa.Column("tls_refusal", sa.Text(), nullable=True),
    sa.Column("tls_result", sa.String(40), nullable=True),  # RFC 8460 result type, if failed
    sa.Index(None, "recipient_id", "id"),
    sa.Index(None, "started_at"),  # the overview's time windows (0006)
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", Sequence64, primary_key=True, autoincrement=True),  # causal order
    sa.Column("id", sa.String(ID_LENGTH), nullable=False, unique=True),  # the webhook-id
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("message_id", sa.String(ID_LENGTH), nullable=True),  # no FK: events outlive it
    sa.Column("recipient_id", sa.String(ID_LENGTH), nullable=True),
    sa.Column("type", sa.String(60), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("dispatched_at", UtcDateTime(), nullable=True),
    sa.Column("dispatch_owner", sa.String(200), nullable=True),
    sa.Column("dispatch_until", UtcDateTime(), nullable=True),
    sa.Index(None, "dispatched_at", "seq"),
    sa.Index(None, "account_id", "seq"),
    sa.Index(None, "message_id", "seq"),
)

suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("address", sa.String(ADDRESS_LENGTH), nullable=False),  # lower case
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("source_message_id", sa.String(ID_LENGTH), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=True),  # the bounce reply, the feedback type (0009)
    sa.PrimaryKeyConstraint("account_id", "address"),
)

# -- Accounts' API keys, sender domains and their DKIM keys, idempotency keys (0002) -----------

DIGEST_LENGTH = 64  # hex SHA-256
DOMAIN_LENGTH = 255  # RFC 1035 §2.3.4
IDEMPOTENCY_KEY_LENGTH = 255

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("digest", sa.String(DIGEST_LENGTH), nullable=False, unique=True),
    sa.Column("prefix", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_used_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    # Dashboard sessions of this key issued before it are ended (sign-out; 0007).
    sa.Column("sessions_ended_at", UtcDateTime(), nullable=True),
    sa.Index(None, "account_id", "id"),
)

sender_domains = sa.Table(
    "sender_domains",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(DOMAIN_LENGTH), nullable=False),  # A-labels, lower case
    sa.Column("status", sa.String(20), nullable=False),  # pending | verified | failed
    sa.Column("verified_at", UtcDateTime(), nullable=True),
    sa.Column("last_checked_at", UtcDateTime(), nullable=True),
    sa.Column("check_results", Json, nullable=False),  # the last check, record by record
    sa.Column("dmarc_policy", sa.String(20), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # Add one-click unsubscribe to single-recipient mail from this domain unless asked not (0009).
    sa.Column("unsubscribe_default", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("account_id", "name"),
    sa.Index(None, "last_checked_at"),
)

dkim_keys = sa.Table(
    "dkim_keys",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column(
        "domain_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("sender_domains.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("selector", sa.String(63), nullable=False),
    sa.Column("key_type", sa.String(20), nullable=False),  # rsa | ed25519
    sa.Column("sealed_key", sa.LargeBinary(), nullable=False),  # AES-GCM under the master key
    sa.Column("key_record", sa.Text(), nullable=False),  # the TXT value to publish
    sa.Column("status", sa.String(20), nullable=False),  # pending | active | retired
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("activated_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("domain_id", "selector"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("key", sa.String(IDEMPOTENCY_KEY_LENGTH), nullable=False),
    sa.Column("fingerprint", sa.String(200), nullable=False),
    sa.Column("response", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("account_id", "key"),
    sa.Index(None, "created_at"),
)

# -- Webhook endpoints, per-endpoint delivery state, the delivery log (0003) ------------------

URL_LENGTH = 2048  # webhooks/urls.py refuses longer URLs

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("url", sa.String(URL_LENGTH), nullable=False),
    sa.Column("event_filter", Json, nullable=False),  # "*" or a list of event types
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("disabled_reason", sa.Text(), nullable=True),
    sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),  # AES-GCM, never plain
    sa.Column("sealed_previous_secret", sa.LargeBinary(), nullable=True),
    sa.Column("previous_until", UtcDateTime(), nullable=True),  # end of the rotation overlap
    sa.Column("failing_since", UtcDateTime(), nullable=True),
    sa.Column("consecutive_failures", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "account_id", "id"),
)

# One row per (endpoint, event): the retry state that survives restarts, leased while sending.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column(
        "endpoint_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("event_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("event_seq", Sequence64, nullable=False),  # the outbox order
    sa.Column("order_key", sa.String(ID_LENGTH), nullable=True),  # recipient id: causal chain
    sa.Column("state", sa.String(20), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "state", "next_attempt_at"),
    sa.Index(None, "endpoint_id", "order_key", "event_seq"),
)

# The delivery log: every attempt, as the customer sees it per endpoint.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", Sequence64, primary_key=True, autoincrement=True),
    sa.Column(
        "endpoint_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("event_type", sa.String(60), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("attempted_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.Integer(), nullable=True),  # HTTP status; None: no response
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("latency_ms", sa.Integer(), nullable=False),
    sa.Column("response_snippet", sa.Text(), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Index(None, "endpoint_id", "id"),
)

# MTA-STS policies per recipient domain (RFC 8461 §5.1); a policy id is 1 to 32
# alphanumerics (§3.1), a domain name at most 253 octets.
POLICY_ID_LENGTH = 32
DOMAIN_LENGTH = 253

mta_sts_policies = sa.Table(
    "mta_sts_policies",
    metadata,
    sa.Column("domain", sa.String(DOMAIN_LENGTH), primary_key=True),
    sa.Column("policy_id", sa.String(POLICY_ID_LENGTH), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("mx", Json, nullable=False),
    sa.Column("max_age_s", sa.Integer(), nullable=False),
    sa.Column("fetched_at", UtcDateTime(), nullable=False),
)

# -- People who sign in to the dashboard with an email and a password (0005) ------------------

# An argon2 PHC string is about 100 characters; room for stronger parameters.
PASSWORD_HASH_LENGTH = 255

dashboard_users = sa.Table(
    "dashboard_users",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("account_id", sa.String(ID_LENGTH), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("email", sa.String(ADDRESS_LENGTH), nullable=False),  # lower case
    sa.Column("password_hash", sa.String(PASSWORD_HASH_LENGTH), nullable=False),  # argon2id
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("password_changed_at", UtcDateTime(), nullable=False),
    sa.Column("last_sign_in_at", UtcDateTime(), nullable=True),
    # Sessions issued before it are ended (sign-out; 0007).
    sa.Column("sessions_ended_at", UtcDateTime(), nullable=True),
    sa.Index(None, "account_id", "email"),
    sa.UniqueConstraint("account_id", "email"),  # unique per account (0007), not across
)

# -- Reports received by mail on the return path (0009) --------------------------------------

# The head of a report kept for a person to read: its human and machine parts come first.
REPORT_HEAD_OCTETS = 64 * 1024

inbound_reports = sa.Table(
    "inbound_reports",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("account_id", sa.String(ID_LENGTH), nullable=True),  # None: matched no message
    sa.Column("message_id", sa.String(ID_LENGTH), nullable=True),  # no FK: reports outlive it
    sa.Column("mail_from", sa.String(ADDRESS_LENGTH), nullable=False),  # "" for <>
    sa.Column("rcpt_to", sa.String(ADDRESS_LENGTH), nullable=False),
    sa.Column("peer", sa.String(64), nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),  # reports.ReportKind
    sa.Column("shape", sa.String(40), nullable=False),
    sa.Column("matched", sa.Integer(), nullable=False),  # recipients it applied to
    sa.Column("summary", Json, nullable=False),  # what was read, and what it did
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("head", sa.LargeBinary(), nullable=False),  # first REPORT_HEAD_OCTETS
    sa.Index(None, "account_id", "received_at"),
    sa.Index(None, "message_id", "id"),
    sa.Index(None, "matched", "id"),
)

# TLS-RPT (RFC 8460) session counts per UTC day "YYYY-MM-DD" and policy domain (0010); the
# result type is "" for a successful session.
tlsrpt_counts = sa.Table(
    "tlsrpt_counts",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("policy_domain", sa.String(253), primary_key=True),
    sa.Column("policy_key", sa.String(64), primary_key=True),
    sa.Column("mx_host", sa.String(255), primary_key=True),
    sa.Column("result_type", sa.String(40), primary_key=True),
    sa.Column("receiving_ip", sa.String(64), primary_key=True),
    sa.Column("node", sa.String(200), primary_key=True),  # the lease owner that counted
    sa.Column("policy_type", sa.String(20), nullable=False),
    sa.Column("policy_strings", sa.Text(), nullable=False),  # JSON list
    sa.Column("sessions", sa.BigInteger(), nullable=False),
)

# One TLS-RPT report per day and policy domain, claimed by the node that sends it (0010).
tlsrpt_reports = sa.Table(
    "tlsrpt_reports",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("policy_domain", sa.String(253), primary_key=True),
    sa.Column("report_id", sa.String(200), nullable=False),
    sa.Column("claimed_by", sa.String(200), nullable=True),
    sa.Column("claimed_until", UtcDateTime(), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
)
