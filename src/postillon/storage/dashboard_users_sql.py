"""Dashboard users in the database: insert, look up by email or id, list, remove, change the
password hash, record a sign-in.

Owns the ``dashboard_users`` queries and :class:`DashboardUserRecord`. Emails arrive already
lower-cased and validated, and the column is unique across accounts: an email names one person
of one account, which is what sign-in needs. Changing the password moves
``password_changed_at`` (sessions issued before it are refused); re-hashing the same password
under new parameters does not. It must not hash, verify or compare passwords
(services/users.py does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from postillon.storage.records import Account
from postillon.storage.schema import accounts, dashboard_users
from postillon.storage.transactions import Transactions

# Listing bound: an account with more dashboard users than this needs another tool.
MAX_USERS_LISTED = 1000

_T = dashboard_users


@dataclass(frozen=True)
class DashboardUserRecord:
    """One row of ``dashboard_users``."""

    id: str
    account_id: str
    email: str
    password_hash: str
    created_at: datetime
    password_changed_at: datetime
    last_sign_in_at: datetime | None
    sessions_ended_at: datetime | None = None


def _record(row: Any) -> DashboardUserRecord:
    return DashboardUserRecord(
        id=row.id,
        account_id=row.account_id,
        email=row.email,
        password_hash=row.password_hash,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
        last_sign_in_at=row.last_sign_in_at,
        sessions_ended_at=row.sessions_ended_at,
    )


class SqlDashboardUsers:
    """The ``dashboard_users`` table."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def insert(
        self, account_id: str, email: str, password_hash: str
    ) -> DashboardUserRecord | None:
        """Store a new user; None when the account has a user with this email already."""
        now = self._tx.clock.now()
        record = DashboardUserRecord(
            id=self._tx.new_id(),
            account_id=account_id,
            email=email,
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
            last_sign_in_at=None,
        )
        try:
            async with self._tx.write() as connection:
                await connection.execute(
                    sa.insert(_T).values(
                        id=record.id,
                        account_id=account_id,
                        email=email,
                        password_hash=password_hash,
                        created_at=now,
                        password_changed_at=now,
                    )
                )
        except sa_exc.IntegrityError:
            return None
        return record

    async def find_by_email(
        self, email: str, account_name: str | None = None, *, limit: int = 2
    ) -> list[tuple[DashboardUserRecord, Account]]:
        """Users with this (lower-case) email (of the account named ``account_name`` only,
        when given) and their accounts; at most ``limit``, oldest first."""
        where = _T.c.email == email
        if account_name is not None:
            where = sa.and_(where, accounts.c.name == account_name)
        return await self._find_all(where, limit)

    async def find_by_id(self, user_id: str) -> tuple[DashboardUserRecord, Account] | None:
        """The user with this id and their account; None if unknown (or removed)."""
        return await self._find(_T.c.id == user_id)

    async def list_for(self, account_id: str) -> list[DashboardUserRecord]:
        """The account's users by email."""
        query = (
            sa.select(_T)
            .where(_T.c.account_id == account_id)
            .order_by(_T.c.email)
            .limit(MAX_USERS_LISTED)
        )
        async with self._tx.read() as connection:
            return [_record(row) for row in await connection.execute(query)]

    async def delete(self, account_id: str, email: str) -> bool:
        """Remove the account's user with this email; False if the account has none."""
        owned = sa.and_(_T.c.account_id == account_id, _T.c.email == email)
        async with self._tx.write() as connection:
            result = await connection.execute(sa.delete(_T).where(owned))
        return result.rowcount == 1

    async def set_password(self, account_id: str, email: str, password_hash: str) -> bool:
        """Replace the password of the account's user with this email (sessions issued
        before now are refused from here on); False if the account has no such user."""
        owned = sa.and_(_T.c.account_id == account_id, _T.c.email == email)
        async with self._tx.write() as connection:
            result = await connection.execute(
                sa.update(_T)
                .where(owned)
                .values(password_hash=password_hash, password_changed_at=self._tx.clock.now())
            )
        return result.rowcount == 1

    async def rehash(self, user_id: str, old_hash: str, new_hash: str) -> None:
        """Store the same password under new hash parameters, unless it changed meanwhile;
        sessions are untouched."""
        async with self._tx.write() as connection:
            await connection.execute(
                sa.update(_T)
                .where(_T.c.id == user_id, _T.c.password_hash == old_hash)
                .values(password_hash=new_hash)
            )

    async def end_sessions(self, user_id: str, now: datetime) -> None:
        """End the user's sessions issued before ``now``."""
        async with self._tx.write() as connection:
            await connection.execute(
                sa.update(_T).where(_T.c.id == user_id).values(sessions_ended_at=now)
            )

    async def touch_sign_in(self, user_id: str, now: datetime) -> None:
        """Record a successful sign-in."""
        async with self._tx.write() as connection:
            await connection.execute(
                sa.update(_T).where(_T.c.id == user_id).values(last_sign_in_at=now)
            )

    async def _find(self, where: Any) -> tuple[DashboardUserRecord, Account] | None:
        found = await self._find_all(where, 1)
        return found[0] if found else None

    async def _find_all(self, where: Any, limit: int) -> list[tuple[DashboardUserRecord, Account]]:
        query = (
            sa.select(
                _T,
                accounts.c.name.label("account_name"),
                accounts.c.created_at.label("account_created_at"),
            )
            .join(accounts, accounts.c.id == _T.c.account_id)
            .where(where)
            .order_by(_T.c.id)
            .limit(limit)
        )
        async with self._tx.read() as connection:
            rows = list(await connection.execute(query))
        return [
            (
                _record(row),
                Account(
                    id=row.account_id, name=row.account_name, created_at=row.account_created_at
                ),
            )
            for row in rows
        ]
