"""A node for the overview's browser tests: like conftest's ``served`` but sending from
127.0.0.242 and trusting the test CA (so TLS to a receiver with a certificate for its MX name
verifies), with a verified sender domain, a recipient domain ``secure`` whose MX on 127.0.0.240
offers STARTTLS and accepts, and one ``legacy`` whose MX on 127.0.0.241 speaks clear text and
answers 550 to ``gone@``, 451 to ``later@`` and 250 to anyone else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from postillon.config.settings import TlsSettings
from postillon.message.model import OutgoingEmail
from postillon.services.sending import SendRequest
from postillon.storage.records import Account
from tests.e2e.dashboard.conftest import Served, serve_node, verified_domain
from tests.integration.services.conftest import new_domain
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import ReceiverFactory

SECURE_MX_ADDRESS = "127.0.0.240"
LEGACY_MX_ADDRESS = "127.0.0.241"
SOURCE_ADDRESS = "127.0.0.242"
GONE_REPLY = "550 5.1.1 No such user here"
LATER_REPLY = "451 4.7.1 Greylisted, try again later"


def _legacy_reply(address: str) -> str | None:
    local = address.strip("<>").split("@", 1)[0]
    return {"gone": GONE_REPLY, "later": LATER_REPLY}.get(local)


@dataclass
class Post:
    """The served node, its sender domain and the two recipient domains."""

    served: Served
    shop: str
    secure: str
    legacy: str

    async def send(self, subject: str, to: str, account: Account | None = None) -> str:
        """Send one email from alice@shop to ``to``; its id."""
        email = OutgoingEmail(
            from_=f"Alice <alice@{self.shop}>", to=(to,), subject=subject, text="Hello"
        )
        sent = await self.served.node.services.sending.send(
            account or self.served.account, SendRequest(email=email)
        )
        return sent.id


@asynccontextmanager
async def open_post(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, smtp_receiver: ReceiverFactory
) -> AsyncIterator[Post]:
    """The node and its receivers, running until the block ends."""
    secure = new_domain(test_dns, "secure")
    test_dns.add_zone(secure, f"@ MX 10 mx\nmx A {SECURE_MX_ADDRESS}")
    await smtp_receiver(
        SECURE_MX_ADDRESS, tls_context=pki.server_context(f"mx.{secure}"), hostname=f"mx.{secure}"
    )
    legacy = new_domain(test_dns, "legacy")
    test_dns.add_zone(legacy, f"@ MX 10 mx\nmx A {LEGACY_MX_ADDRESS}")
    await smtp_receiver(LEGACY_MX_ADDRESS, hostname=f"mx.{legacy}", rcpt_handler=_legacy_reply)
    tls = TlsSettings(ca_file=pki.ca_pem_path)
    async with serve_node(tmp_path, test_dns, source_address=SOURCE_ADDRESS, tls=tls) as served:
        shop = await verified_domain(served.node, served.account, test_dns, "shop")
        yield Post(served, shop, secure, legacy)
