"""Transactions for the store modules that live beside :class:`SqlStore` (API keys, domains,
idempotent ingest): writes through :meth:`Engines.write` (the single writer on SQLite), ingest
through :meth:`Engines.ingest` (grouped everywhere), reads on the reader engine,
driver "busy / unreachable" errors as StorageUnavailableError (temporary).

It must not hold queries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from postillon.clock import Clock
from postillon.storage.connect import Engines
from postillon.storage.errors import StorageUnavailableError
from postillon.storage.ids import new_id


class Transactions:
    """Opens transactions on ``engines`` and makes ids from ``clock``."""

    def __init__(self, engines: Engines, clock: Clock) -> None:
        self.engines = engines
        self.clock = clock

    def new_id(self) -> str:
        """A new sortable id (see :mod:`.ids`)."""
        return new_id(self.clock.now())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction; commits when the block ends without an error."""
        async with _translate(), self.engines.write() as connection:
            yield connection

    @asynccontextmanager
    async def ingest(self) -> AsyncIterator[AsyncConnection]:
        """A write that accepts mail: shares its commit with concurrent ones (group commit on
        every database); commits when the block ends without an error."""
        async with _translate(), self.engines.ingest() as connection:
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection."""
        async with _translate(), self.engines.reader.connect() as connection:
            yield connection


@asynccontextmanager
async def _translate() -> AsyncIterator[None]:
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as error:
        raise StorageUnavailableError(f"database unavailable: {error.orig}") from error
