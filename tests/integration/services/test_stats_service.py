"""The statistics service the dashboard asks: the overview and TLS per domain, for the account
passed in only. On a real SQLite file; no network (the services' resolver is never asked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import Settings, StorageSettings
from postillon.services.container import Services
from postillon.services.stats import Window
from postillon.storage import SqlStore
from tests.integration.services.conftest import MASTER
from tests.integration.storage.builders import delivered, message

LEASE_S = 300.0


@pytest.fixture
async def node(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[SqlStore, Services]]:
    settings = Settings(storage=StorageSettings(url=f"sqlite:///{tmp_path / 'queue.db'}"))
    store = SqlStore.from_url(settings.storage.url, clock)
    await store.migrate()
    services = Services.build(settings, store, None, clock, master_key=MASTER)
    yield store, services
    await services.close()
    await store.close()


async def test_the_overview_and_tls_are_the_accounts_own(
    node: tuple[SqlStore, Services], clock: FakeClock
) -> None:
    store, services = node
    acme = await store.ensure_account("acme")
    other = await store.ensure_account("other")
    await store.enqueue(message(acme.id, "a@x.test", "b@x.test"))
    await store.enqueue(message(other.id, "c@y.test"))
    jobs = await store.claim_due("w1", clock.now(), LEASE_S, 10)
    ids = {r.address: r.id for job in jobs for r in job.recipients}
    await store.record_outcomes(
        "w1", [delivered(ids["a@x.test"], clock.now()), delivered(ids["c@y.test"], clock.now())]
    )
    window = Window.covering(clock.now(), timedelta(hours=1), 24)

    overview = await services.stats.overview(acme, window, clock.now())
    domains = await services.stats.tls_by_domain(acme, window)

    assert (overview.totals.sent, overview.totals.delivered) == (2, 1)
    assert overview.queue.depth == 1  # b@x.test: claimed, not tried yet, still queued
    assert [(d.domain, d.attempts) for d in domains] == [("x.test", 1)]
