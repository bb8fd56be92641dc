"""Fixtures for the store tests: a migrated SqlStore on each backend.

Every store test runs twice, ``[sqlite]`` on a real file in tmp_path and ``[postgresql]`` on a
database created for the session on the test server (see pg.py) and emptied before each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postillon.clock import FakeClock
from postillon.storage import SqlStore
from tests.integration.storage.pg import PgDatabase

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BACKENDS = ("sqlite", "postgresql")

StoreFactory = Callable[[], Awaitable[SqlStore]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgDatabase]:
    """A fresh PostgreSQL database for this test session, dropped at its end."""
    database = PgDatabase().create()
    yield database
    database.drop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    database: PgDatabase = request.getfixturevalue("pg_database")
    database.truncate_all()
    return database.url


@pytest.fixture
async def open_store(db_url: str, clock: FakeClock) -> AsyncIterator[StoreFactory]:
    """Opens (and migrates) stores on the same database; all closed at teardown."""
    opened: list[SqlStore] = []

    async def open_one() -> SqlStore:
        store = SqlStore.from_url(db_url, clock)
        opened.append(store)
        await store.migrate()
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: StoreFactory) -> SqlStore:
    return await open_store()
