"""The event outbox: events written in the same transaction as the change they announce.

Owns event rows and their payloads, and handing them to the webhook dispatcher: events are
leased to one dispatcher (owner, until) like recipients, so with several nodes each event is
sent by one node, and one whose dispatcher died is handed out again. ``seq`` gives the causal
order (per recipient: queued before deferred before delivered).
It must not send anything (webhooks/ does) nor open its own transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.events import EventType
from postillon.storage.records import OutboxEvent
from postillon.storage.schema import events, messages

EVENT_ID_PREFIX = "evt_"  # webhook-ids: [A-Za-z0-9_-] only (Standard Webhooks)


def event_row(
    *,
    make_id: Callable[[], str],
    now: datetime,
    account_id: str,
    type: EventType,
    payload: Mapping[str, Any],
    message_id: str | None = None,
    recipient_id: str | None = None,
) -> dict[str, Any]:
    """One outbox row, ready for an executemany insert."""
    return {
        "id": EVENT_ID_PREFIX + make_id(),
        "account_id": account_id,
        "message_id": message_id,
        "recipient_id": recipient_id,
        "type": type.value,
        "payload": dict(payload),
        "created_at": now,
        "dispatched_at": None,
        "dispatch_owner": None,
        "dispatch_until": None,
    }


async def insert_events(connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Append events (in list order, which becomes their ``seq`` order)."""
    if rows:
        await connection.execute(sa.insert(events), list(rows))


def with_metadata(payload: Any, metadata: Any) -> Any:
    """The payload as webhooks send it: a message's events carry its metadata, which is
    stored once with the message, never copied into each recipient's event row."""
    if metadata is None or not isinstance(payload, dict) or "metadata" in payload:
        return payload
    return {**payload, "metadata": metadata}


def events_with_metadata() -> sa.Select[Any]:
    """``SELECT events.*, messages.metadata`` (NULL for events without a message)."""
    return sa.select(events, messages.c.metadata.label("message_metadata")).outerjoin(
        messages, messages.c.id == events.c.message_id
    )


def _to_event(row: Row[Any]) -> OutboxEvent:
    return OutboxEvent(
        seq=row.seq,
        id=row.id,
        account_id=row.account_id,
        type=row.type,
        payload=with_metadata(row.payload, row.message_metadata),
        created_at=row.created_at,
        dispatched_at=row.dispatched_at,
    )


async def claim_events(
    connection: AsyncConnection, owner: str, now: datetime, lease_s: float, limit: int
) -> list[OutboxEvent]:
    """Lease the oldest undispatched events whose lease (if any) ran out."""
    due = (
        sa.select(events.c.seq)
        .where(
            events.c.dispatched_at.is_(None),
            sa.or_(events.c.dispatch_until.is_(None), events.c.dispatch_until <= now),
        )
        .order_by(events.c.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    seqs = list((await connection.execute(due)).scalars())
    if not seqs:
        return []
    await connection.execute(
        sa.update(events)
        .where(events.c.seq.in_(seqs))
        .values(dispatch_owner=owner, dispatch_until=now + timedelta(seconds=lease_s))
    )
    rows = await connection.execute(
        events_with_metadata().where(events.c.seq.in_(seqs)).order_by(events.c.seq)
    )
    return [_to_event(row) for row in rows]


async def mark_dispatched(
    connection: AsyncConnection, event_ids: Sequence[str], now: datetime
) -> int:
    """Mark events dispatched; already dispatched ones are left alone."""
    if not event_ids:
        return 0
    result = await connection.execute(
        sa.update(events)
        .where(events.c.id.in_(list(event_ids)), events.c.dispatched_at.is_(None))
        .values(dispatched_at=now, dispatch_owner=None, dispatch_until=None)
    )
    return result.rowcount


async def list_events(
    connection: AsyncConnection,
    *,
    account_id: str | None,
    message_id: str | None,
    after_seq: int,
    limit: int,
) -> list[OutboxEvent]:
    """Events after ``after_seq`` in ``seq`` order, optionally for one account or message."""
    query = events_with_metadata().where(events.c.seq > after_seq)
    if account_id is not None:
        query = query.where(events.c.account_id == account_id)
    if message_id is not None:
        query = query.where(events.c.message_id == message_id)
    rows = await connection.execute(query.order_by(events.c.seq).limit(limit))
    return [_to_event(row) for row in rows]
