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
from postillon.storage.ingest_groups import IngestGroups
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


@dataclass(frozen=True)
class IngestRequest:
    """One caller's messages, how to name their envelope senders and answer, and its key."""

    batch: Sequence[NewMessage]
    mail_from: Callable[[int, str], str]
    idempotency: IdempotencyKey | None
    respond: Callable[[Sequence[EnqueueResult]], JsonObject]


def _size(request: IngestRequest) -> int:
    return len(request.batch)


def _conflict(request: IngestRequest) -> tuple[str, str] | None:
    key = request.idempotency
    return None if key is None else (key.account_id, key.key)


class SqlIngest:
    """Idempotent enqueue over the ingest queries and the ``idempotency_keys`` table; the
    requests of concurrent callers are stored together (storage/ingest_groups.py)."""

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions
        self._groups: IngestGroups[IngestRequest, IngestOutcome] = IngestGroups(
            group=self._store_group, alone=self._store_alone, size=_size, conflict=_conflict
        )

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
        return await self._groups.submit(IngestRequest(batch, mail_from, idempotency, respond))

    async def _store_alone(self, request: IngestRequest) -> IngestOutcome:
        try:
            [outcome] = await self._store_group([request])
        except sa_exc.IntegrityError:
            # Another node stored the same key first (PostgreSQL): answer its result.
            if request.idempotency is None:
                raise
            replay = await self.find_replay(request.idempotency)
            if replay is None:
                raise
            return IngestOutcome(response=replay.response, replay=replay)
        return outcome

    async def _store_group(self, requests: Sequence[IngestRequest]) -> list[IngestOutcome]:
        """Every request in one unit of the grouped ingest commit: one statement per table
        for all of them (a round trip each), whatever their number."""
        outcomes: dict[int, IngestOutcome] = {}
        async with self._tx.ingest() as connection:
            keys = [r.idempotency for r in requests if r.idempotency is not None]
            replays = await _fresh_many(connection, keys)
            storing = []
            for index, request in enumerate(requests):
                key = request.idempotency
                replay = None if key is None else replays.get((key.account_id, key.key))
                if replay is not None:
                    outcomes[index] = IngestOutcome(response=replay.response, replay=replay)
                else:
                    storing.append(index)
            now = self._tx.clock.now()
            results = await ingest.enqueue_many(
                connection,
                [m for index in storing for m in requests[index].batch],
                now=now,
                make_id=self._tx.new_id,
            )
            senders: list[dict[str, str]] = []
            remember: list[tuple[IdempotencyKey, JsonObject]] = []
            for index in storing:
                request = requests[index]
                mine, results = results[: len(request.batch)], results[len(request.batch) :]
                for position, result in enumerate(mine):
                    sender = request.mail_from(position, result.message_id)
                    senders.append({"b_id": result.message_id, "b_mail_from": sender})
                response = request.respond(mine)
                outcomes[index] = IngestOutcome(response=response)
                if request.idempotency is not None:
                    remember.append((request.idempotency, response))
            if senders:
                await connection.execute(_SET_MAIL_FROM, senders)
            await _remember(connection, remember, now)
        if storing:
            self._tx.engines.due.fire()
        return [outcomes[index] for index in range(len(requests))]

    async def forget_before(self, before: datetime) -> int:
        """Delete keys created before ``before`` (housekeeping); returns how many."""
        async with self._tx.write() as connection:
            result = await connection.execute(
                sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
            )
            return result.rowcount


# Each message's envelope sender names its id, known only once the row is made: one
# executemany for all of a group's messages.
_SET_MAIL_FROM = (
    sa.update(messages)
    .where(messages.c.id == sa.bindparam("b_id"))
    .values(mail_from=sa.bindparam("b_mail_from"))
)


async def _fresh_many(
    connection: AsyncConnection, keys: Sequence[IdempotencyKey]
) -> dict[tuple[str, str], Replay]:
    """The fresh first uses of ``keys`` (one query), by (account, key)."""
    if not keys:
        return {}
    pairs = [(key.account_id, key.key) for key in keys]
    rows = await connection.execute(
        sa.select(idempotency_keys).where(
            sa.tuple_(idempotency_keys.c.account_id, idempotency_keys.c.key).in_(pairs)
        )
    )
    not_before = {(key.account_id, key.key): key.not_before for key in keys}
    return {
        (row.account_id, row.key): Replay(fingerprint=row.fingerprint, response=row.response)
        for row in rows
        if row.created_at >= not_before[(row.account_id, row.key)]
    }


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
    connection: AsyncConnection, keys: Sequence[tuple[IdempotencyKey, JsonObject]], now: datetime
) -> None:
    if not keys:
        return
    # An expired row of the same key is replaced: the key is free again after its lifetime.
    pairs = [(key.account_id, key.key) for key, _ in keys]
    await connection.execute(
        sa.delete(idempotency_keys).where(
            sa.tuple_(idempotency_keys.c.account_id, idempotency_keys.c.key).in_(pairs)
        )
    )
    await connection.execute(
        sa.insert(idempotency_keys),
        [
            {
                "account_id": key.account_id,
                "key": key.key,
                "fingerprint": key.fingerprint,
                "response": dict(response),
                "created_at": now,
            }
            for key, response in keys
        ],
    )
