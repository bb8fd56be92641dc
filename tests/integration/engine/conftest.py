"""Fixtures for engine tests: a Node on a fresh SQLite file, resolving through the test DNS.

Loopback addresses 127.0.0.140 to 127.0.0.169 belong to these tests (MX hosts on port 25).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from postillon.app import Node
from postillon.clock import FakeClock
from postillon.config.settings import (
    DeliverySettings,
    DkimSettings,
    DnsSettings,
    MtaStsSettings,
    RetrySettings,
    Settings,
    SmtpTimeouts,
    StorageSettings,
    TlsSettings,
)
from postillon.storage.records import NewMessage, NewRecipient
from tests.support.certs import TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import LOOPBACK_DESTINATIONS

NodeFactory = Callable[..., Node]


def engine_settings(
    db: Path,
    test_dns: TestDns,
    pki: TestPki,
    *,
    final_dot_s: float = 10.0,
    poll_interval_s: float = 0.05,
) -> Settings:
    """Settings a test node runs with: short timeouts, the test DNS, the test CA."""
    return Settings(
        storage=StorageSettings(url=f"sqlite:///{db}"),
        dns=DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=3.0),
        tls=TlsSettings(ca_file=pki.ca_pem_path),
        delivery=DeliverySettings(
            helo_name="mta.postillon.test",
            allow_private_destinations=LOOPBACK_DESTINATIONS,
            lease_s=30.0,
            poll_interval_s=poll_interval_s,
            drain_timeout_s=10.0,
            timeouts=SmtpTimeouts(
                connect_s=3, greeting_s=5, ehlo_s=5, mail_s=5, rcpt_s=5, final_dot_s=final_dot_s
            ),
        ),
        retry=RetrySettings(base_s=300, cap_s=3600, jitter=0.1, max_lifetime_s=86400),
        mta_sts=MtaStsSettings(enabled=True, fetch_timeout_s=2.0),
        dkim=DkimSettings(master_key_file=db.parent / "dkim-master.key"),
    )


@pytest.fixture
def clock() -> FakeClock:
    """Engine time: tests move it past backoffs instead of sleeping."""
    return FakeClock()


@pytest.fixture
async def make_node(
    tmp_path: Path, test_dns: TestDns, pki: TestPki, clock: FakeClock
) -> AsyncIterator[NodeFactory]:
    """Factory of migrated nodes on one SQLite file; all are closed at teardown."""
    nodes: list[Node] = []

    def make(**overrides: float) -> Node:
        node = Node(engine_settings(tmp_path / "queue.db", test_dns, pki, **overrides), clock=clock)
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        await node.close()


def new_message(account_id: str, rcpts: list[str], *, tag: str = "t") -> NewMessage:
    """A small signed-looking message from our test sender to ``rcpts``."""
    body = (
        f"From: Sender <sender@postillon.test>\r\nTo: {', '.join(rcpts)}\r\n"
        f"Subject: engine test {tag}\r\nX-Test-Id: {tag}\r\n\r\nHello from the engine.\r\n"
    ).encode()
    return NewMessage(
        account_id=account_id,
        mail_from="bounces@postillon.test",
        recipients=tuple(NewRecipient(r) for r in rcpts),
        body=body,
        subject=f"engine test {tag}",
        tags=(tag,),
    )
