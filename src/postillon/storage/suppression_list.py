"""The per-account suppression list: addresses never sent to again (after a hard bounce).

Owns the list's rows. Addresses are compared in lower case: receivers treat local parts
case-insensitively in practice, and a customer who bounced on ``Bob@x`` must not reach ``bob@x``.
Inserts ignore an address already listed, with each dialect's own ON CONFLICT DO NOTHING (two
nodes may bounce the same address at once).
It must not open its own transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.storage.records import Suppression
from postillon.storage.schema import suppressions

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
) -> bool:
    """Add an address; False if it was listed already."""
    values = {
        "account_id": account_id,
        "address": address_key(address),
        "reason": reason,
        "source_message_id": source_message_id,
        "created_at": now,
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
    return [
        Suppression(
            account_id=row.account_id,
            address=row.address,
            reason=row.reason,
            source_message_id=row.source_message_id,
            created_at=row.created_at,
        )
        for row in rows
    ]
