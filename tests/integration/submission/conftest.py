"""A node with its submission listeners on the real test DNS and a real SQLite file.

Loopback addresses 127.0.14.2 to 127.0.14.29 belong to these tests: 127.0.14.2 for our
listeners (587 STARTTLS, 465 implicit TLS), 127.0.14.9 the node's source address (what our
SPF record authorizes), 127.0.14.10 the recipients' MX (aiosmtpd on 25), 127.0.14.20 a Postfix
null client. Two accounts each verify a sender domain the way a customer does (records
published in a test zone).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import (
    ApiSettings,
    DeliverySettings,
    DkimSettings,
    DnsSettings,
    MtaStsSettings,
    Settings,
    SmtpTimeouts,
    StorageSettings,
    SubmissionSettings,
)
from postillon.services.domain_views import DomainStatus
from postillon.storage import Account
from postillon.storage.records import MessageFilter
from tests.integration.services.conftest import (  # noqa: F401 - fixtures used by the tests
    new_domain,
    pyspf_on_test_dns,
    test_is_a_public_suffix,
)
from tests.integration.services.publish import publish
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import LOOPBACK_DESTINATIONS

HOST = "127.0.14.2"
STARTTLS_PORT = 587
IMPLICIT_PORT = 465
SOURCE_ADDRESS = "127.0.14.9"
MX_ADDRESS = "127.0.14.10"
POSTFIX_ADDRESS = "127.0.14.20"
HELO_NAME = "mta.postillon.test"
SERVER_NAME = "smtp.postillon.test"
# Small, so over-size tests build their messages in no time.
MAX_MESSAGE_BYTES = 64 * 1024
AUTH_FAILURES = 3


@dataclass
class SubmissionWorld:
    """A node serving submission, two accounts with a verified domain and a key each."""

    node: Node
    pki: TestPki
    acme: Account
    acme_key: str
    acme_domain: str
    globex_key: str
    globex_domain: str
    recipient_domain: str
    tmp_path: Path

    def client_context(self) -> ssl.SSLContext:
        """Trusts the test CA, checks the name (connect to HOST, say SERVER_NAME)."""
        context = self.pki.client_context()
        context.check_hostname = False
        return context

    async def messages(self) -> list[str]:
        """Ids of acme's stored messages, oldest first."""
        store = self.node.store
        page = await store.list_messages(
            MessageFilter(account_id=self.acme.id), limit=100, cursor=None
        )
        return [view.id for view in reversed(page.items)]


def settings_for(tmp_path: Path, test_dns: TestDns, pki: TestPki) -> Settings:
    files = pki.cert_files(SERVER_NAME)
    return Settings(
        storage=StorageSettings(url=f"sqlite:///{tmp_path / 'queue.db'}"),
        api=ApiSettings(listen="127.0.14.3:0", max_message_bytes=MAX_MESSAGE_BYTES),
        dns=DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=3.0),
        delivery=DeliverySettings(
            helo_name=HELO_NAME,
            source_addresses=(SOURCE_ADDRESS,),
            allow_private_destinations=LOOPBACK_DESTINATIONS,
            poll_interval_s=0.05,
            timeouts=SmtpTimeouts(connect_s=3, greeting_s=5, ehlo_s=5, mail_s=5, rcpt_s=5),
        ),
        mta_sts=MtaStsSettings(enabled=False),
        dkim=DkimSettings(master_key_file=tmp_path / "dkim-master.key"),
        submission=SubmissionSettings(
            listen=(f"{HOST}:{STARTTLS_PORT}",),
            implicit_tls_listen=(f"{HOST}:{IMPLICIT_PORT}",),
            cert_file=files.cert_path,
            key_file=files.key_path,
            hostname=SERVER_NAME,
            auth_failures=AUTH_FAILURES,
            idle_timeout_s=10,
            session_timeout_s=30,
        ),
    )


@pytest.fixture
async def world(tmp_path: Path, test_dns: TestDns, pki: TestPki) -> AsyncIterator[SubmissionWorld]:
    node = Node(settings_for(tmp_path, test_dns, pki), clock=FakeClock())
    await node.migrate()
    services = node.services
    domains: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for name in ("acme", "globex"):
        _, tokens[name] = await services.keys.create(name)
        account = await services.keys.authenticate(tokens[name])
        assert account is not None
        domain = new_domain(test_dns, name)
        added = await services.domains.add(account, domain)
        publish(test_dns, domain, added.records)
        assert (await services.domains.verify(account, domain)).status is DomainStatus.VERIFIED
        domains[name] = domain
    acme = await services.keys.authenticate(tokens["acme"])
    assert acme is not None
    recipient_domain = new_domain(test_dns, "inbox")
    test_dns.add_zone(recipient_domain, f"@ MX 10 mx\nmx A {MX_ADDRESS}")
    await node.submission.start()
    try:
        yield SubmissionWorld(
            node=node,
            pki=pki,
            acme=acme,
            acme_key=tokens["acme"],
            acme_domain=domains["acme"],
            globex_key=tokens["globex"],
            globex_domain=domains["globex"],
            recipient_domain=recipient_domain,
            tmp_path=tmp_path,
        )
    finally:
        await node.submission.close()
        await node.close()
