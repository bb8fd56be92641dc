"""A real node for the dashboard tests: its app served by uvicorn on 127.0.0.233, sending from
127.0.0.230 to a STARTTLS receiver on 127.0.0.231 (and to a dead MX on 127.0.0.232), and a
headless Debian chromium driven by Playwright. Never downloads a browser.

:func:`serve_node` builds that node (the ``served`` fixture's, and each area's support module's
with its own settings); :func:`verified_domain` gives it a verified sender domain."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import ApiSettings
from postillon.services.domain_views import DomainStatus
from postillon.storage.records import Account
from tests.integration.services.conftest import START, new_domain
from tests.integration.services.publish import publish
from tests.integration.services.test_end_to_end import node_settings
from tests.support.dns_server import TestDns

SOURCE_ADDRESS = "127.0.0.230"
MX_ADDRESS = "127.0.0.231"
DEAD_MX_ADDRESS = "127.0.0.232"
API_HOST = "127.0.0.233"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"


@dataclass
class Served:
    """A running node (its clock is ``clock``), its dashboard's base URL, and an API key of
    account "acme"."""

    node: Node
    base_url: str
    token: str
    account: Account
    clock: FakeClock


@asynccontextmanager
async def serve_node(
    tmp_path: Path,
    test_dns: TestDns,
    *,
    source_address: str = SOURCE_ADDRESS,
    **setting_updates: Any,
) -> AsyncIterator[Served]:
    """A migrated node serving its API and dashboard on 127.0.0.233 (a free port), sending
    from ``source_address``, with account "acme"; ``setting_updates`` replace whole settings
    sections (``tls=TlsSettings(...)``, ``webhooks=WebhookSettings(...)``)."""
    base = node_settings(tmp_path, test_dns)
    settings = base.model_copy(
        update={
            "api": ApiSettings(listen=f"{API_HOST}:0"),
            "delivery": base.delivery.model_copy(
                update={"bind_addresses": (source_address,), "spf_addresses": (source_address,)}
            ),
            **setting_updates,
        }
    )
    clock = FakeClock(START)
    node = Node(settings, clock=clock)
    try:
        await node.migrate()
        _, token = await node.services.keys.create("acme")
        account = await node.services.keys.authenticate(token)
        assert account is not None
        await node.api.start()
        try:
            host, port = node.api.address
            yield Served(node, f"http://{host}:{port}/dashboard", token, account, clock)
        finally:
            await node.api.stop()
    finally:
        await node.close()


async def verified_domain(node: Node, account: Account, test_dns: TestDns, label: str) -> str:
    """A new sender domain of ``account`` with its records published and verified."""
    name = new_domain(test_dns, label)
    added = await node.services.domains.add(account, name)
    publish(test_dns, name, added.records)
    assert (await node.services.domains.verify(account, name)).status is DomainStatus.VERIFIED
    return name


@pytest.fixture
async def served(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[Served]:
    """A migrated node serving its API and dashboard on 127.0.0.233 (a free port)."""
    async with serve_node(tmp_path, test_dns) as opened:
        yield opened


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, headless."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed (scripts/install-debs.sh installs it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            await launched.close()
