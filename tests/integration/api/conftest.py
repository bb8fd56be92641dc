"""Fixtures for the HTTP API: real services on a SQLite file and the real test DNS (knot),
the app called in-process through httpx's ASGI transport.

Loopback addresses 127.0.0.190 to 127.0.0.199 belong to these tests: 127.0.0.190 for the real
uvicorn server, 127.0.0.191 as the node's source address (what our SPF record authorizes; never
bound). A sender domain is verified the way a customer does it: the records the API answers are
published in a test zone, then ``POST /verify``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from postillon.api import create_app
from postillon.api.rate_limit import RateLimit
from postillon.clock import FakeClock
from postillon.config.settings import (
    ApiSettings,
    DeliverySettings,
    DnsSettings,
    Settings,
    StorageSettings,
)
from postillon.dkim import MasterKey
from postillon.services.container import Services
from postillon.storage import SqlStore
from tests.support.dns_server import TestDns
from tests.support.fixtures import LOOPBACK_DESTINATIONS

START = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SOURCE_ADDRESS = "127.0.0.191"
HELO_NAME = "mta.postillon.test"
MASTER = MasterKey(b"\x17" * 32)
# Small enough that a test builds an oversized message in memory in no time.
MAX_MESSAGE_BYTES = 64 * 1024
# Generous: only the rate-limit tests meet the limit (they build their own app).
TEST_RATE_LIMIT = RateLimit(rate_per_s=1000.0, burst=1000)


def api_settings(db: Path, test_dns: TestDns) -> Settings:
    return Settings(
        storage=StorageSettings(url=f"sqlite:///{db}"),
        api=ApiSettings(listen="127.0.0.190:0", max_message_bytes=MAX_MESSAGE_BYTES),
        dns=DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=3.0),
        delivery=DeliverySettings(
            helo_name=HELO_NAME,
            source_addresses=(SOURCE_ADDRESS,),
            allow_private_destinations=LOOPBACK_DESTINATIONS,
        ),
    )


@dataclass
class World:
    """A migrated store, the services over it, and the clock they share."""

    settings: Settings
    store: SqlStore
    services: Services
    clock: FakeClock
    test_dns: TestDns

    def app(self, rate_limit: RateLimit = TEST_RATE_LIMIT) -> FastAPI:
        return create_app(self.services, self.settings, clock=self.clock, rate_limit=rate_limit)

    async def key(self, account: str) -> str:
        """A new API key of ``account`` (created if new)."""
        _, token = await self.services.keys.create(account)
        return token


@pytest.fixture
async def world(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[World]:
    clock = FakeClock(START)
    settings = api_settings(tmp_path / "api.db", test_dns)
    store = SqlStore.from_url(settings.storage.url, clock)
    await store.migrate()
    services = Services.build(settings, store, None, clock, master_key=MASTER)
    yield World(settings, store, services, clock, test_dns)
    await services.close()
    await store.close()


def client_for(app: FastAPI, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test", headers=headers
    )


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """A client of account "acme"."""
    async with client_for(world.app(), await world.key("acme")) as c:
        yield c


def zone_text(records: list[dict[str, Any]]) -> str:
    """Master-file lines publishing ``records`` as the API gave them (absolute names)."""
    lines = []
    for record in records:
        if record["type"] == "TXT":
            strings = " ".join(f'"{s}"' for s in record["value_strings"])
            lines.append(f"{record['name']}. TXT {strings}")
        else:
            lines.append(f"{record['name']}. {record['type']} {record['value']}.")
    return "\n".join(lines)


async def verified_domain(client: httpx.AsyncClient, test_dns: TestDns, label: str) -> str:
    """A new sender domain of the client's account, published and verified."""
    domain = test_dns.new_origin(label)
    added = await client.post("/v1/domains", json={"name": domain})
    assert added.status_code == 201, added.text
    test_dns.add_zone(domain, zone_text(added.json()["records"]))
    verified = await client.post(f"/v1/domains/{domain}/verify")
    assert verified.json()["status"] == "verified", verified.text
    return domain


@pytest.fixture
async def sender(client: httpx.AsyncClient, world: World) -> str:
    """A verified sender domain of "acme"."""
    return await verified_domain(client, world.test_dns, "api")


def email(sender: str, **fields: Any) -> dict[str, Any]:
    """A valid send body from ``sender``, with ``fields`` replacing or adding."""
    body: dict[str, Any] = {
        "from": {"email": f"news@{sender}", "name": "News"},
        "to": "ada@example.test",
        "subject": "Hello",
        "text": "Hi Ada",
    }
    body.update(fields)
    return body
