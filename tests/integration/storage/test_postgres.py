"""PostgreSQL only: claims under contention, NOTIFY wake-ups, shared destination slots.

Many stores (each its own connection pool, as separate nodes have) claim from one database at
once; SKIP LOCKED must give each recipient to one claimer, a claimer must not wait for rows
another transaction holds, and no lock may outlive a claim.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from postillon.clock import FakeClock
from postillon.storage import SqlStore
from postillon.storage.claims import due_query
from postillon.storage.errors import StorageError, StorageUnavailableError
from postillon.storage.limits import LocalSlots, PgSlots, Slot, create_slots, destination_slot
from postillon.storage.notify import NullListener, QueueListener, create_listener
from tests.integration.storage.builders import deferred, message
from tests.integration.storage.pg import PgDatabase

LEASE_S = 300.0
NODES = 6
CLAIMERS_PER_NODE = 4
RECIPIENTS = 600
# Bound on any wait for the database in these tests (a hang is a failure, not a timing).
BOUND_S = 20
DEADLOCK_ROUNDS = 5


@pytest.fixture
def pg_url(pg_database: PgDatabase) -> str:
    pg_database.truncate_all()
    return pg_database.url


@pytest.fixture
async def nodes(pg_url: str, clock: FakeClock) -> AsyncIterator[list[SqlStore]]:
    """Stores with their own pools, as separate nodes have; the first one migrated."""
    stores = [SqlStore.from_url(pg_url, clock) for _ in range(NODES)]
    await stores[0].migrate()
    yield stores
    for store in stores:
        await store.close()


async def _fill(store: SqlStore, recipients: int, per_message: int = 5) -> None:
    account = await store.ensure_account("acme")
    batch = [
        message(account.id, *(f"r{n}-{i}@d{n % 7}.test" for i in range(per_message)))
        for n in range(recipients // per_message)
    ]
    await store.enqueue_many(batch)


def _ids(jobs: list) -> list[str]:  # type: ignore[type-arg]
    return [recipient.id for job in jobs for recipient in job.recipients]


async def test_concurrent_claimers_never_share_a_recipient(
    nodes: list[SqlStore], clock: FakeClock
) -> None:
    await _fill(nodes[0], RECIPIENTS)

    async def claimer(store: SqlStore, name: str) -> list[str]:
        got: list[str] = []
        while jobs := await store.claim_due(name, clock.now(), LEASE_S, 7):
            got.extend(_ids(jobs))
        return got

    async with asyncio.timeout(BOUND_S):
        results = await asyncio.gather(
            *(
                claimer(store, f"n{n}-c{c}")
                for n, store in enumerate(nodes)
                for c in range(CLAIMERS_PER_NODE)
            )
        )

    every = [rid for got in results for rid in got]
    assert len(every) == RECIPIENTS
    assert len(set(every)) == RECIPIENTS, "a recipient was claimed twice"
    assert sum(1 for got in results if got) > 1, "the claimers took turns at least"


async def test_a_claim_skips_rows_locked_by_another_transaction(
    nodes: list[SqlStore], clock: FakeClock
) -> None:
    await _fill(nodes[0], 20)
    async with nodes[1].writer.begin() as holder:
        locked = set(
            (await holder.execute(due_query(clock.now(), 8))).scalars()
        )  # held until this block ends, as a slow claimer would

        async with asyncio.timeout(BOUND_S):  # waiting for the lock would hang here
            jobs = await nodes[2].claim_due("w2", clock.now(), LEASE_S, 100)

    assert len(locked) == 8
    assert set(_ids(jobs)).isdisjoint(locked)
    assert len(_ids(jobs)) == 12


async def test_no_row_lock_outlives_a_claim(nodes: list[SqlStore], clock: FakeClock) -> None:
    await _fill(nodes[0], 10)
    claimed = _ids(await nodes[1].claim_due("w1", clock.now(), LEASE_S, 100))

    async with nodes[2].writer.begin() as other:
        # NOWAIT fails at once on a row some transaction still locks.
        rows = await other.execute(
            sa.text("SELECT id FROM recipients FOR UPDATE NOWAIT"),
        )
        assert sorted(rows.scalars()) == sorted(claimed)


async def test_an_expired_lease_is_reclaimed_by_another_node(
    nodes: list[SqlStore], clock: FakeClock
) -> None:
    await _fill(nodes[0], 10)
    crashed = _ids(await nodes[1].claim_due("crashed", clock.now(), LEASE_S, 100))
    survivor = _ids(await nodes[2].claim_due("alive", clock.now(), LEASE_S, 100))
    assert survivor == []

    clock.advance(LEASE_S / 2)
    assert await nodes[2].renew_lease("crashed", [], clock.now(), LEASE_S) == 0
    clock.advance(LEASE_S / 2)
    reclaimed = await asyncio.gather(
        *(store.claim_due(f"n{i}", clock.now(), LEASE_S, 100) for i, store in enumerate(nodes))
    )

    every = [rid for jobs in reclaimed for rid in _ids(jobs)]
    assert sorted(every) == sorted(crashed)


async def test_a_renewed_lease_survives_its_first_expiry_under_contention(
    nodes: list[SqlStore], clock: FakeClock
) -> None:
    await _fill(nodes[0], 10)
    held = _ids(await nodes[1].claim_due("slow-session", clock.now(), LEASE_S, 100))
    clock.advance(LEASE_S - 1)
    assert await nodes[1].renew_lease("slow-session", held, clock.now(), LEASE_S) == len(held)
    clock.advance(2)

    others = await asyncio.gather(
        *(store.claim_due(f"n{i}", clock.now(), LEASE_S, 100) for i, store in enumerate(nodes))
    )

    assert all(jobs == [] for jobs in others)


async def test_renewals_beside_recorded_batches_never_deadlock(
    nodes: list[SqlStore], clock: FakeClock
) -> None:
    # Recipients inserted in random id order, so heap order differs from id order.
    await _fill(nodes[0], 400, per_message=1)
    for _ in range(DEADLOCK_ROUNDS):
        ids = _ids(await nodes[0].claim_due("w", clock.now(), LEASE_S, 1000))
        batches = [ids[start::4] for start in range(4)]
        await asyncio.gather(
            *(nodes[1 + n].renew_lease("w", ids, clock.now(), LEASE_S) for n in range(2)),
            *(
                nodes[3 + n].record_outcomes(
                    "w", [deferred(rid, clock.now(), clock.now()) for rid in batch]
                )
                for n, batch in enumerate(batches[:3])
            ),
        )
        await nodes[0].release_lease("w", ids)

    assert len(_ids(await nodes[0].claim_due("w", clock.now(), LEASE_S, 1000))) == 400


async def test_commits_are_synchronous(nodes: list[SqlStore]) -> None:
    async with nodes[0].writer.connect() as connection:
        value = (await connection.exec_driver_sql("SHOW synchronous_commit")).scalar()

    assert value == "on"


class _Wakeups:
    """Counts ``on_notify`` calls and lets a test await the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._arrived = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self._arrived.set()

    async def reach(self, count: int) -> None:
        async with asyncio.timeout(BOUND_S):
            while True:
                self._arrived.clear()
                if self.count >= count:
                    return
                await self._arrived.wait()


async def test_enqueue_wakes_a_listener_at_commit_only(nodes: list[SqlStore], pg_url: str) -> None:
    woken = _Wakeups()
    listener = QueueListener(pg_url, on_notify=woken)
    await listener.start()
    try:
        account = await nodes[0].ensure_account("acme")
        with pytest.raises(StorageError):  # rolled back: no notification
            await nodes[0].enqueue(message("no-such-account", "a@x.test"))
        await nodes[1].enqueue(message(account.id, "a@x.test"))
        await woken.reach(1)
        # Notifications arrive in commit order: had the rollback notified, this one is third.
        await nodes[2].enqueue(message(account.id, "b@x.test"))
        await woken.reach(2)
    finally:
        await listener.close()

    assert listener.notifications == 2
    assert woken.count == 2


async def test_postgres_gets_a_listener_that_wakes_the_node_when_mail_is_queued(
    nodes: list[SqlStore], pg_url: str
) -> None:
    woken = asyncio.Event()
    listener = create_listener(pg_url, on_notify=woken.set)
    assert isinstance(listener, QueueListener)
    await listener.start()
    try:
        account = await nodes[0].ensure_account("acme")
        await nodes[1].enqueue(message(account.id, "a@x.test"))
        async with asyncio.timeout(BOUND_S):
            await woken.wait()
    finally:
        await listener.close()


async def test_sqlite_gets_the_null_listener_and_local_slots(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    listener = create_listener(url, on_notify=lambda: None)
    slots = create_slots(url)

    assert isinstance(listener, NullListener)
    assert isinstance(slots, LocalSlots)
    assert await slots.try_acquire("x.test", 1) == Slot("x.test", 0)


@pytest.fixture
async def two_nodes_slots(pg_url: str) -> AsyncIterator[tuple[PgSlots, PgSlots]]:
    first, second = PgSlots(pg_url), PgSlots(pg_url)
    yield first, second
    await first.close()
    await second.close()


async def test_destination_slots_hold_the_limit_across_nodes(
    two_nodes_slots: tuple[PgSlots, PgSlots],
) -> None:
    first, second = two_nodes_slots

    a = await first.try_acquire("busy.test", 3)
    b = await second.try_acquire("busy.test", 3)
    c = await first.try_acquire("busy.test", 3)
    full_first = await first.try_acquire("busy.test", 3)
    full_second = await second.try_acquire("BUSY.test", 3)
    other_domain = await second.try_acquire("quiet.test", 3)

    assert None not in (a, b, c)
    assert len({a, b, c}) == 3
    assert full_first is None
    assert full_second is None
    assert other_domain is not None
    assert b is not None
    await second.release(b)
    assert await first.try_acquire("busy.test", 3) == b


async def test_a_dead_nodes_slots_are_free_at_once(
    two_nodes_slots: tuple[PgSlots, PgSlots],
) -> None:
    first, second = two_nodes_slots
    assert await first.try_acquire("busy.test", 1) is not None
    assert await second.try_acquire("busy.test", 1) is None

    await first.close()  # the session ends as when the process dies

    assert await second.try_acquire("busy.test", 1) == Slot("busy.test", 0)


async def test_destination_slot_waits_for_a_free_slot(
    two_nodes_slots: tuple[PgSlots, PgSlots],
) -> None:
    first, second = two_nodes_slots
    held = await first.try_acquire("busy.test", 1)
    assert held is not None
    entered = asyncio.Event()

    async def second_session() -> None:
        async with destination_slot(second, "busy.test", 1, poll_s=0.01):
            entered.set()

    task = asyncio.create_task(second_session())
    for _ in range(5):
        await asyncio.sleep(0.02)
    assert not entered.is_set()
    await first.release(held)
    async with asyncio.timeout(BOUND_S):
        await task
    assert entered.is_set()
    assert await first.try_acquire("busy.test", 1) is not None  # given back after the block


async def test_a_node_waiting_on_its_own_limit_holds_no_shared_slot(
    two_nodes_slots: tuple[PgSlots, PgSlots],
) -> None:
    """Hold-and-wait starved a node: jobs queued behind their node's job limit sat on the
    destination's shared slots. Waiting for the local limit must hold no shared slot, and
    waiting for a shared slot must hold no local one."""
    first, second = two_nodes_slots
    local = asyncio.Semaphore(1)
    await local.acquire()  # this node's only job slot is busy
    entered = asyncio.Event()

    async def queued_job() -> None:
        async with destination_slot(first, "busy.test", 1, poll_s=0.01, local=local):
            entered.set()

    task = asyncio.create_task(queued_job())
    for _ in range(5):
        await asyncio.sleep(0.02)
    other_node = await second.try_acquire("busy.test", 1)
    assert other_node is not None  # the queued job did not take the only shared slot
    local.release()
    for _ in range(5):
        await asyncio.sleep(0.02)
    assert not entered.is_set()
    assert not local.locked()  # polling for the shared slot, it holds no local slot either
    await second.release(other_node)
    async with asyncio.timeout(BOUND_S):
        await task
    assert entered.is_set()
    assert not local.locked()


async def test_a_slot_query_on_a_dead_server_is_temporary(pg_url: str) -> None:
    slots = PgSlots(pg_url.replace("127.0.0.1:5432", "127.0.0.1:1"))
    with pytest.raises(StorageUnavailableError):
        await slots.try_acquire("x.test", 1)
    await slots.close()
