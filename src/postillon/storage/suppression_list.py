"""The per-account suppression list: addresses never sent to again (after a hard bounce, a
complaint, an unsubscribe, or by hand), each with its reason and a detail.

Owns the list's rows. Addresses are compared in lower case: receivers treat local parts
case-insensitively in practice, and a customer who bounced on ``Bob@x`` must not reach ``bob@x``.
Inserts ignore an address already listed, with each dialect's own ON CONFLICT DO NOTHING (two
nodes may bounce the same address at once). :func:`page_for` reads the list a page at a time
(newest first, keyset on created time then address) with an optional address search.
It must not open its own transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.storage.like import contains
from postillon.storage.records import Suppression
from postillon.storage.schema import messages, suppressions

# Why an address is listed: a hard bounce (sync or reported later by mail), a recipient's
# complaint (ARF feedback loop), a one-click unsubscribe, or the account itself.
BOUNCE = "bounce"
COMPLAINT = "complaint"
UNSUBSCRIBE = "unsubscribe"
MANUAL = "manual"
REASONS = frozenset({BOUNCE, COMPLAINT, UNSUBSCRIBE, MANUAL})
# The detail kept beside the reason: a bounce reply of a few lines.
MAX_DETAIL_CHARS = 1000
# Bound on bound parameters per IN (...): far below SQLite's and PostgreSQL's limits.
IN_CHUNK = 500


def address_key(address: str) -> str:
    """The form the list compares addresses in."""
    return address.strip().lower()


async def add(
    connection: AsyncConnection,
    *,
    account_id: str,
    address: str,
    reason: str,
    source_message_id: str | None,
    now: datetime,
    detail: str | None = None,
) -> bool:
    """Add an address with ``reason`` (one of :data:`REASONS`); False if it was listed
    already. Raises ValueError for another reason."""
    if reason not in REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}")
    values = {
        "account_id": account_id,
        "address": address_key(address),
        "reason": reason,
        "source_message_id": source_message_id,
        "created_at": now,
        "detail": detail[:MAX_DETAIL_CHARS] if detail else None,
    }
    keys = [suppressions.c.account_id, suppressions.c.address]
    if connection.dialect.name == "postgresql":
        statement: sa.Insert = (
            postgresql.insert(suppressions)
            .values(values)
            .on_conflict_do_nothing(index_elements=keys)
        )
    else:
        statement = (
            sqlite.insert(suppressions).values(values).on_conflict_do_nothing(index_elements=keys)
        )
    result = await connection.execute(statement)
    return result.rowcount == 1


async def remove(connection: AsyncConnection, account_id: str, address: str) -> bool:
    """Remove an address; False if it was not listed."""
    result = await connection.execute(
        sa.delete(suppressions).where(
            suppressions.c.account_id == account_id,
            suppressions.c.address == address_key(address),
        )
    )
    return result.rowcount == 1


async def listed_among(
    connection: AsyncConnection, account_id: str, addresses: Iterable[str]
) -> set[str]:
    """The address keys among ``addresses`` that the account has suppressed."""
    keys = sorted({address_key(address) for address in addresses})
    found: set[str] = set()
    for start in range(0, len(keys), IN_CHUNK):
        rows = await connection.execute(
            sa.select(suppressions.c.address).where(
                suppressions.c.account_id == account_id,
                suppressions.c.address.in_(keys[start : start + IN_CHUNK]),
            )
        )
        found.update(rows.scalars())
    return found


async def list_for(connection: AsyncConnection, account_id: str, limit: int) -> list[Suppression]:
    """The account's list, newest first."""
    rows = await connection.execute(
        sa.select(suppressions)
        .where(suppressions.c.account_id == account_id)
        .order_by(suppressions.c.created_at.desc(), suppressions.c.address)
        .limit(limit)
    )
    return [_suppression(row) for row in rows]


async def page_for(
    connection: AsyncConnection,
    account_id: str,
    *,
    search: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[Suppression, str | None]]:
    """Up to ``limit`` of the account's rows, newest first, each with the subject of its
    source message (None when there is none, or it is gone or another account's).

    ``search`` matches anywhere in the address, in any case (addresses are stored in lower
    case, so the search is lowered too: the same answer on both dialects). ``after`` is the
    (created time, address) of the last row of the page before.
    """
    source = sa.and_(
        messages.c.id == suppressions.c.source_message_id,
        messages.c.account_id == suppressions.c.account_id,
    )
    query = (
        sa.select(suppressions, messages.c.id.label("source_id"), messages.c.subject)
        .select_from(suppressions.outerjoin(messages, source))
        .where(suppressions.c.account_id == account_id)
    )
    if search:
        # PostgreSQL refuses NUL in a text parameter; no stored address holds one.
        if "\x00" in search:
            return []
        query = query.where(contains(suppressions.c.address, address_key(search)))
    if after is not None:
        created_at, address = after
        query = query.where(
            sa.or_(
                suppressions.c.created_at < created_at,
                sa.and_(suppressions.c.created_at == created_at, suppressions.c.address > address),
            )
        )
    rows = await connection.execute(
        query.order_by(suppressions.c.created_at.desc(), suppressions.c.address).limit(limit)
    )
    return [
        (_suppression(row), (row.subject or "") if row.source_id is not None else None)
        for row in rows
    ]


def _suppression(row: Any) -> Suppression:
    return Suppression(
        account_id=row.account_id,
        address=row.address,
        reason=row.reason,
        source_message_id=row.source_message_id,
        created_at=row.created_at,
        detail=row.detail,
    )
