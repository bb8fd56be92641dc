"""Reads for the API, the dashboard and the CLI: messages, recipients, attempts, the queue.

Owns turning rows into views and the listing's filters and cursor (the id of the last message
of a page: ids sort by creation time, so "older than the cursor" needs no second column).
Text searches (sender, subject) are substring matches in any case (``ILIKE`` on PostgreSQL,
``lower() LIKE lower()`` on SQLite, which folds ASCII letters only), with the user's ``%`` and
``_`` escaped so they match themselves.
It must not write, nor open its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.bounce import BounceClass
from postillon.queue.status import ACTIVE_STATUSES, RecipientStatus
from postillon.queue.stream import Stream
from postillon.storage.errors import StorageError
from postillon.storage.ids import ID_LENGTH
from postillon.storage.like import contains_any_case
from postillon.storage.records import (
    AttemptRecord,
    AttemptView,
    MessageFilter,
    MessageView,
    Page,
    RecipientView,
)
from postillon.storage.schema import attempts, message_tags, messages, recipients

_CURSOR_CHARS = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
# Recipients a listing shows per message (the message's own page shows them all).
LISTED_RECIPIENTS = 20


def _attempt_view(number: int, row: Any) -> AttemptView:
    return AttemptView(
        number=number,
        id=row.id,
        record=AttemptRecord(
            started_at=row.started_at,
            duration_ms=row.duration_ms,
            reply_code=row.reply_code,
            enhanced_code=row.enhanced_code,
            reply_text=row.reply_text,
            mx_host=row.mx_host,
            ip=row.ip,
            tls_used=row.tls_used,
            tls_version=row.tls_version,
            tls_cipher=row.tls_cipher,
            tls_verified=row.tls_verified,
            tls_reason=row.tls_reason,
            mta_sts_mode=row.mta_sts_mode,
            mta_sts_policy_id=row.mta_sts_policy_id,
            transcript=row.transcript,
            tls_policy=row.tls_policy,
            dane_tlsa=row.dane_tlsa,
            tls_refusal=row.tls_refusal,
            tls_result=row.tls_result,
        ),
    )


def _recipient_view(row: Any, log: Sequence[AttemptView] = ()) -> RecipientView:
    return RecipientView(
        id=row.id,
        address=row.address,
        domain=row.domain,
        status=RecipientStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_reply_code=row.last_reply_code,
        last_enhanced_code=row.last_enhanced_code,
        last_reply_text=row.last_reply_text,
        bounce_class=BounceClass(row.bounce_class) if row.bounce_class else None,
        possible_duplicate=row.possible_duplicate,
        updated_at=row.updated_at,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        attempt_log=tuple(log),
    )


def _message_view(
    row: Any,
    recipient_views: Sequence[RecipientView],
    body: bytes | None,
    recipient_count: int | None = None,
) -> MessageView:
    return MessageView(
        id=row.id,
        account_id=row.account_id,
        mail_from=row.mail_from,
        size=row.size,
        subject=row.subject,
        header_message_id=row.header_message_id,
        from_header=row.from_header,
        tags=tuple(row.tags),
        metadata=row.metadata,
        created_at=row.created_at,
        scheduled_at=row.scheduled_at,
        recipients=tuple(recipient_views),
        body=body,
        stream=Stream(row.stream),
        source=row.source,
        api_key_prefix=row.api_key_prefix,
        recipient_count=recipient_count,
    )


_SUMMARY_COLUMNS = [column for column in messages.c if column.name != "body"]


async def get_message(
    connection: AsyncConnection, message_id: str, account_id: str | None, with_body: bool
) -> MessageView | None:
    """One message with recipients and attempts (numbered from 1 per recipient)."""
    columns = list(messages.c) if with_body else _SUMMARY_COLUMNS
    query = sa.select(*columns).where(messages.c.id == message_id)
    if account_id is not None:
        query = query.where(messages.c.account_id == account_id)
    message = (await connection.execute(query)).first()
    if message is None:
        return None
    recipient_rows = list(
        await connection.execute(
            sa.select(recipients)
            .where(recipients.c.message_id == message_id)
            .order_by(recipients.c.id)
        )
    )
    logs: dict[str, list[AttemptView]] = {row.id: [] for row in recipient_rows}
    attempt_rows = await connection.execute(
        sa.select(attempts)
        .join(recipients, recipients.c.id == attempts.c.recipient_id)
        .where(recipients.c.message_id == message_id)
        .order_by(attempts.c.id)
    )
    for row in attempt_rows:
        log = logs[row.recipient_id]
        log.append(_attempt_view(len(log) + 1, row))
    views = [_recipient_view(row, logs[row.id]) for row in recipient_rows]
    return _message_view(message, views, message.body if with_body else None)


def _has_nul(filters: MessageFilter) -> bool:
    """True when a text filter holds a NUL: no stored text has one, and PostgreSQL refuses
    NUL in a string parameter (an error, where the answer is just "nothing matches")."""
    texts = (
        filters.recipient,
        filters.tag,
        filters.sender,
        filters.subject,
        filters.header_message_id,
    )
    return any("\x00" in text for text in texts if text is not None)


def _check_cursor(cursor: str) -> None:
    if len(cursor) != ID_LENGTH or not set(cursor) <= _CURSOR_CHARS:
        raise StorageError(f"malformed cursor {cursor!r}")


async def list_messages(
    connection: AsyncConnection, filters: MessageFilter, limit: int, cursor: str | None
) -> Page:
    """Newest first; ``limit`` + 1 rows are read to know whether a next page exists."""
    query = sa.select(*_SUMMARY_COLUMNS)
    if cursor is not None:
        _check_cursor(cursor)
        query = query.where(messages.c.id < cursor)
    if _has_nul(filters):
        return Page(items=(), next_cursor=None)
    if filters.account_id is not None:
        query = query.where(messages.c.account_id == filters.account_id)
    if filters.created_after is not None:
        query = query.where(messages.c.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(messages.c.created_at < filters.created_before)
    if filters.status is not None:
        query = query.where(
            sa.exists().where(
                recipients.c.message_id == messages.c.id,
                recipients.c.status == filters.status.value,
            )
        )
    if filters.recipient is not None:
        query = query.where(
            sa.exists().where(
                recipients.c.message_id == messages.c.id,
                sa.func.lower(recipients.c.address) == filters.recipient.strip().lower(),
            )
        )
    if filters.stream is not None:
        query = query.where(messages.c.stream == filters.stream.value)
    if filters.tag is not None:
        query = query.where(
            sa.exists().where(
                message_tags.c.message_id == messages.c.id, message_tags.c.tag == filters.tag
            )
        )
    if filters.sender is not None:
        query = query.where(
            sa.or_(
                contains_any_case(messages.c.mail_from, filters.sender),
                contains_any_case(messages.c.from_header, filters.sender),
            )
        )
    if filters.subject is not None:
        query = query.where(contains_any_case(messages.c.subject, filters.subject))
    if filters.header_message_id is not None:
        bare = filters.header_message_id.strip().removeprefix("<").removesuffix(">")
        query = query.where(messages.c.header_message_id.in_([f"<{bare}>", bare]))
    rows = list(await connection.execute(query.order_by(messages.c.id.desc()).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    by_message: dict[str, list[RecipientView]] = {row.id: [] for row in page}
    counts: dict[str, int] = dict.fromkeys(by_message, 0)
    if page:
        # The first LISTED_RECIPIENTS of each message, and its count (window functions: SQLite
        # 3.25+, PostgreSQL), so a page never loads every recipient of a large message.
        ranked = (
            sa.select(
                recipients,
                sa.func.row_number()
                .over(partition_by=recipients.c.message_id, order_by=recipients.c.id)
                .label("rank"),
                sa.func.count().over(partition_by=recipients.c.message_id).label("total"),
            )
            .where(recipients.c.message_id.in_(list(by_message)))
            .subquery()
        )
        recipient_rows = await connection.execute(
            sa.select(ranked)
            .where(ranked.c.rank <= LISTED_RECIPIENTS)
            .order_by(ranked.c.message_id, ranked.c.id)
        )
        for row in recipient_rows:
            by_message[row.message_id].append(_recipient_view(row))
            counts[row.message_id] = row.total
    items = tuple(_message_view(row, by_message[row.id], None, counts[row.id]) for row in page)
    return Page(items=items, next_cursor=page[-1].id if more else None)


async def list_queue(
    connection: AsyncConnection,
    *,
    limit: int,
    status: RecipientStatus | None,
    domain: str | None,
) -> list[RecipientView]:
    """Recipients still waiting (or in ``status``), soonest due first."""
    wanted = [status.value] if status else sorted(s.value for s in ACTIVE_STATUSES)
    query = sa.select(recipients).where(recipients.c.status.in_(wanted))
    if domain is not None:
        query = query.where(recipients.c.domain == domain.lower())
    rows = await connection.execute(
        query.order_by(recipients.c.next_attempt_at, recipients.c.id).limit(limit)
    )
    return [_recipient_view(row) for row in rows]
