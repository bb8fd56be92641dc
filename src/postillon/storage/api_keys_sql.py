"""API keys in the database: insert, look up by digest, touch, list, revoke.

Owns the ``api_keys`` queries; the key material never reaches this module (only its digest).
It must not hash or compare secrets (services/keys.py does).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from postillon.storage.records import Account
from postillon.storage.schema import accounts, api_keys
from postillon.storage.tenant_records import ApiKeyRecord
from postillon.storage.transactions import Transactions

# Listing bound: an account with more keys than this has a problem a listing will not solve.
MAX_KEYS_LISTED = 1000


def _record(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        account_id=row.account_id,
        digest=row.digest,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        sessions_ended_at=row.sessions_ended_at,
    )


class SqlApiKeys:
    """The ``api_keys`` table."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def insert(self, account_id: str, digest: str, prefix: str) -> ApiKeyRecord:
        """Store a new key's digest and prefix."""
        record = ApiKeyRecord(
            id=self._tx.new_id(),
            account_id=account_id,
            digest=digest,
            prefix=prefix,
            created_at=self._tx.clock.now(),
            last_used_at=None,
            revoked_at=None,
        )
        async with self._tx.write() as connection:
            await connection.execute(
                sa.insert(api_keys).values(
                    id=record.id,
                    account_id=account_id,
                    digest=digest,
                    prefix=prefix,
                    created_at=record.created_at,
                )
            )
        return record

    async def end_sessions(self, key_id: str, now: datetime) -> None:
        """End the dashboard sessions of the key issued before ``now``."""
        async with self._tx.write() as connection:
            await connection.execute(
                sa.update(api_keys).where(api_keys.c.id == key_id).values(sessions_ended_at=now)
            )

    async def account_named(self, name: str) -> Account | None:
        """The account named ``name``; None if there is none (never creates one)."""
        async with self._tx.read() as connection:
            row = (
                await connection.execute(sa.select(accounts).where(accounts.c.name == name))
            ).first()
        return None if row is None else Account(id=row.id, name=row.name, created_at=row.created_at)

    async def find_by_digest(self, digest: str) -> tuple[ApiKeyRecord, Account] | None:
        """The key with this digest and its account, revoked or not; None if unknown."""
        query = (
            sa.select(
                api_keys,
                accounts.c.name.label("account_name"),
                accounts.c.created_at.label("account_created_at"),
            )
            .join(accounts, accounts.c.id == api_keys.c.account_id)
            .where(api_keys.c.digest == digest)
        )
        async with self._tx.read() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        account = Account(
            id=row.account_id, name=row.account_name, created_at=row.account_created_at
        )
        return _record(row), account

    async def touch(self, key_id: str, now: datetime) -> None:
        """Record a use of the key."""
        async with self._tx.write() as connection:
            await connection.execute(
                sa.update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=now)
            )

    async def list_for(self, account_id: str) -> list[ApiKeyRecord]:
        """The account's keys, newest first."""
        query = (
            sa.select(api_keys)
            .where(api_keys.c.account_id == account_id)
            .order_by(api_keys.c.id.desc())
            .limit(MAX_KEYS_LISTED)
        )
        async with self._tx.read() as connection:
            return [_record(row) for row in await connection.execute(query)]

    async def revoke(self, account_id: str, key_id: str) -> bool | None:
        """Revoke the account's key: True if revoked now, False if it was already, None if
        the account has no such key."""
        owned = sa.and_(api_keys.c.id == key_id, api_keys.c.account_id == account_id)
        async with self._tx.write() as connection:
            result = await connection.execute(
                sa.update(api_keys)
                .where(owned, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._tx.clock.now())
            )
            if result.rowcount == 1:
                return True
            exists = (await connection.execute(sa.select(api_keys.c.id).where(owned))).first()
        return False if exists is not None else None
