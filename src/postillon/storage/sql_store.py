"""The Store on SQLAlchemy Core (async): SQLite by default, PostgreSQL with the same queries.

Owns transactions: each public method is one write through :meth:`Engines.write` (a unit of
the single writer on SQLite; ingest through :meth:`Engines.ingest`, grouped on every database)
or a read on the reader engine, and returns after its commit. Enqueue, retry-now and cancel
fire ``engines.due`` after their commit so this node's engine looks at the queue at once.
Times come from the injected clock (except where the caller passes ``now``),
ids from :func:`postillon.storage.ids.new_id`.
Driver errors that mean "busy / unreachable" become StorageUnavailableError (temporary).
It must not decide outcomes or schedules (queue/ does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from postillon.clock import Clock
from postillon.queue.status import ACTIVE_STATUSES, RecipientStatus
from postillon.storage import cancel as cancellation
from postillon.storage import claims, ingest, outbox, reads, suppression_list
from postillon.storage import outcomes as outcome_rows
from postillon.storage.claim_turns import ClaimTurns
from postillon.storage.connect import Engines, create_engines
from postillon.storage.errors import StorageUnavailableError
from postillon.storage.ids import RandomBytes, new_id
from postillon.storage.migrate import upgrade_to_head
from postillon.storage.protocol import Store
from postillon.storage.records import (
    Account,
    CancelResult,
    ClaimedJob,
    EnqueueResult,
    MessageFilter,
    MessageView,
    NewMessage,
    OutboxEvent,
    Page,
    RecipientOutcome,
    RecipientView,
    RecordResult,
    Suppression,
)
from postillon.storage.schema import accounts, messages, recipients

_ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)


class SqlStore:
    """:class:`postillon.storage.protocol.Store` over SQLAlchemy Core."""

    def __init__(
        self, engines: Engines, clock: Clock, random_bytes: RandomBytes | None = None
    ) -> None:
        self._engines = engines
        self._clock = clock
        self._random_bytes = random_bytes
        # Where this node's next claim starts in the accounts' rotation (claim_turns.py).
        self._claim_turns = ClaimTurns()

    @classmethod
    def from_url(cls, url: str, clock: Clock, random_bytes: RandomBytes | None = None) -> SqlStore:
        """A store for ``[storage] url`` (``sqlite:///path`` or ``postgresql://...``)."""
        return cls(create_engines(url), clock, random_bytes)

    @property
    def engines(self) -> Engines:
        """The engines, for stores of other tables on the same database."""
        return self._engines

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engines.dialect

    def _new_id(self) -> str:
        now = self._clock.now()
        if self._random_bytes is None:
            return new_id(now)
        return new_id(now, self._random_bytes)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._translate(), self._engines.write() as connection:
            yield connection

    @asynccontextmanager
    async def _ingest(self) -> AsyncIterator[AsyncConnection]:
        async with self._translate(), self._engines.ingest() as connection:
            yield connection

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._translate(), self._engines.reader.connect() as connection:
            yield connection

    @asynccontextmanager
    async def _translate(self) -> AsyncIterator[None]:
        try:
            yield
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as error:
            raise StorageUnavailableError(f"database unavailable: {error.orig}") from error

    @property
    def writer(self) -> AsyncEngine:
        """The write engine (for tests and tools that need raw access)."""
        return self._engines.writer

    async def migrate(self) -> None:
        await upgrade_to_head(self._engines.writer)

    async def close(self) -> None:
        await self._engines.dispose()

    async def ensure_account(self, name: str) -> Account:
        async with self._write() as connection:
            found = (
                await connection.execute(sa.select(accounts).where(accounts.c.name == name))
            ).first()
            if found is None:
                account = Account(id=self._new_id(), name=name, created_at=self._clock.now())
                await connection.execute(
                    sa.insert(accounts).values(
                        id=account.id, name=account.name, created_at=account.created_at
                    )
                )
                return account
            return Account(id=found.id, name=found.name, created_at=found.created_at)

    async def get_account(self, account_id: str) -> Account | None:
        async with self._read() as connection:
            found = (
                await connection.execute(sa.select(accounts).where(accounts.c.id == account_id))
            ).first()
        if found is None:
            return None
        return Account(id=found.id, name=found.name, created_at=found.created_at)

    async def enqueue(self, message: NewMessage) -> EnqueueResult:
        [result] = await self.enqueue_many([message])
        return result

    async def enqueue_many(self, messages: Sequence[NewMessage]) -> list[EnqueueResult]:
        async with self._ingest() as connection:
            results = await ingest.enqueue_many(
                connection, messages, now=self._clock.now(), make_id=self._new_id
            )
        self._engines.due.fire()
        return results

    async def claim_due(
        self, owner: str, now: datetime, lease_s: float, limit: int
    ) -> list[ClaimedJob]:
        async with self._write() as connection:
            return await claims.claim_due(
                connection, owner, now, lease_s, limit, turns=self._claim_turns
            )

    async def renew_lease(
        self, owner: str, recipient_ids: Sequence[str], now: datetime, lease_s: float
    ) -> int:
        async with self._write() as connection:
            return await claims.renew_lease(connection, owner, recipient_ids, now, lease_s)

    async def release_lease(self, owner: str, recipient_ids: Sequence[str]) -> int:
        async with self._write() as connection:
            return await claims.release_lease(connection, owner, recipient_ids)

    async def record_outcomes(
        self, owner: str, outcomes: Sequence[RecipientOutcome]
    ) -> RecordResult:
        async with self._write() as connection:
            return await outcome_rows.record_outcomes(
                connection, owner, outcomes, now=self._clock.now(), make_id=self._new_id
            )

    async def get_message(
        self, message_id: str, *, account_id: str | None = None, with_body: bool = False
    ) -> MessageView | None:
        async with self._read() as connection:
            return await reads.get_message(connection, message_id, account_id, with_body)

    async def list_messages(
        self, filters: MessageFilter, *, limit: int, cursor: str | None = None
    ) -> Page:
        async with self._read() as connection:
            return await reads.list_messages(connection, filters, limit, cursor)

    async def list_queue(
        self, *, limit: int, status: RecipientStatus | None = None, domain: str | None = None
    ) -> list[RecipientView]:
        async with self._read() as connection:
            return await reads.list_queue(connection, limit=limit, status=status, domain=domain)

    async def retry_now(
        self, message_id: str | None = None, *, account_id: str | None = None
    ) -> int:
        now = self._clock.now()
        statement = (
            sa.update(recipients)
            .where(recipients.c.status.in_(_ACTIVE))
            .values(next_attempt_at=now, updated_at=now)
        )
        if message_id is not None:
            statement = statement.where(recipients.c.message_id == message_id)
        if account_id is not None:
            owned = sa.select(messages.c.id).where(messages.c.account_id == account_id)
            statement = statement.where(recipients.c.message_id.in_(owned))
        async with self._write() as connection:
            count = (await connection.execute(statement)).rowcount
        if count:
            self._engines.due.fire()
        return count

    async def delete_message(self, message_id: str) -> bool:
        async with self._write() as connection:
            result = await connection.execute(
                sa.delete(messages).where(messages.c.id == message_id)
            )
            return result.rowcount == 1

    async def cancel(
        self, message_id: str, now: datetime, *, account_id: str | None = None
    ) -> CancelResult | None:
        async with self._write() as connection:
            result = await cancellation.cancel(
                connection, message_id, now=now, make_id=self._new_id, account_id=account_id
            )
        # Cancel changes what is due: the engine looks at the queue again at once, as after
        # any change to it.
        self._engines.due.fire()
        return result

    async def suppress(
        self, account_id: str, address: str, reason: str, source_message_id: str | None = None
    ) -> bool:
        async with self._write() as connection:
            return await suppression_list.add(
                connection,
                account_id=account_id,
                address=address,
                reason=reason,
                source_message_id=source_message_id,
                now=self._clock.now(),
            )

    async def unsuppress(self, account_id: str, address: str) -> bool:
        async with self._write() as connection:
            return await suppression_list.remove(connection, account_id, address)

    async def list_suppressions(self, account_id: str, *, limit: int) -> list[Suppression]:
        async with self._read() as connection:
            return await suppression_list.list_for(connection, account_id, limit)

    async def claim_events(
        self, owner: str, now: datetime, lease_s: float, limit: int
    ) -> list[OutboxEvent]:
        async with self._write() as connection:
            return await outbox.claim_events(connection, owner, now, lease_s, limit)

    async def mark_dispatched(self, event_ids: Sequence[str]) -> int:
        async with self._write() as connection:
            return await outbox.mark_dispatched(connection, event_ids, self._clock.now())

    async def list_events(
        self,
        *,
        account_id: str | None = None,
        message_id: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[OutboxEvent]:
        async with self._read() as connection:
            return await outbox.list_events(
                connection,
                account_id=account_id,
                message_id=message_id,
                after_seq=after_seq,
                limit=limit,
            )


def as_store(store: SqlStore) -> Store:
    """``store`` as the protocol (mypy proves here that SqlStore implements Store)."""
    return store
