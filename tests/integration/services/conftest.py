"""Fixtures for the services on a real SQLite file and the real test DNS server (knot).

Loopback addresses 127.0.0.170 to 127.0.0.189 belong to these tests (MX hosts on port 25,
and 127.0.0.171 as the node's source address, the one our SPF record authorizes).
"""

from __future__ import annotations

import importlib.resources
import sys
import types
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import (
    DeliverySettings,
    DnsSettings,
    Settings,
    StorageSettings,
)
from postillon.dkim import MasterKey
from postillon.services.container import Services
from postillon.storage import Account, SqlStore
from tests.integration.domains.oracles import pyspf_lookup
from tests.integration.storage.pg import PgDatabase
from tests.support.dns_server import TestDns
from tests.support.fixtures import LOOPBACK_DESTINATIONS

START = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SOURCE_ADDRESS = "127.0.0.171"
HELO_NAME = "mta.postillon.test"
MASTER = MasterKey(b"\x42" * 32)


def services_settings(db: Path | str, test_dns: TestDns) -> Settings:
    """Settings of a test node on ``db`` (a SQLite file or a database URL): the test DNS, one
    source address our SPF names."""
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    return Settings(
        storage=StorageSettings(url=url),
        dns=DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=3.0),
        delivery=DeliverySettings(
            helo_name=HELO_NAME,
            source_addresses=(SOURCE_ADDRESS,),
            allow_private_destinations=LOOPBACK_DESTINATIONS,
        ),
    )


def new_domain(test_dns: TestDns, label: str) -> str:
    """A fresh domain name without "-" (authheaders reads a domain only up to a hyphen)."""
    return test_dns.new_origin(label).replace("-", "")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@dataclass
class World:
    """A migrated store and the services over it."""

    settings: Settings
    store: SqlStore
    services: Services


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgDatabase]:
    """A fresh PostgreSQL database for this test session, dropped at its end."""
    database = PgDatabase().create()
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test of the services runs on both backends (one query set for both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    database: PgDatabase = request.getfixturevalue("pg_database")
    database.truncate_all()
    return database.url


@pytest.fixture
async def world(db_url: str, test_dns: TestDns, clock: FakeClock) -> AsyncIterator[World]:
    settings = services_settings(db_url, test_dns)
    store = SqlStore.from_url(settings.storage.url, clock)
    await store.migrate()
    services = Services.build(settings, store, None, clock, master_key=MASTER)
    yield World(settings, store, services)
    await services.close()
    await store.close()


@pytest.fixture
async def acme(world: World) -> Account:
    return await world.store.ensure_account("acme")


@pytest.fixture
async def globex(world: World) -> Account:
    return await world.store.ensure_account("globex")


@pytest.fixture
def pyspf_on_test_dns(test_dns: TestDns, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make pyspf (``spf.check2``, behind authheaders' check_spf) ask the test server."""
    import spf

    monkeypatch.setattr(spf, "DNSLookup", pyspf_lookup(test_dns.nameserver))


@pytest.fixture
def test_is_a_public_suffix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make authheaders treat "test" (RFC 6761) as a public suffix, so "x.test" is an
    organizational domain (RFC 7489 §3.2); without it every name under "test" would share one
    organization and anything would align. authheaders reads a packager's list from
    ``authheaders.findpsl.location`` when that module exists."""
    bundled = importlib.resources.files("authheaders") / "public_suffix_list.txt"
    psl = tmp_path / "public_suffix_list.txt"
    psl.write_text(bundled.read_text(encoding="utf-8") + "\ntest\n", encoding="utf-8")
    findpsl = types.ModuleType("authheaders.findpsl")
    findpsl.location = str(psl)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "authheaders.findpsl", findpsl)
