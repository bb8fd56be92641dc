"""What operations ask the store: is it reachable and migrated, and the shared queue's gauges.

Reads only: one cheap aggregate per gauge (the recipients' status index, the webhook
deliveries' state index). Must not decide readiness (the composition root does) nor render
metrics (postillon.metrics does).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from postillon.metrics import QueueGauges
from postillon.queue.status import ACTIVE_STATUSES
from postillon.storage.connect import Engines
from postillon.storage.migrate import current_revision, head_revision
from postillon.storage.schema import messages, recipients, webhook_deliveries

_WAITING = sorted(status.value for status in ACTIVE_STATUSES)
_WEBHOOK_PENDING = "pending"


async def schema_problem(engines: Engines) -> str | None:
    """None when the database answers and every migration is applied; else what is wrong.
    Never raises."""
    try:
        current = await current_revision(engines.writer)
    except Exception as exc:  # readiness reports any failure; it must not crash the probe
        return f"the database does not answer: {type(exc).__name__}"
    head = head_revision()
    if current != head:
        return f"schema at revision {current}, expected {head}"
    return None


async def queue_gauges(engines: Engines, now: datetime) -> QueueGauges:
    """Waiting recipients, the oldest waiting message's age, pending webhook deliveries."""
    async with engines.reader.connect() as connection:
        waiting = await connection.scalar(
            sa.select(sa.func.count())
            .select_from(recipients)
            .where(recipients.c.status.in_(_WAITING))
        )
        oldest = await connection.scalar(
            sa.select(sa.func.min(messages.c.created_at))
            .select_from(recipients.join(messages, messages.c.id == recipients.c.message_id))
            .where(recipients.c.status.in_(_WAITING))
        )
        backlog = await connection.scalar(
            sa.select(sa.func.count())
            .select_from(webhook_deliveries)
            .where(webhook_deliveries.c.state == _WEBHOOK_PENDING)
        )
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return QueueGauges(
        waiting=int(waiting or 0), oldest_age_s=age, webhook_backlog=int(backlog or 0)
    )
