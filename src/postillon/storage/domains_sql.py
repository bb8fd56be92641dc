"""Sender domains and their DKIM keys in the database.

Owns the ``sender_domains`` and ``dkim_keys`` queries: add a domain with its first key, read
one or all of an account's, delete, add a key (rotation), save a verification run (status,
results, and activating a key, which retires the other active ones, in one transaction).
It must not seal or open keys, nor decide what a check means (services/domains.py does).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.storage.outbox import event_row, insert_events
from postillon.storage.schema import dkim_keys, sender_domains
from postillon.storage.tenant_records import (
    CheckUpdate,
    DkimKeyRecord,
    DomainRecord,
    KeyStatus,
    NewDkimKey,
)
from postillon.storage.transactions import Transactions

# Listing bound: one page holds every domain any real account has.
MAX_DOMAINS_LISTED = 1000


def _key(row: Any) -> DkimKeyRecord:
    return DkimKeyRecord(
        id=row.id,
        selector=row.selector,
        key_type=row.key_type,
        sealed_key=row.sealed_key,
        key_record=row.key_record,
        status=KeyStatus(row.status),
        created_at=row.created_at,
        activated_at=row.activated_at,
    )


def _domain(row: Any, keys: Sequence[DkimKeyRecord]) -> DomainRecord:
    return DomainRecord(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        status=row.status,
        verified_at=row.verified_at,
        last_checked_at=row.last_checked_at,
        check_results=list(row.check_results),
        dmarc_policy=row.dmarc_policy,
        created_at=row.created_at,
        keys=tuple(keys),
        unsubscribe_default=bool(row.unsubscribe_default),
    )


async def _with_keys(connection: AsyncConnection, rows: Sequence[Any]) -> list[DomainRecord]:
    if not rows:
        return []
    keys: dict[str, list[DkimKeyRecord]] = {row.id: [] for row in rows}
    found = await connection.execute(
        sa.select(dkim_keys).where(dkim_keys.c.domain_id.in_(list(keys))).order_by(dkim_keys.c.id)
    )
    for row in found:
        keys[row.domain_id].append(_key(row))
    return [_domain(row, keys[row.id]) for row in rows]


class SqlDomains:
    """The ``sender_domains`` and ``dkim_keys`` tables."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def _key_row(self, domain_id: str, key: NewDkimKey, now: datetime) -> dict[str, Any]:
        return {
            "id": self._tx.new_id(),
            "domain_id": domain_id,
            "selector": key.selector,
            "key_type": key.key_type,
            "sealed_key": key.sealed_key,
            "key_record": key.key_record,
            "status": KeyStatus.PENDING.value,
            "created_at": now,
            "activated_at": None,
        }

    async def add(
        self, account_id: str, name: str, status: str, keys: Sequence[NewDkimKey]
    ) -> DomainRecord | None:
        """Store a new domain with its first key(s), pending; None if the account has it."""
        now = self._tx.clock.now()
        domain_id = self._tx.new_id()
        try:
            async with self._tx.write() as connection:
                if await self._find(connection, account_id, name) is not None:
                    return None
                await connection.execute(
                    sa.insert(sender_domains).values(
                        id=domain_id,
                        account_id=account_id,
                        name=name,
                        status=status,
                        verified_at=None,
                        last_checked_at=None,
                        check_results=[],
                        dmarc_policy=None,
                        created_at=now,
                    )
                )
                await connection.execute(
                    sa.insert(dkim_keys), [self._key_row(domain_id, k, now) for k in keys]
                )
        except sa_exc.IntegrityError:
            return None  # another request added it first (PostgreSQL, concurrent adds)
        return await self.get(account_id, name)

    async def _find(self, connection: AsyncConnection, account_id: str, name: str) -> Any:
        query = sa.select(sender_domains).where(
            sender_domains.c.account_id == account_id, sender_domains.c.name == name
        )
        return (await connection.execute(query)).first()

    async def get(self, account_id: str, name: str) -> DomainRecord | None:
        """The account's domain ``name`` with its keys, or None."""
        async with self._tx.read() as connection:
            row = await self._find(connection, account_id, name)
            if row is None:
                return None
            [record] = await _with_keys(connection, [row])
        return record

    async def list_for(self, account_id: str) -> list[DomainRecord]:
        """The account's domains by name."""
        query = (
            sa.select(sender_domains)
            .where(sender_domains.c.account_id == account_id)
            .order_by(sender_domains.c.name)
            .limit(MAX_DOMAINS_LISTED)
        )
        async with self._tx.read() as connection:
            rows = list(await connection.execute(query))
            return await _with_keys(connection, rows)

    async def due_for_check(self, checked_before: datetime, limit: int) -> list[tuple[str, str]]:
        """(account id, name) of domains never checked or last checked before the time,
        longest waiting first: for the periodic re-check."""
        last = sender_domains.c.last_checked_at
        query = (
            sa.select(sender_domains.c.account_id, sender_domains.c.name)
            .where(sa.or_(last.is_(None), last < checked_before))
            .order_by(last.is_not(None), last)
            .limit(limit)
        )
        async with self._tx.read() as connection:
            return [(row.account_id, row.name) for row in await connection.execute(query)]

    async def set_unsubscribe_default(self, account_id: str, name: str, value: bool) -> bool:
        """Set the domain's one-click unsubscribe default; False for no such domain."""
        async with self._tx.write() as connection:
            result = await connection.execute(
                sa.update(sender_domains)
                .where(sender_domains.c.account_id == account_id, sender_domains.c.name == name)
                .values(unsubscribe_default=value)
            )
        return result.rowcount == 1

    async def delete(self, account_id: str, name: str) -> bool:
        """Delete the domain and its keys; False if the account has no such domain."""
        async with self._tx.write() as connection:
            row = await self._find(connection, account_id, name)
            if row is None:
                return False
            # Keys first: not every connection has ON DELETE CASCADE enforced.
            await connection.execute(sa.delete(dkim_keys).where(dkim_keys.c.domain_id == row.id))
            await connection.execute(sa.delete(sender_domains).where(sender_domains.c.id == row.id))
        return True

    async def add_key(self, domain_id: str, key: NewDkimKey) -> None:
        """Store another key for the domain (rotation), pending."""
        async with self._tx.write() as connection:
            row = self._key_row(domain_id, key, self._tx.clock.now())
            await connection.execute(sa.insert(dkim_keys).values(**row))

    async def save_check(self, domain_id: str, update: CheckUpdate, account_id: str) -> None:
        """Write a verification run, activate the keys it names (see :func:`_activate`) and
        append its event to the account's outbox, all in one commit."""
        async with self._tx.write() as connection:
            if update.event is not None:
                event_type, payload = update.event
                row = event_row(
                    make_id=self._tx.new_id,
                    now=update.checked_at,
                    account_id=account_id,
                    type=event_type,
                    payload=payload,
                )
                await insert_events(connection, [row])
            await connection.execute(
                sa.update(sender_domains)
                .where(sender_domains.c.id == domain_id)
                .values(
                    status=update.status,
                    verified_at=update.verified_at,
                    last_checked_at=update.checked_at,
                    check_results=list(update.check_results),
                    dmarc_policy=update.dmarc_policy,
                )
            )
            for key_id in update.activate_key_ids:
                await _activate(connection, domain_id, key_id, update.checked_at)


async def _activate(
    connection: AsyncConnection, domain_id: str, key_id: str, now: datetime
) -> None:
    """Make ``key_id`` sign; the domain's other keys of its type that are active, or older
    and still pending (superseded), retire."""
    key_type = (
        await connection.execute(sa.select(dkim_keys.c.key_type).where(dkim_keys.c.id == key_id))
    ).scalar_one()
    await connection.execute(
        sa.update(dkim_keys)
        .where(
            dkim_keys.c.domain_id == domain_id,
            dkim_keys.c.key_type == key_type,
            dkim_keys.c.id != key_id,
            sa.or_(dkim_keys.c.status == KeyStatus.ACTIVE.value, dkim_keys.c.id < key_id),
        )
        .values(status=KeyStatus.RETIRED.value)
    )
    await connection.execute(
        sa.update(dkim_keys)
        .where(dkim_keys.c.id == key_id)
        .values(status=KeyStatus.ACTIVE.value, activated_at=now)
    )
