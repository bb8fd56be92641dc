"""Webhook delivery state and the delivery log: fan-out, leased claims, results, replay.

Owns the ``webhook_deliveries`` and ``webhook_attempts`` queries.

- Fan-out turns leased outbox events into one pending row per interested endpoint and marks the
  events dispatched, in one commit: an event is either fanned out completely or not at all (a
  crash before the commit leaves its outbox lease to run out, and another node fans it out; the
  primary key (endpoint, event) makes a repeat harmless).
- Claims lease due rows (owner, until) so one dispatcher sends each attempt, with ``FOR UPDATE
  SKIP LOCKED`` on PostgreSQL. **Causal order**: a row is due only if no earlier event (lower
  outbox ``seq``) with the same ``order_key`` (the recipient) is still pending for the same
  endpoint, in flight or waiting for its retry, and no earlier event of the recipient is still
  waiting in the outbox (fanned out by another node, not committed yet). So an endpoint never
  gets event N+1 of a recipient before event N was delivered or given up.
- Recording writes the log row, the row's new state (only while we still hold its lease: a late
  answer after our lease ran out changes nothing, the attempt is still logged) and the endpoint's
  health, and disables the endpoint when told to, giving up its pending rows, in one commit.
It must not send, sign or decide retries (webhooks/ does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from postillon.storage import webhook_log_sql
from postillon.storage.outbox import events_with_metadata, mark_dispatched, with_metadata
from postillon.storage.records import OutboxEvent
from postillon.storage.schema import events, messages, webhook_deliveries, webhook_endpoints
from postillon.storage.transactions import Transactions
from postillon.storage.webhook_records import (
    AttemptLogEntry,
    ClaimedDelivery,
    DeliveryAttempt,
    DeliveryState,
    EndpointRecord,
    endpoint_from_row,
)
from postillon.storage.webhooks_sql import give_up_pending

# Payload keys that name what an event's causal chain is about, most specific first.
ORDER_KEYS = ("recipient_id", "domain_id")

_D = webhook_deliveries
_E = webhook_endpoints
_PENDING = DeliveryState.PENDING.value

Wants = Callable[[EndpointRecord, str], bool]
"""Whether an endpoint takes an event type (the webhooks package's filter, passed in)."""


def order_key(payload: Any) -> str | None:
    """The causal chain an event belongs to (its recipient), or None if it has none."""
    if isinstance(payload, dict):
        for key in ORDER_KEYS:
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _insert_ignoring_repeats(dialect: str, rows: list[dict[str, Any]]) -> sa.Insert:
    keys = [_D.c.endpoint_id, _D.c.event_id]
    if dialect == "postgresql":
        return postgresql.insert(_D).values(rows).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(_D).values(rows).on_conflict_do_nothing(index_elements=keys)


def due_query(now: datetime, limit: int) -> sa.Select[Any]:
    """The heads of every (endpoint, recipient) chain that are due now, oldest event first."""
    earlier = _D.alias("earlier")
    blocked = (
        sa.select(earlier.c.event_id)
        .where(
            earlier.c.endpoint_id == _D.c.endpoint_id,
            earlier.c.order_key == _D.c.order_key,
            earlier.c.state == _PENDING,
            earlier.c.event_seq < _D.c.event_seq,
        )
        .exists()
    )
    # An earlier event of the recipient still in the outbox (another node is fanning it out)
    # blocks too: its delivery row does not exist yet.
    unfanned = (
        sa.select(events.c.seq)
        .where(
            events.c.dispatched_at.is_(None),
            events.c.recipient_id == _D.c.order_key,
            events.c.seq < _D.c.event_seq,
        )
        .exists()
    )
    enabled = sa.select(_E.c.id).where(_E.c.enabled.is_(True))
    return (
        sa.select(_D.c.endpoint_id, _D.c.event_id)
        .where(
            _D.c.state == _PENDING,
            _D.c.next_attempt_at <= now,
            sa.or_(_D.c.lease_until.is_(None), _D.c.lease_until <= now),
            _D.c.endpoint_id.in_(enabled),
            ~blocked,
            ~unfanned,
        )
        .order_by(_D.c.event_seq)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_D)
    )


class SqlWebhookDeliveries:
    """Delivery state and log on the node's database."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def fan_out(self, batch: Sequence[OutboxEvent], wants: Wants, now: datetime) -> int:
        """Queue each event for the account's enabled endpoints that want it; mark the events
        dispatched. One commit. Returns how many deliveries were queued."""
        if not batch:
            return 0
        accounts = sorted({event.account_id for event in batch})
        async with self._tx.write() as connection:
            found = await connection.execute(
                sa.select(_E).where(_E.c.account_id.in_(accounts), _E.c.enabled.is_(True))
            )
            by_account: dict[str, list[EndpointRecord]] = {}
            for row in found:
                by_account.setdefault(row.account_id, []).append(endpoint_from_row(row))
            rows = [
                {
                    "endpoint_id": endpoint.id,
                    "event_id": event.id,
                    "event_seq": event.seq,
                    "order_key": order_key(event.payload),
                    "state": _PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "lease_owner": None,
                    "lease_until": None,
                    "last_error": None,
                    "updated_at": now,
                }
                for event in batch
                for endpoint in by_account.get(event.account_id, ())
                if wants(endpoint, event.type)
            ]
            if rows:
                await connection.execute(_insert_ignoring_repeats(connection.dialect.name, rows))
            await mark_dispatched(connection, [event.id for event in batch], now)
        return len(rows)

    async def claim_due(
        self, owner: str, now: datetime, lease_s: float, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries (see the module's causal-order rule)."""
        async with self._tx.write() as connection:
            pairs = [tuple(row) for row in await connection.execute(due_query(now, limit))]
            if not pairs:
                return []
            keys = sa.tuple_(_D.c.endpoint_id, _D.c.event_id).in_(pairs)
            until = now + timedelta(seconds=lease_s)
            await connection.execute(
                sa.update(_D).where(keys).values(lease_owner=owner, lease_until=until)
            )
            rows = await connection.execute(
                sa.select(
                    _E,
                    _D.c.event_id,
                    _D.c.attempts.label("delivery_attempts"),
                    events.c.type.label("event_type"),
                    events.c.payload.label("event_payload"),
                    events.c.created_at.label("event_created_at"),
                    messages.c.metadata.label("message_metadata"),
                )
                .join(_E, _E.c.id == _D.c.endpoint_id)
                .join(events, events.c.id == _D.c.event_id)
                .outerjoin(messages, messages.c.id == events.c.message_id)
                .where(keys)
                .order_by(_D.c.event_seq)
            )
            return [
                ClaimedDelivery(
                    endpoint=endpoint_from_row(row),
                    event_id=row.event_id,
                    event_type=row.event_type,
                    event_created_at=row.event_created_at,
                    payload=with_metadata(row.event_payload, row.message_metadata),
                    attempts=row.delivery_attempts,
                )
                for row in rows
            ]

    async def record(self, attempt: DeliveryAttempt, now: datetime) -> None:
        """Log ``attempt`` and apply its consequences (see the module docstring). One commit."""
        async with self._tx.write() as connection:
            exists = await connection.execute(
                sa.select(_E.c.id).where(_E.c.id == attempt.endpoint_id)
            )
            if exists.first() is None:  # deleted while the attempt ran: nothing to record
                return
            await webhook_log_sql.insert(connection, attempt)
            await connection.execute(
                sa.update(_D)
                .where(
                    _D.c.endpoint_id == attempt.endpoint_id,
                    _D.c.event_id == attempt.event_id,
                    _D.c.lease_owner == attempt.owner,
                )
                .values(
                    state=attempt.state.value,
                    attempts=attempt.attempt,
                    next_attempt_at=attempt.next_attempt_at,
                    lease_owner=None,
                    lease_until=None,
                    last_error=attempt.error,
                    updated_at=now,
                )
            )
            health: dict[str, Any]
            if attempt.succeeded:
                health = {"failing_since": None, "consecutive_failures": 0}
            else:
                health = {
                    "failing_since": sa.func.coalesce(_E.c.failing_since, attempt.attempted_at),
                    "consecutive_failures": _E.c.consecutive_failures + 1,
                }
            if attempt.disable is not None:
                health.update(enabled=False, disabled_reason=attempt.disable, updated_at=now)
            await connection.execute(
                sa.update(_E).where(_E.c.id == attempt.endpoint_id).values(health)
            )
            if attempt.disable is not None:
                reason = f"endpoint disabled: {attempt.disable}"
                await give_up_pending(connection, attempt.endpoint_id, reason, now)

    async def log_only(self, attempt: DeliveryAttempt) -> None:
        """Log an attempt that has no delivery state (a test event)."""
        async with self._tx.write() as connection:
            await webhook_log_sql.insert(connection, attempt)

    async def replay(self, endpoint_id: str, event: OutboxEvent, now: datetime) -> None:
        """Queue ``event`` for the endpoint again, due now, with a fresh retry schedule."""
        async with self._tx.write() as connection:
            await connection.execute(
                sa.delete(_D).where(_D.c.endpoint_id == endpoint_id, _D.c.event_id == event.id)
            )
            await connection.execute(
                sa.insert(_D).values(
                    endpoint_id=endpoint_id,
                    event_id=event.id,
                    event_seq=event.seq,
                    order_key=order_key(event.payload),
                    state=_PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    updated_at=now,
                )
            )

    async def get_event(self, account_id: str, event_id: str) -> OutboxEvent | None:
        """The account's outbox event ``event_id``, or None."""
        async with self._tx.read() as connection:
            row = (
                await connection.execute(
                    events_with_metadata().where(
                        events.c.id == event_id, events.c.account_id == account_id
                    )
                )
            ).first()
        if row is None:
            return None
        return OutboxEvent(
            seq=row.seq,
            id=row.id,
            account_id=row.account_id,
            type=row.type,
            payload=with_metadata(row.payload, row.message_metadata),
            created_at=row.created_at,
            dispatched_at=row.dispatched_at,
        )

    async def state_of(self, endpoint_id: str, event_id: str) -> tuple[DeliveryState, int] | None:
        """A delivery's state and attempt count, or None (for tests and the API)."""
        async with self._tx.read() as connection:
            row = (
                await connection.execute(
                    sa.select(_D.c.state, _D.c.attempts).where(
                        _D.c.endpoint_id == endpoint_id, _D.c.event_id == event_id
                    )
                )
            ).first()
        return None if row is None else (DeliveryState(row.state), row.attempts)

    async def log(
        self, endpoint_id: str, *, limit: int = 50, before_id: int | None = None
    ) -> list[AttemptLogEntry]:
        """The endpoint's delivery log, newest first; ``before_id`` pages back."""
        async with self._tx.read() as connection:
            return await webhook_log_sql.read(connection, endpoint_id, limit, before_id)
