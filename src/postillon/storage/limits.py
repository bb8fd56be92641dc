"""Per-destination concurrency that holds across nodes: slots as PostgreSQL advisory locks.

Owns the cluster-wide count of SMTP sessions per destination domain (Postfix's per-destination
concurrency, qmgr(8), made shared). A domain with limit N has N slots; a slot is the
session-level advisory lock (domain key, slot index) on one dedicated connection per node.
Taking one is ``pg_try_advisory_lock`` (never waits, never inside a queue transaction); giving
it back is ``pg_advisory_unlock``. A node that dies loses its connection and PostgreSQL frees
its slots at once: no expiry times, no table, no cleanup. Two domains whose keys collide share
slots (fewer sessions, never more). If the connection drops, the slots it held are gone: the
node reconnects and, until its held slots are released, may briefly exceed the limit.
On SQLite there is one node and the engine's in-process semaphores are the limit: the local
implementation always grants.
It must not read or write the queue.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from sqlalchemy.engine import make_url

from postillon.storage.errors import StorageUnavailableError
from postillon.storage.notify import CONNECT_TIMEOUT_S, libpq_url

# How often a job waiting for a busy destination asks again: sessions last seconds, so a
# quarter second adds little latency and costs one tiny query per waiting job.
SLOT_POLL_S = 0.25


@dataclass(frozen=True)
class Slot:
    """One held session slot of a destination."""

    domain: str
    index: int


def domain_key(domain: str) -> int:
    """The advisory-lock key of a domain: a stable signed 32-bit hash of its lower-case name."""
    digest = hashlib.blake2b(domain.lower().encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class DestinationSlots(Protocol):
    """Shared per-destination session slots."""

    async def try_acquire(self, domain: str, limit: int) -> Slot | None:
        """A free slot of ``domain`` (at most ``limit`` held cluster-wide), or None."""
        ...

    async def release(self, slot: Slot) -> None:
        """Give a slot back."""
        ...

    async def close(self) -> None:
        """Release everything held."""
        ...


class LocalLimit(Protocol):
    """A node's own slot count (``asyncio.Semaphore``, or the engine's fair slots)."""

    async def acquire(self) -> Any:
        """Wait for a slot."""
        ...

    def release(self) -> None:
        """Give it back."""
        ...


class LocalSlots:
    """One node (SQLite): the engine's own per-domain semaphores are the limit."""

    async def try_acquire(self, domain: str, limit: int) -> Slot | None:
        return Slot(domain, 0)

    async def release(self, slot: Slot) -> None:
        return None

    async def close(self) -> None:
        return None


# Try the slots in index order and stop at the first one won: generate_series yields rows in
# order and LIMIT 1 stops the scan, so at most one new lock is taken per call.
_TRY_SQL = (
    "SELECT i FROM generate_series(0, %(last)s) AS i"
    " WHERE NOT (i = ANY(%(held)s)) AND pg_try_advisory_lock(%(key)s, i) LIMIT 1"
)


class PgSlots:
    """Slots as advisory locks on one dedicated autocommit connection."""

    def __init__(self, url: str) -> None:
        self._conninfo = libpq_url(url)
        self._connection: psycopg.AsyncConnection[tuple[int]] | None = None
        self._lock = asyncio.Lock()  # one query at a time on the connection
        self._held: dict[int, set[int]] = {}  # domain key -> slot indexes this node holds

    async def _connect(self) -> psycopg.AsyncConnection[tuple[int]]:
        if self._connection is None or self._connection.closed:
            self._held.clear()  # a new session holds nothing
            self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            )
        return self._connection

    async def try_acquire(self, domain: str, limit: int) -> Slot | None:
        """Raises StorageUnavailableError (temporary) if the database cannot be reached."""
        key = domain_key(domain)
        async with self._lock:
            try:
                connection = await self._connect()
                held = self._held.setdefault(key, set())
                if len(held) >= limit:
                    return None
                cursor = await connection.execute(
                    _TRY_SQL, {"last": limit - 1, "held": sorted(held), "key": key}
                )
                row = await cursor.fetchone()
            except psycopg.OperationalError as error:
                self._connection = None
                raise StorageUnavailableError(f"slot database unavailable: {error}") from error
            if row is None:
                return None
            held.add(row[0])
            return Slot(domain, row[0])

    async def release(self, slot: Slot) -> None:
        """Give ``slot`` back; a slot lost with a dropped connection is simply forgotten."""
        key = domain_key(slot.domain)
        async with self._lock:
            held = self._held.get(key, set())
            if slot.index not in held:
                return
            held.discard(slot.index)
            if self._connection is None or self._connection.closed:
                return
            try:
                await self._connection.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", (key, slot.index)
                )
            except psycopg.OperationalError:
                self._connection = None

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()  # the server frees every slot with the session
            self._connection = None
            self._held.clear()


@asynccontextmanager
async def destination_slot(
    slots: DestinationSlots,
    domain: str,
    limit: int,
    poll_s: float = SLOT_POLL_S,
    *,
    local: LocalLimit | None = None,
) -> AsyncIterator[Slot]:
    """Hold a slot of ``domain`` for the block (and one of ``local``, this node's own limit,
    when given), polling while all are taken.

    Never holds one while waiting for the other: a node whose jobs queue behind its own limit
    must not sit on a destination's shared slots that other nodes could use (hold-and-wait
    starved a whole node that way), nor a local slot while the destination is busy.
    """
    while True:
        if local is not None:
            await local.acquire()
        try:
            slot = await slots.try_acquire(domain, limit)
        except BaseException:
            if local is not None:
                local.release()
            raise
        if slot is not None:
            break
        if local is not None:
            local.release()
        # Polling, not an event: the slot is freed by another process.
        await asyncio.sleep(poll_s)
    try:
        yield slot
    finally:
        if local is not None:
            local.release()
        await slots.release(slot)


def create_slots(url: str) -> DestinationSlots:
    """Shared slots on PostgreSQL, the always-granting local ones on SQLite."""
    if make_url(url).get_backend_name() == "postgresql":
        return PgSlots(url)
    return LocalSlots()
