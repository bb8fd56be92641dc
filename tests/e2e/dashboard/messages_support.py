"""The message pages' browser tests' node: like conftest's ``served`` but sending from
127.0.0.245 (this area's source address), trusting the test CA, with verified sender domains, a
STARTTLS receiver on 127.0.0.243 (a certificate for its MX name: verified TLS), a dead MX on
127.0.0.244 and, on 127.0.0.244:443, the MTA-STS policy host of a domain in ``enforce`` mode;
and a helper that sends. Signing in and screenshots come from :mod:`tests.e2e.dashboard.browsing`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from postillon.app import Node
from postillon.config.settings import TlsSettings
from postillon.message.model import OutgoingEmail
from postillon.queue.stream import DEFAULT_STREAM, Stream
from postillon.services.sending import SendRequest
from postillon.storage.records import Account
from tests.e2e.dashboard.conftest import Served, serve_node, verified_domain
from tests.integration.services.conftest import new_domain
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory
from tests.support.https_server import HttpsServer
from tests.support.receivers import Receiver

SOURCE_ADDRESS = "127.0.0.245"
MX_ADDRESS = "127.0.0.243"
DEAD_MX_ADDRESS = "127.0.0.244"
POLICY_ADDRESS = DEAD_MX_ADDRESS  # port 443 there; nothing listens on its port 25
POLICY_ID = "20261204T0001"


@dataclass
class Mailroom:
    """A served node with a verified sender domain ``shop``, a second one ``news``, a recipient
    domain ``inbox`` whose MX is ``receiver`` (STARTTLS, verified), one ``sts`` whose MX is the
    same host under an MTA-STS ``enforce`` policy, and one ``dead`` whose MX is down."""

    served: Served
    receiver: Receiver
    shop: str
    news: str
    inbox: str
    sts: str
    dead: str

    @property
    def node(self) -> Node:
        return self.served.node

    async def send(
        self,
        subject: str,
        *,
        sender: str = "",
        to: tuple[str, ...] = (),
        text: str | None = "Hi",
        html: str | None = None,
        account: Account | None = None,
        tags: tuple[str, ...] = (),
        stream: Stream = DEFAULT_STREAM,
    ) -> str:
        """Send one email (default: from alice@shop to bob@inbox); its id."""
        email = OutgoingEmail(
            from_=sender or f"Alice <alice@{self.shop}>",
            to=to or (f"bob@{self.inbox}",),
            subject=subject,
            text=text,
            html=html,
        )
        sent = await self.node.services.sending.send(
            account or self.served.account, SendRequest(email=email, tags=tags, stream=stream)
        )
        return sent.id


@asynccontextmanager
async def open_mailroom(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> AsyncIterator[Mailroom]:
    """A migrated node serving its API and dashboard on 127.0.0.233 (a free port), with its
    domains, receiver and policy host; for a test module's fixture."""
    inbox = new_domain(test_dns, "inbox")
    test_dns.add_zone(inbox, f"@ MX 10 mx\nmx A {MX_ADDRESS}")
    mx = f"mx.{inbox}"
    receiver = await smtp_receiver(MX_ADDRESS, tls_context=pki.server_context(mx), hostname=mx)
    sts = new_domain(test_dns, "sts")
    test_dns.add_zone(
        sts,
        f'@ MX 10 {mx}.\n_mta-sts TXT "v=STSv1; id={POLICY_ID};"\nmta-sts A {POLICY_ADDRESS}',
    )
    policy = HttpsServer(POLICY_ADDRESS, pki.server_context(f"mta-sts.{sts}"))
    policy.response.body = (
        f"version: STSv1\r\nmode: enforce\r\nmx: {mx}\r\nmax_age: 86400\r\n".encode()
    )
    dead = new_domain(test_dns, "dead")
    test_dns.add_zone(dead, f"@ MX 10 mx\nmx A {DEAD_MX_ADDRESS}")
    tls = TlsSettings(ca_file=pki.ca_pem_path)
    async with (
        serve_node(tmp_path, test_dns, source_address=SOURCE_ADDRESS, tls=tls) as served,
        policy,
    ):
        node, account = served.node, served.account
        shop = await verified_domain(node, account, test_dns, "shop")
        news = await verified_domain(node, account, test_dns, "news")
        yield Mailroom(served, receiver, shop, news, inbox, sts, dead)
