"""The webhook delivery log: one row per attempt, read back per endpoint, newest first.

Owns the ``webhook_attempts`` queries (status, latency, response snippet, error, verdict), for
the customer's view of an endpoint. It must not open its own transactions.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.storage.schema import webhook_attempts
from postillon.storage.webhook_records import AttemptLogEntry, DeliveryAttempt

# Page bound: the API pages back with ``before_id``.
MAX_LOG_ENTRIES = 200

_L = webhook_attempts


async def insert(connection: AsyncConnection, attempt: DeliveryAttempt) -> None:
    """Append ``attempt`` to its endpoint's log."""
    await connection.execute(
        sa.insert(_L).values(
            endpoint_id=attempt.endpoint_id,
            event_id=attempt.event_id,
            event_type=attempt.event_type,
            attempt=attempt.attempt,
            attempted_at=attempt.attempted_at,
            status=attempt.status,
            verdict=attempt.verdict,
            latency_ms=attempt.latency_ms,
            response_snippet=attempt.response_snippet,
            error=attempt.error,
        )
    )


async def read(
    connection: AsyncConnection, endpoint_id: str, limit: int, before_id: int | None
) -> list[AttemptLogEntry]:
    """Up to ``limit`` (at most :data:`MAX_LOG_ENTRIES`) entries older than ``before_id``."""
    query = sa.select(_L).where(_L.c.endpoint_id == endpoint_id)
    if before_id is not None:
        query = query.where(_L.c.id < before_id)
    query = query.order_by(_L.c.id.desc()).limit(max(1, min(limit, MAX_LOG_ENTRIES)))
    rows = await connection.execute(query)
    return [
        AttemptLogEntry(
            id=row.id,
            endpoint_id=row.endpoint_id,
            event_id=row.event_id,
            event_type=row.event_type,
            attempt=row.attempt,
            attempted_at=row.attempted_at,
            status=row.status,
            verdict=row.verdict,
            latency_ms=row.latency_ms,
            response_snippet=row.response_snippet,
            error=row.error,
        )
        for row in rows
    ]
