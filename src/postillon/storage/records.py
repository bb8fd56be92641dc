"""What goes into the store and what comes out: frozen records, no SQL.

Owns the shapes the Store protocol speaks in, so the engine, the API and the CLI never see a
row or a table. Times are timezone-aware UTC datetimes; ids are sortable text (see :mod:`.ids`).
It must not import SQLAlchemy or decide outcomes (queue/ does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postillon.queue.bounce import BounceClass
from postillon.queue.status import RecipientStatus
from postillon.queue.stream import DEFAULT_STREAM, Stream

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class Account:
    """A customer account; it owns messages, suppressions and events."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class NewRecipient:
    """One envelope recipient of a message being enqueued."""

    address: str

    @property
    def domain(self) -> str:
        """The destination domain (lower case), what the scheduler groups by."""
        return self.address.rpartition("@")[2].lower()


@dataclass(frozen=True)
class NewMessage:
    """A signed message and its recipients, ready to be stored once.

    ``body`` is the exact bytes every attempt sends (signed at ingest, never re-signed);
    ``subject``, ``header_message_id`` and ``from_header`` are a summary for listings.
    ``scheduled_at`` holds the first attempt until then (None: as soon as possible).
    """

    account_id: str
    mail_from: str
    recipients: tuple[NewRecipient, ...]
    body: bytes
    subject: str = ""
    header_message_id: str = ""
    from_header: str = ""
    tags: tuple[str, ...] = ()
    metadata: JsonObject = field(default_factory=dict)
    scheduled_at: datetime | None = None
    stream: Stream = DEFAULT_STREAM
    source: str = "api"  # the door it came in by: "api" or "smtp"
    api_key_prefix: str | None = None  # the shown prefix of the key that sent it


@dataclass(frozen=True)
class EnqueuedRecipient:
    """A stored recipient's id, address and first status (queued or suppressed)."""

    id: str
    address: str
    status: RecipientStatus


@dataclass(frozen=True)
class EnqueueResult:
    """The stored message's id and its recipients; returned only after the commit."""

    message_id: str
    created_at: datetime
    recipients: tuple[EnqueuedRecipient, ...]


@dataclass(frozen=True)
class ClaimedRecipient:
    """A leased recipient: its id, address and how many attempts it already had."""

    id: str
    address: str
    attempts: int


@dataclass(frozen=True)
class ClaimedJob:
    """One message with the leased recipients of one destination domain (one SMTP job)."""

    message_id: str
    account_id: str
    mail_from: str
    domain: str
    body: bytes
    created_at: datetime
    recipients: tuple[ClaimedRecipient, ...]
    lease_until: datetime
    stream_rank: int = 0  # its message's stream (queue/stream.py): 0 goes first
    scheduled_at: datetime | None = None

    @property
    def lifetime_start(self) -> datetime:
        """Where the queue lifetime counts from: the later of creation and schedule (a message
        scheduled days ahead has its whole lifetime after its first attempt is due)."""
        if self.scheduled_at is None:
            return self.created_at
        return max(self.created_at, self.scheduled_at)


@dataclass(frozen=True)
class AttemptRecord:
    """One try for one recipient, as the attempt log keeps it (all but the reply optional)."""

    started_at: datetime
    duration_ms: int
    reply_code: int | None = None
    enhanced_code: str | None = None
    reply_text: str = ""
    mx_host: str | None = None
    ip: str | None = None
    tls_used: bool = False
    tls_version: str | None = None
    tls_cipher: str | None = None
    tls_verified: bool | None = None
    tls_reason: str | None = None
    mta_sts_mode: str | None = None
    mta_sts_policy_id: str | None = None
    transcript: str | None = None
    tls_policy: str | None = None  # dane, mta-sts-enforce, mta-sts-testing, opportunistic
    dane_tlsa: str | None = None  # usage selector matching of the TLSA record that matched
    tls_refusal: str | None = None  # why the session was refused on transport-security grounds
    tls_result: str | None = None  # the RFC 8460 result type of a failed or non-compliant session


@dataclass(frozen=True)
class TlsRptSession:
    """One SMTP session as TLS reporting counts it (RFC 8460 §4.4), on a UTC ``day``.

    ``result_type`` is "" for a successful session; ``policy_strings`` are the policy's lines
    (MTA-STS) or records (TLSA), () for no-policy-found.
    """

    day: str
    policy_domain: str
    policy_type: str
    policy_strings: tuple[str, ...]
    mx_host: str
    result_type: str = ""
    receiving_ip: str = ""


@dataclass(frozen=True)
class RecipientOutcome:
    """What the engine decided for one leased recipient after one attempt.

    ``status`` comes from queue/ (outcome and retry rules); ``next_attempt_at`` is required for
    DEFERRED. ``attempt`` is None when nothing was tried (e.g. expired without a new try).
    """

    recipient_id: str
    status: RecipientStatus
    attempt: AttemptRecord | None
    next_attempt_at: datetime | None = None
    bounce_class: BounceClass | None = None
    possible_duplicate: bool = False
    suppress: bool = False  # add the address to the account's suppression list
    # The sessions this attempt ran (hosts refused on TLS grounds, then the last), counted for
    # TLS reporting in the same commit; set on one recipient per job (sessions carry the job).
    tlsrpt: tuple[TlsRptSession, ...] = ()
    complained: bool = False  # a complaint after delivery: applied as a received one is


@dataclass(frozen=True)
class RecordResult:
    """Which outcomes changed a status, and which were refused (final already, or gone)."""

    applied: tuple[str, ...]
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class AttemptView:
    """An attempt as read back: the record, its sequence number per recipient (from 1) and its
    row id (what a link to its transcript names)."""

    number: int
    record: AttemptRecord
    id: int


@dataclass(frozen=True)
class RecipientView:
    """A recipient as read back, with its attempts (oldest first) when asked for."""

    id: str
    address: str
    domain: str
    status: RecipientStatus
    attempts: int
    next_attempt_at: datetime | None
    last_reply_code: int | None
    last_enhanced_code: str | None
    last_reply_text: str | None
    bounce_class: BounceClass | None
    possible_duplicate: bool
    updated_at: datetime
    lease_owner: str | None = None
    lease_until: datetime | None = None
    attempt_log: tuple[AttemptView, ...] = ()


@dataclass(frozen=True)
class MessageView:
    """A message as read back (without its body unless asked for)."""

    id: str
    account_id: str
    mail_from: str
    size: int
    subject: str
    header_message_id: str
    from_header: str
    tags: tuple[str, ...]
    metadata: JsonObject
    created_at: datetime
    scheduled_at: datetime | None
    recipients: tuple[RecipientView, ...]
    body: bytes | None = None
    stream: Stream = DEFAULT_STREAM
    source: str = "api"
    api_key_prefix: str | None = None
    # How many recipients the message has: listings carry only the first few of them.
    recipient_count: int | None = None

    @property
    def total_recipients(self) -> int:
        """The message's number of recipients, also when ``recipients`` is a first page."""
        return len(self.recipients) if self.recipient_count is None else self.recipient_count


@dataclass(frozen=True)
class MessageFilter:
    """Filters for listing messages; None means "any"."""

    account_id: str | None = None
    status: RecipientStatus | None = None  # at least one recipient in this status
    recipient: str | None = None  # at least one recipient with this address
    tag: str | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    sender: str | None = None  # in the envelope sender or the From header, any case
    subject: str | None = None  # in the subject, any case
    header_message_id: str | None = None  # the Message-ID, with or without its angle brackets
    stream: Stream | None = None


@dataclass(frozen=True)
class CancelResult:
    """What a cancel did to a message's recipients: ``cancelled`` waiting ones are now
    CANCELLED; ``in_flight`` ones were leased to a worker (being delivered) and left alone;
    ``finished`` ones were final already."""

    cancelled: int
    in_flight: int
    finished: int


@dataclass(frozen=True)
class Page:
    """One page of messages, newest first; ``next_cursor`` is None on the last page."""

    items: tuple[MessageView, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class OutboxEvent:
    """An event waiting in (or dispatched from) the outbox; ``seq`` orders events causally."""

    seq: int
    id: str
    account_id: str
    type: str
    payload: JsonObject
    created_at: datetime
    dispatched_at: datetime | None


@dataclass(frozen=True)
class Suppression:
    """An address the account will not send to, and why."""

    account_id: str
    address: str
    reason: str
    source_message_id: str | None
    created_at: datetime
    # The reply of the bounce, the complaint's feedback type ... (None for older rows).
    detail: str | None = None
