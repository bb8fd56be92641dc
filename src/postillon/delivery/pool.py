"""The connection pool: which open SMTP connection serves the next transaction.

The pool decides; the caller does the I/O (as httpcore's pool does). Connections are keyed by
(MX host, source address), so two recipient domains that share MX hosts share connections, and
nothing else does. A connection goes back to the pool after a transaction only if it is still
usable, has carried fewer than ``max_messages`` transactions and is not past ``idle_s`` since its
last use; before it is handed out again it is probed with RSET (a peer that closed the idle
connection fails the probe, and the caller gets a fresh connection instead of an error).

Concurrency: acquire, release and the idle sweep run as tasks of one event loop; each takes
connections out of the idle table before it awaits anything (RSET, QUIT), so a sweep never
closes a connection in use, puts one back, or loses one released meanwhile.

It must not decide scheduling (which recipients, which MX) nor hold a connection that failed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from postillon.clock import Clock
from postillon.errors import PostillonError


class PooledConnection(Protocol):
    """What the pool needs from a connection."""

    @property
    def is_usable(self) -> bool:
        """False once the connection failed, was closed, or the peer hung up."""
        ...

    async def reset(self) -> None:
        """Probe and clear the session before reuse (RSET); raises if the peer is gone."""
        ...

    async def close(self) -> None:
        """QUIT and close; never raises."""
        ...


C = TypeVar("C", bound=PooledConnection)


@dataclass(frozen=True)
class PoolKey:
    """Connections are shared per MX host and source address, never per recipient domain."""

    mx_host: str
    address: str
    source_address: str | None


@dataclass
class _Idle(Generic[C]):
    conn: C
    uses: int
    idle_since: float


@dataclass
class PoolStats:
    """Counters for tests, metrics and the benchmark."""

    opened: int = 0
    reused: int = 0
    closed: int = 0
    probe_failures: int = 0


@dataclass
class ConnectionPool(Generic[C]):
    """Idle SMTP connections by :class:`PoolKey`."""

    clock: Clock
    max_messages: int
    idle_s: float
    stats: PoolStats = field(default_factory=PoolStats)
    _idle: dict[PoolKey, list[_Idle[C]]] = field(default_factory=dict)

    async def acquire(self, key: PoolKey, opener: Callable[[], Awaitable[C]]) -> tuple[C, int]:
        """A usable connection for ``key`` and how many transactions it has carried.

        Reuses an idle one after a successful RSET probe, else calls ``opener`` (whose errors
        propagate: connection failures are the caller's "try the next MX").
        """
        await self.expire_idle()
        while (idle := self._take(key)) is not None:
            if not idle.conn.is_usable:
                await self._close(idle.conn)
                continue
            try:
                await idle.conn.reset()
            except PostillonError:
                self.stats.probe_failures += 1
                await self._close(idle.conn)
                continue
            self.stats.reused += 1
            return idle.conn, idle.uses
        conn = await opener()
        self.stats.opened += 1
        return conn, 0

    async def release(self, key: PoolKey, conn: C, uses: int) -> None:
        """Return ``conn`` after a transaction (``uses`` counts it); closes it when spent."""
        if not conn.is_usable or uses >= self.max_messages:
            await self._close(conn)
            return
        self._idle.setdefault(key, []).append(_Idle(conn, uses, self.clock.monotonic()))

    async def discard(self, conn: C) -> None:
        """Close a connection that must not be reused (an error mid-transaction)."""
        await self._close(conn)

    async def expire_idle(self) -> None:
        """Close connections idle for longer than ``idle_s``."""
        now = self.clock.monotonic()
        expired: list[_Idle[C]] = []
        for key in list(self._idle):  # no await in this loop: the table changes atomically
            stack = self._idle[key]
            keep = [idle for idle in stack if now - idle.idle_since <= self.idle_s]
            expired.extend(idle for idle in stack if now - idle.idle_since > self.idle_s)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        for idle in expired:
            await self._close(idle.conn)

    async def close_all(self) -> None:
        """QUIT every idle connection (at shutdown)."""
        idle = [entry for stack in self._idle.values() for entry in stack]
        self._idle.clear()
        for entry in idle:
            await self._close(entry.conn)

    def idle_count(self, key: PoolKey | None = None) -> int:
        """How many idle connections the pool holds (for ``key``, or in all)."""
        if key is not None:
            return len(self._idle.get(key, []))
        return sum(len(stack) for stack in self._idle.values())

    def _take(self, key: PoolKey) -> _Idle[C] | None:
        """Pop the most recently used idle connection of ``key`` (no await: atomic)."""
        stack = self._idle.get(key)
        if not stack:
            return None
        idle = stack.pop()
        if not stack:
            del self._idle[key]
        return idle

    async def _close(self, conn: C) -> None:
        self.stats.closed += 1
        with contextlib.suppress(Exception):
            await conn.close()
