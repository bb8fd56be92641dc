"""Claims: lease due recipients to one worker, renew and release leases.

Owns the lease protocol (docs/contracts.md, leases). A claim is one short transaction: pick due
recipients in fair turns between accounts (claim_turns.py; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so concurrent claimers skip each other's rows instead of waiting; on SQLite the
single writer runs one unit at a time), stamp them with (owner, until), read their messages.
No lock outlives the transaction; the lease is what keeps other workers off while SMTP runs,
and its expiry is what makes a crashed worker's recipients due again.
It must not open its own transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.status import ACTIVE_STATUSES
from postillon.storage.claim_turns import ClaimTurns, fair_due_ids, is_due
from postillon.storage.records import ClaimedJob, ClaimedRecipient
from postillon.storage.schema import messages, recipients

_ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)

# Most recipients one claim may lease: the ids travel in one IN (...) list, and a worker that
# leases more than it can start within its lease only makes them wait.
MAX_CLAIM = 1000


def due_query(now: datetime, limit: int) -> sa.Select[tuple[str]]:
    """The ids of the oldest due recipients whatever their account, locked and skipping rows
    others locked (PostgreSQL; SQLite renders no FOR UPDATE): the plain FIFO order, read
    through ix_recipients_due (bench/queue_depth.py prints its plan)."""
    return (
        sa.select(recipients.c.id)
        .where(is_due(now))
        .order_by(recipients.c.next_attempt_at, recipients.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def claim_due(
    connection: AsyncConnection,
    owner: str,
    now: datetime,
    lease_s: float,
    limit: int,
    *,
    turns: ClaimTurns | None = None,
) -> list[ClaimedJob]:
    """Lease up to ``limit`` due recipients, shared fairly between accounts (claim_turns.py);
    one job per (message, domain), in the order the turns chose.

    Raises ValueError if ``limit`` is not in 1..MAX_CLAIM.
    """
    if not 1 <= limit <= MAX_CLAIM:
        raise ValueError(f"claim limit must be 1..{MAX_CLAIM}, not {limit}")
    ids = await fair_due_ids(connection, now, limit, turns or ClaimTurns())
    if not ids:
        return []
    lease_until = now + timedelta(seconds=lease_s)
    await connection.execute(
        sa.update(recipients)
        .where(recipients.c.id.in_(ids))
        .values(lease_owner=owner, lease_until=lease_until)
    )
    rows = await connection.execute(
        sa.select(
            recipients.c.id,
            recipients.c.message_id,
            recipients.c.address,
            recipients.c.domain,
            recipients.c.attempts,
            recipients.c.stream_rank,
        ).where(recipients.c.id.in_(ids))
    )
    position = {recipient_id: index for index, recipient_id in enumerate(ids)}
    groups: dict[tuple[str, str], list[ClaimedRecipient]] = {}
    ranks: dict[str, int] = {}
    for row in sorted(rows, key=lambda row: position[row.id]):
        ranks[row.message_id] = row.stream_rank
        groups.setdefault((row.message_id, row.domain), []).append(
            ClaimedRecipient(id=row.id, address=row.address, attempts=row.attempts)
        )
    message_ids = sorted({message_id for message_id, _ in groups})
    message_rows: dict[str, Any] = {
        row.id: row
        for row in await connection.execute(
            sa.select(
                messages.c.id,
                messages.c.account_id,
                messages.c.mail_from,
                messages.c.body,
                messages.c.created_at,
                messages.c.scheduled_at,
            ).where(messages.c.id.in_(message_ids))
        )
    }
    return [
        ClaimedJob(
            message_id=message_id,
            account_id=message_rows[message_id].account_id,
            mail_from=message_rows[message_id].mail_from,
            domain=domain,
            body=message_rows[message_id].body,
            created_at=message_rows[message_id].created_at,
            recipients=tuple(claimed),
            lease_until=lease_until,
            stream_rank=ranks[message_id],
            scheduled_at=message_rows[message_id].scheduled_at,
        )
        for (message_id, domain), claimed in groups.items()
    ]


async def _lock_in_id_order(
    connection: AsyncConnection, condition: sa.ColumnElement[bool]
) -> list[str]:
    """Lock the matching recipients in ascending id order and return their ids.

    Every writer that locks several recipients does so in id order (record_outcomes updates
    them sorted too): a single UPDATE ... WHERE id IN (...) locks in heap order instead, and
    two such transactions on one node (a renewal beside a recorded batch) deadlock on
    PostgreSQL, which aborts one; a lost renewal lets the lease run out and another node send
    the mail again. (SQLite has one writer and renders no FOR UPDATE.)
    """
    rows = await connection.execute(
        sa.select(recipients.c.id).where(condition).order_by(recipients.c.id).with_for_update()
    )
    return list(rows.scalars())


async def renew_lease(
    connection: AsyncConnection,
    owner: str,
    recipient_ids: Sequence[str],
    now: datetime,
    lease_s: float,
) -> int:
    """Extend the leases ``owner`` still holds; one run out but not yet reclaimed counts too."""
    if not recipient_ids:
        return 0
    ids = await _lock_in_id_order(
        connection,
        sa.and_(
            recipients.c.id.in_(list(recipient_ids)),
            recipients.c.lease_owner == owner,
            recipients.c.status.in_(_ACTIVE),
        ),
    )
    if not ids:
        return 0
    result = await connection.execute(
        sa.update(recipients)
        .where(recipients.c.id.in_(ids))
        .values(lease_until=now + timedelta(seconds=lease_s))
    )
    return result.rowcount


async def release_lease(
    connection: AsyncConnection, owner: str, recipient_ids: Sequence[str]
) -> int:
    """Drop the leases ``owner`` holds, so the recipients are due again at once."""
    if not recipient_ids:
        return 0
    ids = await _lock_in_id_order(
        connection,
        sa.and_(recipients.c.id.in_(list(recipient_ids)), recipients.c.lease_owner == owner),
    )
    if not ids:
        return 0
    result = await connection.execute(
        sa.update(recipients)
        .where(recipients.c.id.in_(ids))
        .values(lease_owner=None, lease_until=None)
    )
    return result.rowcount
