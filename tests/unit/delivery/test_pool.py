"""The pool reuses healthy connections, probes them, and closes spent or stale ones."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from postillon.clock import FakeClock
from postillon.delivery.pool import ConnectionPool, PoolKey
from postillon.errors import ProtocolError

KEY = PoolKey("mx1.example.net", "127.0.0.2", None)
OTHER = PoolKey("mx2.example.net", "127.0.0.3", None)


@dataclass
class Conn:
    """A connection double recording what the pool did to it."""

    name: str
    is_usable: bool = True
    probe_fails: bool = False
    resets: int = 0
    closed: bool = False

    async def reset(self) -> None:
        self.resets += 1
        if self.probe_fails:
            self.is_usable = False
            raise ProtocolError("connection closed by peer")

    async def close(self) -> None:
        self.closed = True
        self.is_usable = False


def make_pool(clock: FakeClock, max_messages: int = 3) -> ConnectionPool[Conn]:
    return ConnectionPool(clock=clock, max_messages=max_messages, idle_s=30.0)


async def test_reuses_after_rset_probe_and_keys_by_host() -> None:
    clock = FakeClock()
    pool = make_pool(clock)
    opened: list[Conn] = []

    async def opener() -> Conn:
        opened.append(Conn(f"c{len(opened)}"))
        return opened[-1]

    conn, uses = await pool.acquire(KEY, opener)
    assert uses == 0
    await pool.release(KEY, conn, uses + 1)
    again, uses = await pool.acquire(KEY, opener)
    assert again is conn
    assert uses == 1
    assert conn.resets == 1
    other, _ = await pool.acquire(OTHER, opener)
    assert other is not conn
    assert pool.stats.opened == 2
    assert pool.stats.reused == 1


async def test_spent_connection_is_closed_not_pooled() -> None:
    pool = make_pool(FakeClock(), max_messages=2)
    conn = Conn("c")
    await pool.release(KEY, conn, 2)
    assert conn.closed
    assert pool.idle_count() == 0


async def test_peer_closed_while_idle_gives_a_fresh_connection() -> None:
    pool = make_pool(FakeClock())
    stale = Conn("stale", probe_fails=True)
    await pool.release(KEY, stale, 1)
    fresh = Conn("fresh")

    async def opener() -> Conn:
        return fresh

    conn, uses = await pool.acquire(KEY, opener)
    assert conn is fresh
    assert uses == 0
    assert stale.closed
    assert pool.stats.probe_failures == 1


async def test_idle_expiry_closes_old_connections() -> None:
    clock = FakeClock()
    pool = make_pool(clock)
    old = Conn("old")
    await pool.release(KEY, old, 1)
    clock.advance(31)
    young = Conn("young")
    await pool.release(OTHER, young, 1)
    await pool.expire_idle()
    assert old.closed
    assert not young.closed
    assert pool.idle_count() == 1
    await pool.close_all()
    assert young.closed


@dataclass
class SlowClosingConn(Conn):
    """A connection whose QUIT takes a turn of the loop, as a real one does."""

    closes: int = 0

    async def close(self) -> None:
        self.closes += 1
        await asyncio.sleep(0)
        await super().close()


async def test_attempts_expiring_idle_connections_at_once_close_each_once() -> None:
    clock = FakeClock()
    pool: ConnectionPool[SlowClosingConn] = ConnectionPool(clock=clock, max_messages=3, idle_s=30.0)
    stale = [SlowClosingConn(f"c{n}") for n in range(3)]
    for conn in stale:
        await pool.release(OTHER, conn, 1)
    clock.advance(31)

    await asyncio.gather(*(pool.expire_idle() for _ in range(4)))

    assert [conn.closes for conn in stale] == [1, 1, 1]
    assert pool.idle_count() == 0
