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
class SlowConn(Conn):
    """A connection whose QUIT and RSET take a while (they yield to the event loop)."""

    closes: int = 0

    async def reset(self) -> None:
        await asyncio.sleep(0.01)
        await super().reset()

    async def close(self) -> None:
        self.closes += 1
        await asyncio.sleep(0.01)
        await super().close()


async def idle_pool(clock: FakeClock, *conns: SlowConn) -> ConnectionPool[SlowConn]:
    pool: ConnectionPool[SlowConn] = ConnectionPool(clock=clock, max_messages=10, idle_s=30.0)
    for conn in conns:
        await pool.release(KEY, conn, 1)
    return pool


async def test_two_concurrent_sweeps_close_each_connection_once() -> None:
    clock = FakeClock()
    conns = [SlowConn(f"c{i}") for i in range(3)]
    pool = await idle_pool(clock, *conns)
    clock.advance(31)
    await asyncio.gather(pool.expire_idle(), pool.expire_idle(), pool.expire_idle())
    assert [c.closes for c in conns] == [1, 1, 1]
    assert pool.idle_count() == 0


async def test_a_sweep_during_an_acquire_never_puts_the_connection_in_use_back() -> None:
    clock = FakeClock()
    stale, fresh = SlowConn("stale"), SlowConn("fresh")
    pool = await idle_pool(clock, stale)
    clock.advance(31)
    await pool.release(KEY, fresh, 1)  # stale is past idle_s, fresh is not

    async def must_not_open() -> SlowConn:
        raise AssertionError("an idle connection was there")

    sweeping = asyncio.create_task(pool.expire_idle())
    await asyncio.sleep(0)  # the sweep is now closing the stale connection
    conn, _ = await pool.acquire(KEY, must_not_open)
    await sweeping
    assert conn is fresh
    assert pool.idle_count() == 0  # fresh is in use, not idle
    assert stale.closes == 1
    assert fresh.closes == 0


async def test_a_release_during_a_sweep_is_kept() -> None:
    clock = FakeClock()
    stale, returned = SlowConn("stale"), SlowConn("returned")
    pool = await idle_pool(clock, stale)
    clock.advance(31)
    sweeping = asyncio.create_task(pool.expire_idle())
    await asyncio.sleep(0)
    await pool.release(KEY, returned, 1)
    await sweeping
    assert pool.idle_count(KEY) == 1
    assert returned.closes == 0


async def test_close_all_during_an_acquire_closes_each_idle_connection_once() -> None:
    clock = FakeClock()
    conns = [SlowConn(f"c{i}") for i in range(4)]
    pool = await idle_pool(clock, *conns)

    async def opener() -> SlowConn:
        return SlowConn("new")

    acquired, _ = await asyncio.gather(pool.acquire(KEY, opener), pool.close_all())
    assert [c.closes for c in conns if c is not acquired[0]] == [1] * 3
    assert acquired[0].closes == 0
    assert pool.idle_count() == 0
