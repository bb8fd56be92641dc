"""TLS-RPT (RFC 8460) end to end: sessions from real DANE deliveries, counted in the store, one
report per day and domain from two nodes, to a real HTTPS receiver and into our own queue.

The report is checked against the RFC 8460 JSON schema (tests/support/schemas), written from the
RFC's field list; https goes through the webhook SSRF guard (127.0.18.0/24 allowed for the test).
"""

from __future__ import annotations

import asyncio
import email
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from postillon.clock import FakeClock
from postillon.config.settings import DnsSettings, TlsRptSettings, WebhookSettings
from postillon.delivery.job import RecipientFacts
from postillon.delivery.tlsrpt_session import sessions_of
from postillon.dns.resolver import Resolver
from postillon.services.signers import SignerCache
from postillon.services.tlsrpt import TlsRptReporter
from postillon.storage import SqlStore
from postillon.storage.domains_sql import SqlDomains
from postillon.storage.records import MessageFilter
from postillon.storage.tlsrpt_sql import SqlTlsRpt, count_sessions
from postillon.storage.transactions import Transactions
from postillon.webhooks.guard import TargetGuard
from postillon.webhooks.sender import WebhookSender
from tests.integration.api.conftest import MASTER, World, client, sender, world
from tests.integration.dane.conftest import (
    DaneDeliveryFactory,
    job,
    leaf_certificate,
    spki_sha256,
)
from tests.support.certs import TestPki
from tests.support.dnssec_dns import SignedDns
from tests.support.https_server import HttpsServer
from tests.support.receivers import Receiver

__all__ = ["client", "sender", "world"]  # the API test fixtures this module uses

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "support" / "schemas" / "tlsrpt-rfc8460.json").read_text()
)
DOMAIN = "mixed.d18"
MX = f"mx.{DOMAIN}"
MX_IP = "127.0.18.31"
REPORT_HOST = "tlsrpt.d18"
REPORT_IP = "127.0.18.30"
MAILTO = "tls-reports@example.test"


async def _mixed_run(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory
) -> list[RecipientFacts]:
    """Two DANE-authenticated deliveries, then one to the same MX with STARTTLS stripped."""
    tlsa = "3 1 1 " + spki_sha256(leaf_certificate(pki.cert_files(MX)))
    signed_dns.add(
        ".",
        f"""
        {DOMAIN}. MX 10 {MX}.
        {MX}. A {MX_IP}
        _25._tcp.{MX}. TLSA {tlsa}
        {REPORT_HOST}. A {REPORT_IP}
        _smtp._tls.{DOMAIN}. TXT "v=TLSRPTv1; rua=https://{REPORT_HOST}/tlsrpt,mailto:{MAILTO}"
        """,
    )
    facts: list[RecipientFacts] = []
    async with Receiver(MX_IP, tls_context=pki.server_context(MX)):
        for n in range(2):
            delivery = await make_dane_delivery()
            facts += await delivery.run(job(DOMAIN, f"user{n}@{DOMAIN}"))
            await delivery.pool.close_all()
    async with Receiver(MX_IP):  # no STARTTLS: the DANE session fails
        delivery = await make_dane_delivery()
        facts += await delivery.run(job(DOMAIN, f"user9@{DOMAIN}"))
    return facts


@dataclass
class Nodes:
    """Two nodes' stores on one database, and the verified sender domain of "acme"."""

    world: World
    second: SqlStore
    sender: str


@pytest.fixture
async def nodes(world: World, client: httpx.AsyncClient, sender: str) -> AsyncIterator[Nodes]:
    """``world`` (the first node, with a verified sender domain) and a second node."""
    store = SqlStore.from_url(world.settings.storage.url, world.clock)
    yield Nodes(world, store, sender)
    await store.close()


def _reporter(
    store: SqlStore,
    clock: FakeClock,
    *,
    signed_dns: SignedDns,
    pki: TestPki,
    owner: str,
    sender: str,
) -> TlsRptReporter:
    resolver = Resolver(DnsSettings(nameservers=(signed_dns.nameserver,), dnssec=True), clock)
    guard = TargetGuard.from_settings(WebhookSettings(allow_private_networks=("127.0.18.0/24",)))
    return TlsRptReporter(
        settings=TlsRptSettings(
            enabled=True,
            organization_name="Postillon Tests",
            contact_info="mailto:postmaster@postillon.test",
            from_domain=sender,
            account="acme",
        ),
        tables=SqlTlsRpt(store.engines),
        store=store,
        signers=SignerCache(SqlDomains(Transactions(store.engines, clock)), MASTER, clock),
        txt=resolver,
        https=WebhookSender(
            guard, clock=clock, resolver=resolver, ssl_context=pki.client_context()
        ),
        clock=clock,
        owner=owner,
    )


async def test_a_days_sessions_make_one_valid_report_sent_once_from_two_nodes(
    signed_dns: SignedDns, pki: TestPki, make_dane_delivery: DaneDeliveryFactory, nodes: Nodes
) -> None:
    world, sender = nodes.world, nodes.sender
    facts = await _mixed_run(signed_dns, pki, make_dane_delivery)
    assert [f.is_delivered for f in facts] == [True, True, False]
    started = world.clock.now()
    sessions = [s for fact in facts for s in sessions_of(DOMAIN, [fact], started)]
    old = replace(sessions[0], day="2026-01-01")  # long past: forgotten after the pass
    async with world.store.engines.writer.begin() as connection:
        await count_sessions(connection, [*sessions, old])

    next_day = FakeClock(
        datetime.combine(started.date() + timedelta(days=1), datetime.min.time(), UTC)
        + timedelta(hours=1)
    )
    node1 = _reporter(
        world.store, next_day, signed_dns=signed_dns, pki=pki, owner="node1", sender=sender
    )
    node2 = _reporter(
        nodes.second, next_day, signed_dns=signed_dns, pki=pki, owner="node2", sender=sender
    )
    receiver = HttpsServer(REPORT_IP, pki.server_context(REPORT_HOST))
    async with receiver:
        first, second = await asyncio.gather(node1.run_once(), node2.run_once())
        again = await node1.run_once()
    assert sorted(len(x) for x in (first, second)) == [0, 1]  # one node claimed the day
    assert again == []
    assert await SqlTlsRpt(world.store.engines).counts("2026-01-01") == []
    assert len(await SqlTlsRpt(world.store.engines).counts(started.date().isoformat())) == 2
    (sent,) = first + second
    assert sent.errors == ()
    assert set(sent.delivered_to) == {f"https://{REPORT_HOST}/tlsrpt", f"mailto:{MAILTO}"}

    (post,) = receiver.requests
    assert (post.method, post.path, post.content_type) == (
        "POST",
        "/tlsrpt",
        "application/tlsrpt+gzip",
    )
    report = json.loads(gzip.decompress(post.body))
    jsonschema.validate(report, SCHEMA)
    (policy,) = report["policies"]
    assert policy["policy"]["policy-type"] == "tlsa"
    assert policy["policy"]["policy-domain"] == DOMAIN
    assert policy["policy"]["mx-host"] == [MX]
    assert policy["summary"] == {
        "total-successful-session-count": 2,
        "total-failure-session-count": 1,
    }
    (detail,) = policy["failure-details"]
    assert detail == {
        "result-type": "starttls-not-supported",
        "receiving-mx-hostname": MX,
        "receiving-ip": MX_IP,
        "failed-session-count": 1,
    }
    assert report["date-range"]["start-datetime"] == f"{started.date().isoformat()}T00:00:00Z"

    page = await world.store.list_messages(MessageFilter(tag="tlsrpt"), limit=10)
    (queued,) = page.items
    view = await world.store.get_message(queued.id, with_body=True)
    assert view is not None
    assert view.body is not None
    mail = email.message_from_bytes(view.body)
    assert mail["DKIM-Signature"] is not None
    assert f"d={sender}" in mail["DKIM-Signature"].replace(" ", "")
    assert mail.get_content_type() == "multipart/report"
    assert mail.get_param("report-type") == "tlsrpt"
    assert mail["TLS-Report-Domain"] == DOMAIN
    assert [r.address for r in view.recipients] == [MAILTO]
    attachment = next(p for p in mail.walk() if p.get_content_type() == "application/tlsrpt+gzip")
    payload: Any = attachment.get_payload(decode=True)
    assert json.loads(gzip.decompress(payload)) == report
