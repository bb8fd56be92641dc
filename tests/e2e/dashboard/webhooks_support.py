"""Helpers for the webhook pages' tests: a node like conftest's ``served`` whose
settings allow webhooks to this area's loopback receivers (127.0.0.246 and .247), with a
verified sender domain (so a sent email writes an ``email.queued`` event), and a real webhook
receiver (the dispatcher tests' :class:`HookReceiver`) on 127.0.0.246.
Binds only 127.0.0.246 (and the node's 127.0.0.233), on ports the kernel picks. Signing in,
screenshots and signed HTTP clients are browsing.py's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from postillon.app import Node
from postillon.config.settings import WebhookSettings
from postillon.message.model import OutgoingEmail
from postillon.services.sending import SendRequest
from tests.e2e.dashboard.conftest import Served, serve_node, verified_domain
from tests.integration.webhooks.hook_receiver import HookReceiver
from tests.support.dns_server import TestDns

RECEIVER_ADDRESS = "127.0.0.246"
# Allowed too, with nothing listening on it: a test event there fails to connect.
SILENT_ADDRESS = "127.0.0.247"
ALLOWED_NETWORKS = ("127.0.0.246/32", "127.0.0.247/32")


@dataclass
class Hooked:
    """A served node allowing webhooks to this area's receivers, with a verified sender
    domain ``shop``, and the receiver ``inbox``."""

    served: Served
    inbox: HookReceiver
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
    webhooks = WebhookSettings(allow_private_networks=ALLOWED_NETWORKS)
    async with serve_node(tmp_path, test_dns, webhooks=webhooks) as served:
        shop = await verified_domain(served.node, served.account, test_dns, "shop")
        async with HookReceiver(RECEIVER_ADDRESS) as inbox:
            yield Hooked(served, inbox, shop)
