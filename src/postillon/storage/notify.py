"""Wake-ups for idle nodes: PostgreSQL LISTEN/NOTIFY on the queue channel.

Owns the channel name, the NOTIFY an enqueue sends inside its transaction (PostgreSQL delivers
it at commit, never for a rolled-back one), and the listener that wakes an idle node: one dedicated
psycopg connection in autocommit that LISTENs and calls ``on_notify`` (the engine's ``wake``)
for each notification. A lost connection is reopened after a pause and counted as a wake-up (a
notification may have been missed; the node then polls once). On SQLite there is one node and
nothing to listen to: the null listener does nothing (the node wakes itself after its own
enqueues, through the store's ``due`` signal).
A notification is a hint, never a promise: nodes still poll at ``poll_interval_s``.
It must not read or write the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

import psycopg
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

log = structlog.get_logger("postillon.storage.notify")

QUEUE_CHANNEL = "postillon_queue"
# Pause before reopening a lost listener connection: the database may be restarting; nodes
# keep polling meanwhile, so a slow retry costs latency, not mail.
RECONNECT_PAUSE_S = 2.0
# Fail fast when the server is unreachable instead of blocking a node's startup.
CONNECT_TIMEOUT_S = 10


async def notify_queued(connection: AsyncConnection) -> None:
    """Tell listening nodes that mail was queued, at the commit of ``connection``'s transaction
    (PostgreSQL; nothing on SQLite)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(sa.text(f"NOTIFY {QUEUE_CHANNEL}"))


def libpq_url(url: str) -> str:
    """``[storage] url`` as a libpq URI (``postgresql+psycopg://`` -> ``postgresql://``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class WorkListener(Protocol):
    """What wakes an idle node when another node queues mail."""

    async def start(self) -> None:
        """Begin listening (idempotent)."""
        ...

    async def close(self) -> None:
        """Stop listening and close the connection."""
        ...


class NullListener:
    """SQLite: no other node can queue mail, so there is nothing to hear."""

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class QueueListener:
    """LISTEN on :data:`QUEUE_CHANNEL` over a dedicated connection; ``on_notify`` (e.g.
    ``engine.wake``) is called for every wake-up."""

    def __init__(self, url: str, on_notify: Callable[[], None]) -> None:
        self._conninfo = libpq_url(url)
        self._on_notify = on_notify
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.notifications = 0

    async def start(self) -> None:
        """Open the connection and LISTEN; returns once listening (or the first try failed)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="queue-listener")
            await self._listening.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _wake(self) -> None:
        self.notifications += 1
        self._on_notify()

    async def _run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                ) as connection:
                    await connection.execute(f"LISTEN {QUEUE_CHANNEL}")
                    self._listening.set()
                    async for _ in connection.notifies():
                        self._wake()
            except psycopg.Error as error:
                log.warning("listener.lost", error=str(error))
            self._listening.set()  # do not hold start() hostage to a down database
            self._wake()  # something may have been missed while we were not listening
            await asyncio.sleep(RECONNECT_PAUSE_S)


def create_listener(url: str, on_notify: Callable[[], None]) -> WorkListener:
    """The listener for ``[storage] url``: LISTEN/NOTIFY on PostgreSQL, a null one on SQLite."""
    if make_url(url).get_backend_name() == "postgresql":
        return QueueListener(url, on_notify)
    return NullListener()
