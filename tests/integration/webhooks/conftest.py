"""Fixtures of the webhook integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postillon.clock import FakeClock
from postillon.events import EventType
from postillon.storage.sql_store import SqlStore
from postillon.webhooks.events import WebhookEvent
from tests.integration.storage.pg import PgDatabase
from tests.integration.webhooks.harness import Hooks, build_hooks


@pytest.fixture
def event() -> WebhookEvent:
    return WebhookEvent(
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        EventType.EMAIL_DELIVERED,
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        {"message_id": "m_1", "recipient": "bob@example.org", "attempt": 1},
    )


# -- The dispatcher tests: a migrated store on SQLite and on PostgreSQL --------------------------


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgDatabase]:
    """A fresh PostgreSQL database for this session, dropped at its end."""
    database = PgDatabase().create()
    yield database
    database.drop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture(params=("sqlite", "postgresql"))
async def hooks(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Hooks]:
    """The webhook service and dispatchers over a fresh, migrated store."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    else:
        database: PgDatabase = request.getfixturevalue("pg_database")
        database.truncate_all()
        url = database.url
    store = SqlStore.from_url(url, clock)
    await store.migrate()
    yield build_hooks(store, clock)
    await store.close()
