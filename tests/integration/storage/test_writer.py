"""The single writer (storage/writer.py) on a real database: units from many concurrent callers
share commits, one unit's failure stays its own, and nobody is answered before the COMMIT.

Runs on both backends (SQLite: every write goes this way; PostgreSQL: ingest does).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from postillon.clock import FakeClock
from postillon.storage import SqlStore
from postillon.storage.schema import accounts
from postillon.storage.writer import WriteQueue

pytestmark = pytest.mark.timeout(60)

WRITERS = 200


class Boom(Exception):
    """A caller's own error, raised after its unit wrote a row."""


async def insert_account(writes: WriteQueue, name: str, clock: FakeClock) -> None:
    async with writes.unit() as connection:
        await connection.execute(
            sa.insert(accounts).values(id=f"id-{name}", name=name, created_at=clock.now())
        )


async def account_names(store: SqlStore) -> set[str]:
    async with store.engines.reader.connect() as connection:
        rows = await connection.execute(sa.select(accounts.c.name))
        return {row.name for row in rows}


async def test_many_concurrent_writers_share_commits(store: SqlStore, clock: FakeClock) -> None:
    writes = store.engines.writes
    commits_before, units_before = writes.commits, writes.units

    names = [f"writer{i}" for i in range(WRITERS)]
    await asyncio.gather(*(insert_account(writes, name, clock) for name in names))

    assert await account_names(store) >= set(names)
    assert writes.units - units_before == WRITERS
    # Units that queued while a commit ran shared the next one.
    assert writes.commits - commits_before < WRITERS


async def test_one_failing_unit_does_not_fail_the_others(store: SqlStore, clock: FakeClock) -> None:
    writes = store.engines.writes
    await insert_account(writes, "taken", clock)
    commits_before = writes.commits

    async def raises_after_writing() -> None:
        async with writes.unit() as connection:
            await connection.execute(
                sa.insert(accounts).values(id="id-lost", name="lost", created_at=clock.now())
            )
            raise Boom

    outcomes = await asyncio.gather(
        insert_account(writes, "before", clock),
        raises_after_writing(),
        insert_account(writes, "taken", clock),  # the database refuses: name is unique
        insert_account(writes, "after", clock),
        return_exceptions=True,
    )

    assert outcomes[0] is None
    assert outcomes[3] is None
    assert isinstance(outcomes[1], Boom)
    assert isinstance(outcomes[2], sa_exc.IntegrityError)
    names = await account_names(store)
    assert {"before", "after", "taken"} <= names
    assert "lost" not in names  # rolled back to its savepoint, the others kept
    assert writes.commits - commits_before == 1  # all four were in that one transaction


async def test_callers_are_answered_only_after_the_commit(
    store: SqlStore, clock: FakeClock
) -> None:
    writes = store.engines.writes
    order: list[str] = []

    def on_commit(_connection: Any) -> None:
        order.append("commit")

    event.listen(store.engines.writer.sync_engine, "commit", on_commit)
    try:

        async def one(name: str) -> None:
            await insert_account(writes, name, clock)
            order.append(name)
            # Another connection sees it: it is committed, not merely written.
            assert name in await account_names(store)

        names = [f"durable{i}" for i in range(10)]
        await asyncio.gather(*(one(name) for name in names))
    finally:
        event.remove(store.engines.writer.sync_engine, "commit", on_commit)

    # Every answer comes after a COMMIT, and the ten shared fewer than ten of them.
    assert all("commit" in order[: order.index(name)] for name in names)
    assert order.count("commit") < len(names)


async def test_a_write_inside_a_unit_joins_it(store: SqlStore, clock: FakeClock) -> None:
    writes = store.engines.writes
    async with writes.unit() as connection:
        await connection.execute(
            sa.insert(accounts).values(id="id-outer", name="outer", created_at=clock.now())
        )
        # Would wait forever for the writer this task holds, were it not joined.
        async with asyncio.timeout(5):
            await insert_account(writes, "inner", clock)

    assert {"outer", "inner"} <= await account_names(store)


async def test_a_cancelled_caller_frees_the_writer(store: SqlStore, clock: FakeClock) -> None:
    writes = store.engines.writes
    holding = asyncio.Event()

    async def hangs() -> None:
        async with writes.unit() as connection:
            await connection.execute(
                sa.insert(accounts).values(id="id-hang", name="hang", created_at=clock.now())
            )
            holding.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(hangs())
    await holding.wait()
    waiting = asyncio.create_task(insert_account(writes, "next", clock))
    task.cancel()
    async with asyncio.timeout(10):
        await waiting

    names = await account_names(store)
    assert "next" in names
    assert "hang" not in names
