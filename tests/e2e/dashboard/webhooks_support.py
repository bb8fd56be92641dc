"""Helpers for the webhook pages' tests: a node like conftest's ``served`` whose
settings allow webhooks to this area's loopback receivers (127.0.0.246 and .247), with a
verified sender domain (so a sent email writes an ``email.queued`` event), a real webhook
receiver (aiohttp) on 127.0.0.246 that checks every signature with ``standardwebhooks``.
Binds only 127.0.0.246 (and the node's 127.0.0.233), on ports the kernel picks. Signing in,
screenshots and signed HTTP clients are browsing.py's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import ApiSettings, WebhookSettings
from postillon.message.model import OutgoingEmail
from postillon.services.sending import SendRequest
from tests.e2e.dashboard.conftest import API_HOST, SOURCE_ADDRESS, Served
from tests.integration.services.conftest import START, new_domain
from tests.integration.services.publish import publish
from tests.integration.services.test_end_to_end import node_settings
from tests.integration.webhooks.hook_receiver import verifies
from tests.support.dns_server import TestDns

RECEIVER_ADDRESS = "127.0.0.246"
# Allowed too, with nothing listening on it: a test event there fails to connect.
SILENT_ADDRESS = "127.0.0.247"
ALLOWED_NETWORKS = ("127.0.0.246/32", "127.0.0.247/32")
# How long a test waits for a webhook to arrive; deliveries here take milliseconds.
ARRIVAL_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Arrival:
    """One webhook as received, with the indexes of the secrets that verified its signature."""

    headers: dict[str, str]
    body: bytes
    verified_by: tuple[int, ...]

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class HookInbox:
    """A webhook receiver: answers 204 to a request signed by one of ``secrets`` (401 to any
    other) and records every request. ``async with HookInbox() as inbox: inbox.url()``."""

    def __init__(self, host: str = RECEIVER_ADDRESS) -> None:
        self.host = host
        self.port = 0
        self.secrets: list[str] = []
        self.arrivals: list[Arrival] = []
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)

    def url(self, path: str = "/hooks/postillon") -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def wait_for(self, count: int) -> list[Arrival]:
        """The arrivals once there are ``count`` of them (bounded wait)."""
        async with asyncio.timeout(ARRIVAL_TIMEOUT_S), self._arrived:
            await self._arrived.wait_for(lambda: len(self.arrivals) >= count)
        return list(self.arrivals)

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        (address,) = self._runner.addresses
        self.port = int(address[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = tuple(i for i, s in enumerate(self.secrets) if verifies(s, body, headers))
        async with self._arrived:
            self.arrivals.append(Arrival(headers, body, verified))
            self._arrived.notify_all()
        if not verified:
            return web.Response(status=401, text="bad signature")
        return web.Response(status=204)


@dataclass
class Hooked:
    """A served node allowing webhooks to this area's receivers, with a verified sender
    domain ``shop``, and the receiver ``inbox``."""

    served: Served
    inbox: HookInbox
    shop: str

    @property
    def node(self) -> Node:
        return self.served.node

    async def send_email(self, subject: str) -> str:
        """Send one email from the shop (it is queued, not delivered: this node runs no
        engine); its ``email.queued`` event goes to the endpoints that want it."""
        email = OutgoingEmail(
            from_=f"Alice <alice@{self.shop}>", to=("bob@example.org",), subject=subject, text="Hi"
        )
        sent = await self.node.services.sending.send(self.served.account, SendRequest(email=email))
        return sent.id


@asynccontextmanager
async def open_hooked(tmp_path: Path, test_dns: TestDns) -> AsyncIterator[Hooked]:
    """A migrated node serving its API and dashboard on 127.0.0.233 (a free port) whose
    webhook guard allows 127.0.0.246 and 127.0.0.247, and a receiver on 127.0.0.246."""
    base = node_settings(tmp_path, test_dns)
    settings = base.model_copy(
        update={
            "api": ApiSettings(listen=f"{API_HOST}:0"),
            "delivery": base.delivery.model_copy(update={"source_addresses": (SOURCE_ADDRESS,)}),
            "webhooks": WebhookSettings(allow_private_networks=ALLOWED_NETWORKS),
        }
    )
    node = Node(settings, clock=FakeClock(START))
    await node.migrate()
    _, token = await node.services.keys.create("acme")
    account = await node.services.keys.authenticate(token)
    assert account is not None
    shop = new_domain(test_dns, "shop")
    added = await node.services.domains.add(account, shop)
    publish(test_dns, shop, added.records)
    await node.services.domains.verify(account, shop)
    await node.api.start()
    host, port = node.api.address
    try:
        async with HookInbox() as inbox:
            served = Served(node, f"http://{host}:{port}/dashboard", token, account)
            yield Hooked(served, inbox, shop)
    finally:
        await node.api.stop()
        await node.close()
