"""Database engines from the ``[storage] url``, with SQLite made durable.

Owns the driver choice (aiosqlite for ``sqlite:///path``, psycopg 3 for ``postgresql://``) and the
per-connection settings SQLite needs for the durability promise (docs/contracts.md): WAL, so readers
never block the writer; ``synchronous=FULL``, so a commit is on disk before it returns (in WAL,
NORMAL could lose the last commits on power loss); a busy timeout; foreign keys on (SQLite leaves
them off by default, and ON DELETE CASCADE relies on them).

SQLite allows one writer at a time, so a node writes through one connection only: every write
is a unit of the :class:`~postillon.storage.writer.WriteQueue` (group commit, no busy-handler
sleeping between our own connections). Its transactions still open with ``BEGIN IMMEDIATE``
(another process, such as the CLI, may hold the lock; the busy timeout covers that), and a
second, read-only engine serves reads, which WAL lets run beside the writer. On PostgreSQL both
engines are the same pool; only ingest goes through a write queue there (grouped commits), the
other writes take a pooled connection each.
:meth:`Engines.write` and :meth:`Engines.ingest` are the two doors for writes. ``due`` tells
this node's engine that mail became due (see :mod:`.wakeups`).
It must not hold queries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from postillon.storage.errors import StorageError
from postillon.storage.wakeups import DueSignal
from postillon.storage.writer import WriteQueue

# How long a SQLite writer waits for the lock before failing: longer than any one of our
# transactions (they are short), short enough that a wedged database is reported.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Keep ``rowcount`` for every statement, INSERT included: SQLAlchemy otherwise reads it only
# for UPDATE/DELETE, and psycopg then reports -1 for an INSERT ... ON CONFLICT DO NOTHING
# whose "was it new?" answer the store returns.
_EXECUTION_OPTIONS = {"preserve_rowcount": True}

# Connections a node keeps open to PostgreSQL, and how many more it may open for a burst.
# SQLAlchemy's default (5 kept) made a node under 20 concurrent API requests open and close a
# connection per request (a profile showed connection setup on the event loop); 12 + 8 keeps
# three nodes (60 at most) well inside PostgreSQL's default max_connections of 100.
POSTGRES_POOL_SIZE = 12
POSTGRES_POOL_OVERFLOW = 8

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


@dataclass(frozen=True)
class Engines:
    """The engine for writes (and migrations) and the one for reads (may be the same)."""

    writer: AsyncEngine
    reader: AsyncEngine
    writes: WriteQueue
    due: DueSignal = field(default_factory=DueSignal)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.writer.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write: a unit of the single writer on SQLite, a pooled transaction on
        PostgreSQL. Durable when the block returns."""
        if self.dialect == "sqlite":
            async with self.writes.unit() as connection:
                yield connection
        else:
            async with self.writer.begin() as connection:
                yield connection

    @asynccontextmanager
    async def ingest(self) -> AsyncIterator[AsyncConnection]:
        """A write that accepts mail: grouped with concurrent ones on every database."""
        async with self.writes.unit() as connection:
            yield connection

    async def dispose(self) -> None:
        """Stop the writer and close every pooled connection."""
        await self.writes.close()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def async_url(url: str) -> str:
    """The SQLAlchemy URL with our async driver (``sqlite:///x`` -> ``sqlite+aiosqlite:///x``).

    Raises StorageError for a database we do not support.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise StorageError(f"storage.url: unsupported database {backend!r}")
    if parsed.drivername == backend:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    return parsed.render_as_string(hide_password=False)


def create_engines(url: str) -> Engines:
    """Engines for ``url``; for SQLite, the durable pragmas and IMMEDIATE write transactions."""
    full_url = async_url(url)
    if make_url(full_url).get_backend_name() != "sqlite":
        engine = create_async_engine(
            full_url,
            pool_pre_ping=True,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_POOL_OVERFLOW,
            execution_options=_EXECUTION_OPTIONS,
        )
        return Engines(writer=engine, reader=engine, writes=WriteQueue(engine))
    writer = create_async_engine(full_url, execution_options=_EXECUTION_OPTIONS)
    reader = create_async_engine(full_url, execution_options=_EXECUTION_OPTIONS)
    _configure_sqlite(writer, begin="BEGIN IMMEDIATE", query_only=False)
    _configure_sqlite(reader, begin="BEGIN", query_only=True)
    return Engines(writer=writer, reader=reader, writes=WriteQueue(writer))


def _configure_sqlite(engine: AsyncEngine, *, begin: str, query_only: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (the sqlite3 module's implicit
        # transactions would start too late, after the first write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if query_only:
                cursor.execute("PRAGMA query_only=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)
