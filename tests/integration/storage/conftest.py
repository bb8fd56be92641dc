"""Fixtures for the store tests: a migrated SqlStore on a real SQLite file in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postillon.clock import FakeClock
from postillon.storage import SqlStore

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

StoreFactory = Callable[[], Awaitable[SqlStore]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'queue.db'}"


@pytest.fixture
async def open_store(db_url: str, clock: FakeClock) -> AsyncIterator[StoreFactory]:
    """Opens (and migrates) stores on the same database file; all closed at teardown."""
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
