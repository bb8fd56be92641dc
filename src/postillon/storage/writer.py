"""The single writer: units of work from many callers share one connection and one commit.

SQLite lets one connection write at a time; several connections taking turns wait for each
other in the busy handler (sleeping) and each commit pays its own sync. Here every write of a
node is a *unit* handed to one writer task that owns one connection: it opens a transaction,
lends the connection to each waiting unit in turn inside its own SAVEPOINT, and commits once
for every unit that gathered while the previous commit ran (group commit). A unit whose block
raises is rolled back to its savepoint, so one caller's failing statement never fails another.
Every caller returns only after the COMMIT that carried its unit is on disk (the durability
promise: an answer after the sync, never before), or raises if that commit failed.

Units run one after another on the shared connection, so a unit sees the uncommitted rows of
the units before it in the same transaction (as a later transaction would). A write opened
inside a unit (by the same task) joins it as a nested savepoint instead of waiting for the
writer it is holding. PostgreSQL uses the same writer for ingest only (several nodes write
there, each on its own connections). Must not hold queries, nor retry a unit (its block has
already run; only the caller knows whether it can run again).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from postillon.storage.errors import StorageUnavailableError

# Units in one transaction at most: a burst is absorbed in a few commits, and one transaction
# stays short, so the first caller of a burst is not kept waiting behind hundreds of others.
MAX_UNITS_PER_COMMIT = 256

# The unit the current task is inside, per writer (a nested write joins it, see module doc).
_inside: contextvars.ContextVar[tuple[int, AsyncConnection] | None] = contextvars.ContextVar(
    "postillon_writer_unit", default=None
)


@dataclass(eq=False)
class _Unit:
    granted: asyncio.Future[AsyncConnection]
    # True when the caller's block ended without an error.
    finished: asyncio.Future[bool]
    committed: asyncio.Future[None]


class WriteQueue:
    """Serialises units of work on one connection of ``engine`` and commits them in groups."""

    def __init__(self, engine: AsyncEngine, *, max_units: int = MAX_UNITS_PER_COMMIT) -> None:
        self._engine = engine
        self._max_units = max_units
        self._queue: deque[_Unit] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._connection: AsyncConnection | None = None
        self.commits = 0
        self.units = 0

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside this caller's savepoint of the next group transaction; the
        block's writes are durable when the ``async with`` returns (it raises otherwise)."""
        joined = _inside.get()
        if joined is not None and joined[0] == id(self):
            async with joined[1].begin_nested():
                yield joined[1]
            return
        loop = asyncio.get_running_loop()
        item = _Unit(loop.create_future(), loop.create_future(), loop.create_future())
        self._queue.append(item)
        self._start(loop)
        try:
            connection = await item.granted
        except BaseException:
            if not item.granted.cancel() and not item.granted.cancelled():
                # Granted just as this caller was cancelled: give the connection back.
                _settle(item.finished, False)
            raise
        token = _inside.set((id(self), connection))
        try:
            yield connection
        except BaseException:
            _settle(item.finished, False)
            raise
        finally:
            _inside.reset(token)
        _settle(item.finished, True)
        await asyncio.shield(item.committed)

    async def close(self) -> None:
        """Stop the writer (the unit holding the connection ends first; units still queued
        fail with StorageUnavailableError) and close its connection."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        await self._drop_connection()

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wake = asyncio.Event()
            self._connection = None  # a connection of another loop cannot be reused
            self._task = loop.create_task(self._run(), name="storage-writer")
        assert self._wake is not None
        self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    await self._group()
        finally:
            while self._queue:
                _fail(self._queue.popleft().granted, StorageUnavailableError("storage closed"))

    async def _group(self) -> None:
        """One transaction: every unit queued now (up to the cap), then one COMMIT."""
        try:
            connection = await self._open()
            await connection.begin()
        except Exception as error:
            # No transaction could start (the database is unreachable or locked by another
            # process past the busy timeout): the first waiting unit hears why.
            await self._drop_connection()
            if self._queue:
                item = self._queue.popleft()
                _fail(item.granted, error)
            return
        done: list[_Unit] = []
        try:
            while self._queue and len(done) < self._max_units:
                item = self._queue.popleft()
                if item.granted.done():
                    continue  # its caller was cancelled while it waited
                if await self._run_unit(connection, item):
                    done.append(item)
            await connection.commit()
        except BaseException as error:
            # The transaction itself failed (or the writer is stopping): nothing in it is
            # durable, so everyone who was waiting for it hears so.
            for item in done:
                _fail(item.committed, error)
            await self._drop_connection()
            if not isinstance(error, Exception):
                raise
            return
        self.commits += 1
        self.units += len(done)
        for item in done:
            _settle(item.committed, None)

    async def _run_unit(self, connection: AsyncConnection, item: _Unit) -> bool:
        """Lend the connection to one unit inside a savepoint; True if it is to be kept."""
        try:
            savepoint = await connection.begin_nested()
        except BaseException as error:
            _fail(item.granted, error)  # its caller must not wait for a turn that never comes
            raise
        item.granted.set_result(connection)
        try:
            ok = await asyncio.shield(item.finished)
        except asyncio.CancelledError:
            # The writer is stopping: wait for the block to give the connection back first.
            with contextlib.suppress(BaseException):
                await item.finished
            raise
        if ok:
            await savepoint.commit()
        else:
            await savepoint.rollback()
        return ok

    async def _open(self) -> AsyncConnection:
        if self._connection is None or self._connection.closed:
            self._connection = await self._engine.connect()
        return self._connection

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


def _settle(future: asyncio.Future[bool] | asyncio.Future[None], value: bool | None) -> None:
    if not future.done():
        future.set_result(value)  # type: ignore[arg-type]


def _fail(
    future: asyncio.Future[AsyncConnection] | asyncio.Future[None], error: BaseException
) -> None:
    if not future.done():
        future.set_exception(error)
