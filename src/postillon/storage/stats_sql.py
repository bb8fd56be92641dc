"""Delivery statistics for the dashboard's overview: counts per time bucket over a window, and
the queue as it stands, for one account. Counted and bucketed in the database.

What each series counts (the overview page says the same):

- **sent**: recipients accepted for delivery (every recipient not suppressed), at the time
  their message was created;
- **suppressed**: recipients stored suppressed because their address was on the account's
  suppression list when the message was accepted, at the message's time;
- **delivered**: attempts the receiving server accepted (a 2xx reply), at the attempt's start;
- **bounced**: the last attempt of each recipient that bounced or expired, at its start (one
  that expired without any attempt has none to count);
- **deferred**: every other attempt (a temporary failure: the recipient waited for another
  try, or still waits, or was cancelled meanwhile), at its start;
- **bounced later** and **complained**: recipients a report received by mail bounced after
  delivery, or named in a complaint, at the report's arrival (their delivery stays counted).

So every attempt is exactly one of delivered, deferred or bounced, and every accepted recipient
exactly one of sent or suppressed. The TLS shares are of the delivered attempts. The queue is
the recipients queued or deferred now; its oldest message is the one waiting longest among
those due (waiting since its scheduled time if it had one, else its creation).

Bounds: messages by the ``(account_id, id)`` index, since ids sort by creation time
(:mod:`.ids`); attempts by the ``started_at`` index (migration 0006), a range scan; the queue
by the ``(status, next_attempt_at)`` index. Bucket numbers are whole seconds since the window's
start divided by the bucket length, in SQL: ``strftime('%s')`` on SQLite, ``extract(epoch
...)`` on PostgreSQL.
It must not write anything nor decide outcomes (queue/ does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.status import ACTIVE_STATUSES, RecipientStatus
from postillon.storage.ids import new_id
from postillon.storage.schema import attempts, inbound_reports, messages, recipients
from postillon.storage.transactions import Transactions

# Most buckets one window may have: a chart wider than this says nothing more.
MAX_BUCKETS = 400
# A message id's time is read from the clock just after its created_at (same transaction);
# bounding ids this much wider than the window cannot miss a message, and created_at decides.
ID_CLOCK_SLACK = timedelta(hours=1)
# Statuses whose last attempt counts as the bounce (expiry is reported like a bounce).
BOUNCED_STATUSES = (RecipientStatus.BOUNCED.value, RecipientStatus.EXPIRED.value)
# 'YYYY-MM-DD HH:MM:SS': a SQLite time's text up to its whole seconds.
SQLITE_SECONDS_TEXT = 19
_ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _zero_bytes(count: int) -> bytes:
    return bytes(count)


@dataclass(frozen=True)
class Window:
    """``count`` buckets of ``bucket`` each from ``start``: the range [start, end)."""

    start: datetime
    bucket: timedelta
    count: int

    def __post_init__(self) -> None:
        seconds = self.bucket.total_seconds()
        if seconds < 1 or seconds != int(seconds):
            raise ValueError(f"a bucket is a whole number of seconds, not {self.bucket}")
        if not 1 <= self.count <= MAX_BUCKETS:
            raise ValueError(f"a window has 1..{MAX_BUCKETS} buckets, not {self.count}")
        if self.start.tzinfo is None:
            raise ValueError("a window starts at an aware UTC time")

    @classmethod
    def covering(cls, now: datetime, bucket: timedelta, count: int) -> Window:
        """``count`` buckets aligned on whole multiples of ``bucket`` since the Unix epoch (so
        days start at UTC midnight), the last one holding ``now``."""
        bucket_s = int(bucket.total_seconds())
        if bucket_s < 1:
            raise ValueError(f"a bucket is at least one second, not {bucket}")
        elapsed_s = int((now - _EPOCH).total_seconds())
        last = _EPOCH + timedelta(seconds=elapsed_s - elapsed_s % bucket_s)
        return cls(start=last - bucket * (count - 1), bucket=bucket, count=count)

    @property
    def end(self) -> datetime:
        """The end of the last bucket (excluded)."""
        return self.start + self.bucket * self.count

    @property
    def starts(self) -> tuple[datetime, ...]:
        """The start of each bucket, in order."""
        return tuple(self.start + self.bucket * n for n in range(self.count))


@dataclass(frozen=True)
class Counts:
    """The counts of one bucket (or of a whole window: see :attr:`Overview.totals`)."""

    sent: int = 0
    delivered: int = 0
    deferred: int = 0
    bounced: int = 0
    suppressed: int = 0
    delivered_over_tls: int = 0
    delivered_verified: int = 0  # over TLS with a verified certificate
    # Reported later by mail (the return path), by when the report came: recipients bounced
    # after delivery, and recipients who complained (ARF feedback loops).
    bounced_later: int = 0
    complained: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def bounce_rate(self) -> float | None:
        """bounced / (delivered + bounced); None when both are 0."""
        return _share(self.bounced, self.delivered + self.bounced)

    @property
    def complaint_rate(self) -> float | None:
        """complained / delivered (the figure mailbox providers watch); None without
        deliveries."""
        return _share(self.complained, self.delivered)

    @property
    def tls_share(self) -> float | None:
        """The share of deliveries made over TLS; None without deliveries."""
        return _share(self.delivered_over_tls, self.delivered)

    @property
    def verified_share(self) -> float | None:
        """The share of deliveries over TLS with a verified certificate; None without any."""
        return _share(self.delivered_verified, self.delivered)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class OldestWaiting:
    """The message waiting longest, and since when (its scheduled time, else its creation)."""

    message_id: str
    subject: str
    waiting_since: datetime


@dataclass(frozen=True)
class QueueNow:
    """Recipients waiting now, by status, and the message waiting longest (None: none due)."""

    queued: int
    deferred: int
    oldest: OldestWaiting | None

    @property
    def depth(self) -> int:
        """Every recipient still waiting for an attempt."""
        return self.queued + self.deferred


@dataclass(frozen=True)
class Overview:
    """One account's counts per bucket of ``window`` and its queue at ``now``."""

    window: Window
    buckets: tuple[Counts, ...]
    queue: QueueNow
    now: datetime

    @property
    def totals(self) -> Counts:
        """The counts of the whole window."""
        return sum(self.buckets, Counts())


class SqlStats:
    """Aggregate reads over messages, recipients and attempts, for the overview."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def overview(self, account_id: str, window: Window, now: datetime) -> Overview:
        """The account's counts per bucket of ``window`` and its queue at ``now``."""
        async with self._tx.read() as connection:
            accepted = await _accepted(connection, account_id, window)
            tried = await _attempted(connection, account_id, window)
            reported = await _reported(connection, account_id, window)
            queue = await _queue(connection, account_id, now)
        buckets = [Counts() for _ in range(window.count)]
        for number, counts in [*accepted, *tried, *reported]:
            if 0 <= number < window.count:  # the WHERE clause already bounds them
                buckets[number] = buckets[number] + counts
        return Overview(window=window, buckets=tuple(buckets), queue=queue, now=now)


def _bucket_of(connection: AsyncConnection, column: Any, window: Window) -> sa.ColumnElement[int]:
    """The bucket number of ``column``: whole seconds since the window's start // bucket."""
    if connection.dialect.name == "postgresql":
        seconds: sa.ColumnElement[int] = sa.cast(
            sa.func.floor(sa.extract("epoch", column)), sa.BigInteger
        )
    else:
        # SQLite keeps naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'; '%s' reads it as UTC but
        # rounds to the millisecond (12:59:59.9999 would become 13:00): cut the fraction off.
        whole_seconds = sa.func.substr(column, 1, SQLITE_SECONDS_TEXT)
        seconds = sa.cast(sa.func.strftime("%s", whole_seconds), sa.BigInteger)
    start_s = int((window.start - _EPOCH).total_seconds())
    bucket_s = int(window.bucket.total_seconds())
    # Integer floor division: the offset is >= 0 inside the window.
    return (seconds - sa.literal(start_s, sa.BigInteger)) // sa.literal(bucket_s, sa.BigInteger)


async def _accepted(
    connection: AsyncConnection, account_id: str, window: Window
) -> list[tuple[int, Counts]]:
    """Recipients sent and suppressed, per bucket of their message's creation."""
    is_suppressed = recipients.c.status == RecipientStatus.SUPPRESSED.value
    rows = (
        sa.select(
            _bucket_of(connection, messages.c.created_at, window).label("bucket"),
            sa.case((is_suppressed, 1), else_=0).label("suppressed"),
        )
        .select_from(messages.join(recipients, recipients.c.message_id == messages.c.id))
        .where(
            messages.c.account_id == account_id,
            messages.c.id >= new_id(window.start - ID_CLOCK_SLACK, _zero_bytes),
            messages.c.id < new_id(window.end + ID_CLOCK_SLACK, _zero_bytes),
            messages.c.created_at >= window.start,
            messages.c.created_at < window.end,
        )
        .subquery()
    )
    query = sa.select(
        rows.c.bucket, sa.func.count().label("recipients"), sa.func.sum(rows.c.suppressed)
    ).group_by(rows.c.bucket)
    return [
        (int(bucket), Counts(sent=int(total) - int(suppressed), suppressed=int(suppressed)))
        for bucket, total, suppressed in await connection.execute(query)
    ]


async def _attempted(
    connection: AsyncConnection, account_id: str, window: Window
) -> list[tuple[int, Counts]]:
    """Attempts delivered, deferred and bounced (and deliveries over TLS), per bucket of their
    start."""
    later = attempts.alias("later")
    is_last = ~sa.exists().where(
        later.c.recipient_id == attempts.c.recipient_id, later.c.id > attempts.c.id
    )
    is_delivered = sa.and_(attempts.c.reply_code >= 200, attempts.c.reply_code < 300)
    is_bounced = sa.and_(recipients.c.status.in_(BOUNCED_STATUSES), is_last)

    def flag(condition: sa.ColumnElement[bool], name: str) -> sa.Label[int]:
        return sa.case((condition, 1), else_=0).label(name)

    rows = (
        sa.select(
            _bucket_of(connection, attempts.c.started_at, window).label("bucket"),
            flag(is_delivered, "delivered"),
            sa.case((is_delivered, 0), (is_bounced, 1), else_=0).label("bounced"),
            flag(sa.and_(is_delivered, attempts.c.tls_used.is_(sa.true())), "over_tls"),
            flag(sa.and_(is_delivered, attempts.c.tls_verified.is_(sa.true())), "verified"),
        )
        .select_from(
            attempts.join(recipients, recipients.c.id == attempts.c.recipient_id).join(
                messages, messages.c.id == recipients.c.message_id
            )
        )
        .where(
            messages.c.account_id == account_id,
            attempts.c.started_at >= window.start,
            attempts.c.started_at < window.end,
        )
        .subquery()
    )
    query = sa.select(
        rows.c.bucket,
        sa.func.count(),
        *(sa.func.sum(rows.c[name]) for name in ("delivered", "bounced", "over_tls", "verified")),
    ).group_by(rows.c.bucket)
    return [_attempt_counts(row) for row in await connection.execute(query)]


async def _reported(
    connection: AsyncConnection, account_id: str, window: Window
) -> list[tuple[int, Counts]]:
    """Recipients a report received by mail bounced or named as complaining, per bucket of
    the report's arrival."""
    kind = inbound_reports.c.kind
    query = (
        sa.select(
            _bucket_of(connection, inbound_reports.c.received_at, window).label("bucket"),
            sa.func.sum(sa.case((kind == "bounce", inbound_reports.c.matched), else_=0)),
            sa.func.sum(sa.case((kind == "complaint", inbound_reports.c.matched), else_=0)),
        )
        .where(
            inbound_reports.c.account_id == account_id,
            inbound_reports.c.received_at >= window.start,
            inbound_reports.c.received_at < window.end,
            inbound_reports.c.matched > 0,
        )
        .group_by("bucket")
    )
    return [
        (int(bucket), Counts(bounced_later=int(bounced), complained=int(complained)))
        for bucket, bounced, complained in await connection.execute(query)
    ]


def _attempt_counts(row: Sequence[Any]) -> tuple[int, Counts]:
    bucket, total, delivered, bounced, over_tls, verified = (int(value) for value in row)
    counts = Counts(
        delivered=delivered,
        bounced=bounced,
        deferred=total - delivered - bounced,
        delivered_over_tls=over_tls,
        delivered_verified=verified,
    )
    return bucket, counts


async def _queue(connection: AsyncConnection, account_id: str, now: datetime) -> QueueNow:
    """The account's waiting recipients by status, and its message waiting longest."""
    waiting = recipients.join(messages, messages.c.id == recipients.c.message_id)
    owned_and_waiting = sa.and_(
        messages.c.account_id == account_id, recipients.c.status.in_(_ACTIVE)
    )
    counted = await connection.execute(
        sa.select(recipients.c.status, sa.func.count())
        .select_from(waiting)
        .where(owned_and_waiting)
        .group_by(recipients.c.status)
    )
    by_status: dict[str, int] = {str(status): int(count) for status, count in counted}
    since = sa.func.coalesce(messages.c.scheduled_at, messages.c.created_at)
    oldest = (
        await connection.execute(
            sa.select(
                messages.c.id, messages.c.subject, messages.c.created_at, messages.c.scheduled_at
            )
            .select_from(waiting)
            .where(
                owned_and_waiting,
                sa.or_(messages.c.scheduled_at.is_(None), messages.c.scheduled_at <= now),
            )
            .order_by(since, messages.c.id)
            .limit(1)
        )
    ).first()
    found = None
    if oldest is not None:
        found = OldestWaiting(
            message_id=oldest.id,
            subject=oldest.subject,
            waiting_since=oldest.scheduled_at or oldest.created_at,
        )
    return QueueNow(
        queued=int(by_status.get(RecipientStatus.QUEUED.value, 0)),
        deferred=int(by_status.get(RecipientStatus.DEFERRED.value, 0)),
        oldest=found,
    )
