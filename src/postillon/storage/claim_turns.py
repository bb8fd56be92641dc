"""Fair turns: which due recipients one claim takes, account by account and stream by stream.

Owns the claim order (deficit round-robin with an equal quantum). The accounts with waiting
mail are found by skipping through ``ix_recipients_fair`` (one index probe per account, however
deep each account's queue); the limit is shared out equally between them, each account's share
taken transactional first (queue/stream.py), oldest first; what an account leaves of its share
goes round again, in equal parts, to the accounts that had more. The account a claim starts
with rotates from claim to claim (:class:`ClaimTurns`, one per node), so an account that
comes last in one claim comes earlier in the next. One account's backlog therefore never
delays another's due mail by more than one claim: each claim gives every account with due mail
at least one recipient (when the limit allows as many accounts; the rotation reaches the rest
in the following claims).

Every read locks ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so nodes claiming at once skip each
other's rows; SQLite has one writer and renders no FOR UPDATE.
It must not open transactions nor write (claims.py stamps the leases).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.queue.status import ACTIVE_STATUSES
from postillon.queue.stream import RANKS
from postillon.storage.schema import recipients

# The waiting statuses written into the SQL text (not bound): a partial index is usable only
# when the query's test is the index's own (ix_recipients_due, ix_recipients_fair, schema.py).
WAITING_SQL = "status IN ('deferred', 'queued')"
WAITING = sa.text(f"recipients.{WAITING_SQL}")
if sorted(s.value for s in ACTIVE_STATUSES) != ["deferred", "queued"]:  # pragma: no cover
    raise RuntimeError("the partial indexes and WAITING_SQL must list the waiting statuses")

# The accounts with waiting mail, by a loose index scan of ix_recipients_fair: each step is
# one probe for the next account id (a recursive CTE; neither SQLite nor PostgreSQL < 18
# skip-scans by itself), so the cost is O(accounts), not O(waiting recipients). SQLite's planner
# prefers the status index for ``status IN (...)`` and would read every waiting recipient per
# step, so there the index is named (INDEXED BY fails loudly if it ever goes missing).
_ACCOUNTS_SQL = (
    "WITH RECURSIVE waiting(account_id) AS ("
    " SELECT MIN(account_id) FROM recipients{hint} WHERE status IN ('deferred', 'queued')"
    " UNION ALL"
    " SELECT (SELECT MIN(r.account_id) FROM recipients AS r{hint}"
    "  WHERE r.status IN ('deferred', 'queued') AND r.account_id > waiting.account_id)"
    " FROM waiting WHERE waiting.account_id IS NOT NULL"
    ") SELECT account_id FROM waiting WHERE account_id IS NOT NULL"
)
_ACCOUNTS = {
    "sqlite": sa.text(_ACCOUNTS_SQL.format(hint=" INDEXED BY ix_recipients_fair")),
    "postgresql": sa.text(_ACCOUNTS_SQL.format(hint="")),
}


@dataclass
class ClaimTurns:
    """Where this node's next claim starts: after ``after`` in account id order (None: at the
    first). One per node; the rotation needs no shared state, because every claim gives each
    account its share anyway and the rotation only decides who gets the leftover first."""

    after: str | None = None


def is_due(now: datetime) -> sa.ColumnElement[bool]:
    """Waiting, due, and not leased (or its lease ran out)."""
    return sa.and_(
        WAITING,
        recipients.c.next_attempt_at <= now,
        sa.or_(recipients.c.lease_until.is_(None), recipients.c.lease_until <= now),
    )


def _in_rotation(accounts: Sequence[str], after: str | None) -> list[str]:
    """``accounts`` (sorted) starting with the first one after ``after``, wrapping around."""
    start = 0 if after is None else next((i for i, a in enumerate(accounts) if a > after), 0)
    return [*accounts[start:], *accounts[:start]]


async def _take(
    connection: AsyncConnection,
    account_id: str,
    now: datetime,
    limit: int,
    taken: Sequence[str],
) -> list[str]:
    """Up to ``limit`` due recipient ids of one account, lowest stream rank first, oldest
    first within a rank, leaving out ``taken``. One range read per rank, so a rank's recipients
    deferred into the future are never scanned on the way to the next rank's due ones."""
    ids: list[str] = []
    for rank in RANKS:
        if len(ids) >= limit:
            break
        query = (
            sa.select(recipients.c.id)
            .where(
                recipients.c.account_id == account_id,
                recipients.c.stream_rank == rank,
                is_due(now),
            )
            .order_by(recipients.c.next_attempt_at, recipients.c.id)
            .limit(limit - len(ids))
            .with_for_update(skip_locked=True)
        )
        if taken:
            query = query.where(recipients.c.id.not_in(list(taken)))
        ids.extend((await connection.execute(query)).scalars())
    return ids


async def fair_due_ids(
    connection: AsyncConnection, now: datetime, limit: int, turns: ClaimTurns
) -> list[str]:
    """Up to ``limit`` due recipient ids, shared out between the accounts that have some, and
    the rotation moved on in ``turns``."""
    accounts = list((await connection.execute(_ACCOUNTS[connection.dialect.name])).scalars())
    order = _in_rotation(sorted(accounts), turns.after)
    taken: dict[str, list[str]] = {account_id: [] for account_id in order}
    remaining = limit
    probed = 0
    active = order
    first_round = True
    # Water-filling: each round shares what is left equally between the accounts that filled
    # their share in the round before; a round ends the claim or drops at least one account.
    while remaining > 0 and active:
        filled = []
        share = max(1, remaining // len(active))
        for index, account_id in enumerate(active):
            if remaining <= 0:
                break
            got = await _take(connection, account_id, now, min(share, remaining), taken[account_id])
            taken[account_id].extend(got)
            remaining -= len(got)
            if first_round:
                probed = index + 1
            if len(got) == share:
                filled.append(account_id)
        active, first_round = filled, False
    served = [account_id for account_id in order[:probed] if taken[account_id]]
    if probed < len(order):
        turns.after = order[probed - 1]  # the next claim starts with the first one not probed
    elif served:
        turns.after = served[0]  # every account had its turn: the rotation moves on by one
    return [recipient_id for account_id in order[:probed] for recipient_id in taken[account_id]]
