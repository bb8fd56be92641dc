"""Enqueue with an idempotency key and the envelope sender that names the message, in one
transaction.

Owns the ``idempotency_keys`` queries and the ingest path the send service uses: look the key
up (a fresh row is a replay: nothing is written), store the messages (storage/ingest.py), set
each message's envelope sender from its new id (``mail_from(index, id)``), and store the key
with the answer, all in one unit of the grouped ingest commit (Transactions.ingest), so the key
and its messages are durable together. Two requests racing with one key: units run one after
another on the writer's connection, so the second sees the first's row (committed or in the
same group) and replays it; between PostgreSQL nodes the second insert of the key violates its
primary key, its savepoint rolls back (its messages with it) and the first answer is read.
It must not decide whether a replay conflicts (services/sending.py compares fingerprints).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.storage import ingest
from postillon.storage.records import EnqueueResult, NewMessage
from postillon.storage.schema import idempotency_keys, messages
from postillon.storage.transactions import Transactions

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class IdempotencyKey:
    """A request's key, its fingerprint, and the oldest creation time still honoured."""

    account_id: str
    key: str
    fingerprint: str
    not_before: datetime


@dataclass(frozen=True)
class Replay:
    """The stored first use of a key: its fingerprint and answer."""

    fingerprint: str
    response: JsonObject


@dataclass(frozen=True)
class IngestOutcome:
    """Either the new messages' answer (``response``) or an earlier use of the key."""

    response: JsonObject
    replay: Replay | None = None


class SqlIngest:
    """Idempotent enqueue over the ingest queries and the ``idempotency_keys`` table."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    async def find_replay(self, key: IdempotencyKey) -> Replay | None:
        """The key's first use if it is still fresh, else None."""
        async with self._tx.read() as connection:
            return await _fresh(connection, key)

    async def enqueue(
        self,
        batch: Sequence[NewMessage],
        *,
        mail_from: Callable[[int, str], str],
        idempotency: IdempotencyKey | None,
        respond: Callable[[Sequence[EnqueueResult]], JsonObject],
    ) -> IngestOutcome:
        """Store ``batch`` (all or none) with envelope senders ``mail_from(index, id)`` and,
        with a key, the answer ``respond(results)``; returns after the commit. A fresh earlier
        use of the key returns as ``replay`` and nothing is written. Raises StorageError as
        :meth:`SqlStore.enqueue_many` does."""
        try:
            async with self._tx.ingest() as connection:
                if idempotency is not None:
                    replay = await _fresh(connection, idempotency)
                    if replay is not None:
                        return IngestOutcome(response=replay.response, replay=replay)
                now = self._tx.clock.now()
                results = await ingest.enqueue_many(
                    connection, batch, now=now, make_id=self._tx.new_id
                )
                for index, result in enumerate(results):
                    await connection.execute(
                        sa.update(messages)
                        .where(messages.c.id == result.message_id)
                        .values(mail_from=mail_from(index, result.message_id))
                    )
                response = respond(results)
                if idempotency is not None:
                    await _remember(connection, idempotency, response, now)
            self._tx.engines.due.fire()
            return IngestOutcome(response=response)
        except sa_exc.IntegrityError:
            if idempotency is None:
                raise
            replay = await self.find_replay(idempotency)
            if replay is None:
                raise
            return IngestOutcome(response=replay.response, replay=replay)

    async def forget_before(self, before: datetime) -> int:
        """Delete keys created before ``before`` (housekeeping); returns how many."""
        async with self._tx.write() as connection:
            result = await connection.execute(
                sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
            )
            return result.rowcount


async def _fresh(connection: AsyncConnection, key: IdempotencyKey) -> Replay | None:
    row = (
        await connection.execute(
            sa.select(idempotency_keys).where(
                idempotency_keys.c.account_id == key.account_id,
                idempotency_keys.c.key == key.key,
                idempotency_keys.c.created_at >= key.not_before,
            )
        )
    ).first()
    return None if row is None else Replay(fingerprint=row.fingerprint, response=row.response)


async def _remember(
    connection: AsyncConnection, key: IdempotencyKey, response: JsonObject, now: datetime
) -> None:
    # An expired row of the same key is replaced: the key is free again after its lifetime.
    await connection.execute(
        sa.delete(idempotency_keys).where(
            idempotency_keys.c.account_id == key.account_id,
            idempotency_keys.c.key == key.key,
        )
    )
    await connection.execute(
        sa.insert(idempotency_keys).values(
            account_id=key.account_id,
            key=key.key,
            fingerprint=key.fingerprint,
            response=dict(response),
            created_at=now,
        )
    )
