"""Cancelling a message: its waiting recipients become CANCELLED, its history stays.

Owns what a cancel changes, in the caller's transaction: the message's QUEUED and DEFERRED
recipients that no worker holds a live lease on move to CANCELLED (never claimed again: claims
pick QUEUED/DEFERRED only) with an ``email.cancelled`` event each; a recipient under a live
lease is being delivered right now and is left alone (counted as in flight); final ones are
counted, not touched. The message, its recipients and their attempts are kept.
On PostgreSQL the recipients are locked in id order first (like every multi-row writer, see
:mod:`.claims`), so a cancel and a claim never both win: a claim skips the locked rows, and a
claim that got there first has set the lease the cancel then sees.
It must not open its own transaction nor decide more than queue.status allows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.status import RecipientStatus, can_transition, event_type_for
from postillon.storage.outbox import event_row, insert_events
from postillon.storage.records import CancelResult
from postillon.storage.schema import messages, recipients


def _is_leased(row: Any, now: datetime) -> bool:
    return row.lease_until is not None and row.lease_until > now


async def cancel(
    connection: AsyncConnection,
    message_id: str,
    *,
    now: datetime,
    make_id: Callable[[], str],
    account_id: str | None = None,
) -> CancelResult | None:
    """Cancel the message's waiting recipients; None when there is no such message (or it is
    not ``account_id``'s, when given)."""
    query = sa.select(messages.c.account_id, messages.c.tags).where(messages.c.id == message_id)
    if account_id is not None:
        query = query.where(messages.c.account_id == account_id)
    message = (await connection.execute(query)).first()
    if message is None:
        return None
    rows = list(
        await connection.execute(
            sa.select(recipients)
            .where(recipients.c.message_id == message_id)
            .order_by(recipients.c.id)
            .with_for_update()
        )
    )
    cancelled: list[Any] = []
    in_flight = finished = 0
    for row in rows:
        status = RecipientStatus(row.status)
        if not can_transition(status, RecipientStatus.CANCELLED):
            finished += 1
        elif _is_leased(row, now):
            in_flight += 1
        else:
            cancelled.append(row)
    if cancelled:
        await connection.execute(
            sa.update(recipients)
            .where(recipients.c.id.in_([row.id for row in cancelled]))
            .values(
                status=RecipientStatus.CANCELLED.value,
                next_attempt_at=None,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
        )
        await insert_events(
            connection,
            [
                event_row(
                    make_id=make_id,
                    now=now,
                    account_id=message.account_id,
                    type=event_type_for(RecipientStatus.CANCELLED),
                    payload={
                        "message_id": message_id,
                        "recipient": row.address,
                        "recipient_id": row.id,
                        "attempt": row.attempts,
                        "tags": message.tags,
                    },
                    message_id=message_id,
                    recipient_id=row.id,
                )
                for row in cancelled
            ],
        )
    return CancelResult(cancelled=len(cancelled), in_flight=in_flight, finished=finished)
