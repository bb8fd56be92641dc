"""Fixtures for delivery-attempt tests: a real :class:`Attempt` on real DNS, MTA-STS and SMTP.

Owns: building :class:`~postillon.delivery.attempt.Attempt` the way the application does
(MxRouter over the Resolver on the test Knot server, PolicyCache over the real PolicyFetcher,
ConnectionPool, smtp_dialer with short timeouts), MTA-STS policy hosts (HttpsServer) and the
step from facts to what the store would record (``delivery.verdicts.decide``). Nothing here is a
double: tests assert on the facts and on what real receivers got.

Addresses: 127.0.0.100-139 only (MX hosts on port 25, MTA-STS hosts on 443); each test module's
constants give each test its own, so no test sees another's listener.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import (
    DeliverySettings,
    DnsSettings,
    MtaStsSettings,
    RetrySettings,
    Settings,
    SmtpTimeouts,
    TlsSettings,
)
from postillon.delivery.attempt import Attempt, DeliveryConnection
from postillon.delivery.dial import smtp_dialer, source_address_picker
from postillon.delivery.job import DeliveryJob, JobRecipient, RecipientFacts
from postillon.delivery.pool import ConnectionPool
from postillon.delivery.verdicts import decide
from postillon.dns.destinations import DestinationFilter
from postillon.dns.mx import LocalIdentity
from postillon.dns.resolver import Resolver
from postillon.dns.router import MxRouter
from postillon.policy.cache import PolicyCache
from postillon.policy.fetch import PolicyFetcher
from postillon.policy.store import MemoryPolicyStore
from postillon.storage.records import RecipientOutcome
from tests.support.certs import CertKind, TestPki
from tests.support.dns_server import TestDns
from tests.support.fixtures import LOOPBACK_DESTINATIONS
from tests.support.hostile import HostileServer, Script
from tests.support.https_server import HttpsServer

HELO_NAME = "mta.postillon.test"
MAIL_FROM = "sender@postillon.test"
# Generous for loopback, short enough that a silent peer fails a test in seconds.
PHASE_TIMEOUT_S = 5.0
# The only phase a test waits out on purpose (no reply after the final dot).
SHORT_FINAL_DOT_S = 0.5
# Pool limits as the defaults have them: every test's jobs fit in one connection.
MAX_MESSAGES_PER_CONNECTION = 100
CONNECTION_IDLE_S = 30.0

BODY = (
    b"From: Sender <sender@postillon.test>\r\n"
    b"To: someone@example.test\r\n"
    b"Subject: delivery attempt test\r\n"
    b"Message-ID: <attempt-test@postillon.test>\r\n"
    b"\r\n"
    b"Hello from the delivery tests.\r\n"
)


def job(domain: str, *addresses: str, body: bytes = BODY, message_id: str = "m1") -> DeliveryJob:
    """A job for ``addresses`` (recipient ids ``r0``, ``r1``...)."""
    return DeliveryJob(
        message_id=message_id,
        mail_from=MAIL_FROM,
        domain=domain,
        recipients=tuple(JobRecipient(f"r{i}", address) for i, address in enumerate(addresses)),
        body=body,
    )


def policy_body(mode: str, *mx: str, max_age: int = 86400) -> bytes:
    """An RFC 8461 §3.2 policy file."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return ("\r\n".join(lines) + "\r\n").encode()


@dataclass
class Delivery:
    """A real Attempt and what a test needs around it."""

    attempt: Attempt
    pool: ConnectionPool[DeliveryConnection]
    clock: FakeClock
    settings: Settings

    async def run(self, delivery_job: DeliveryJob) -> list[RecipientFacts]:
        """Run one attempt."""
        return await self.attempt.run(delivery_job)

    def decide(
        self,
        facts: RecipientFacts,
        *,
        created_at: datetime | None = None,
        previous_attempts: int = 0,
    ) -> RecipientOutcome:
        """What the store would record for ``facts`` now (message created now by default)."""
        now = self.clock.now()
        return decide(
            facts,
            previous_attempts=previous_attempts,
            created_at=created_at or now,
            started_at=now,
            now=now,
            retry=self.settings.retry,
            random=random.Random(0).random,
        )


class DeliveryFactory(Protocol):
    """``await make_delivery(max_rcpts=100, seed=0)``: a Delivery on the test DNS.

    ``seed`` seeds the router's one Random; ``source_addresses`` are bound round robin.
    """

    async def __call__(
        self,
        *,
        max_rcpts: int = 100,
        seed: int = 0,
        final_dot_s: float = PHASE_TIMEOUT_S,
        source_addresses: tuple[str, ...] = (),
    ) -> Delivery: ...


class PolicyHostFactory(Protocol):
    """``await policy_host(domain, ip, body, kind="valid")``: a started HTTPS policy server."""

    async def __call__(
        self, domain: str, ip: str, body: bytes, *, kind: CertKind = "valid"
    ) -> HttpsServer: ...


class HostileFactory(Protocol):
    """``await hostile(ip, script)``: a started scripted SMTP server on ``ip:25``."""

    async def __call__(self, host: str, script: Script) -> HostileServer: ...


def settings_for(
    test_dns: TestDns,
    pki: TestPki,
    *,
    final_dot_s: float,
    source_addresses: tuple[str, ...] = (),
) -> Settings:
    """Settings of a node that uses the test DNS server and trusts the test CA."""
    t = PHASE_TIMEOUT_S
    return Settings(
        dns=DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=t),
        tls=TlsSettings(ca_file=pki.ca_pem_path),
        delivery=DeliverySettings(
            helo_name=HELO_NAME,
            source_addresses=source_addresses,
            allow_private_destinations=LOOPBACK_DESTINATIONS,
            max_messages_per_connection=MAX_MESSAGES_PER_CONNECTION,
            connection_idle_s=CONNECTION_IDLE_S,
            timeouts=SmtpTimeouts(
                connect_s=t,
                greeting_s=t,
                ehlo_s=t,
                starttls_s=t,
                mail_s=t,
                rcpt_s=t,
                data_init_s=t,
                data_block_s=t,
                final_dot_s=final_dot_s,
                rset_s=t,
                quit_s=t,
            ),
        ),
        retry=RetrySettings(),
        mta_sts=MtaStsSettings(fetch_timeout_s=t),
    )


@pytest.fixture
async def make_delivery(test_dns: TestDns, pki: TestPki) -> AsyncIterator[DeliveryFactory]:
    """Factory of Deliveries; pools, policy caches and fetchers are closed when the test ends."""
    cleanups: list[tuple[ConnectionPool[DeliveryConnection], PolicyCache, PolicyFetcher]] = []

    async def make(
        *,
        max_rcpts: int = 100,
        seed: int = 0,
        final_dot_s: float = PHASE_TIMEOUT_S,
        source_addresses: tuple[str, ...] = (),
    ) -> Delivery:
        settings = settings_for(
            test_dns, pki, final_dot_s=final_dot_s, source_addresses=source_addresses
        )
        # Real time, so certificates are judged as valid or expired as they really are; the
        # clock only moves when a test says so (no cache or idle connection expires midway).
        clock = FakeClock(datetime.now(UTC))
        resolver = Resolver(settings.dns, clock)
        router = MxRouter(
            resolver,
            LocalIdentity.from_settings(settings.delivery),
            random.Random(seed),
            DestinationFilter.from_settings(settings.delivery),
        )
        fetcher = PolicyFetcher(resolver, settings=settings.mta_sts, tls=settings.tls)
        policies = PolicyCache(txt=resolver, source=fetcher, store=MemoryPolicyStore(), clock=clock)
        pool: ConnectionPool[DeliveryConnection] = ConnectionPool(
            clock=clock,
            max_messages=settings.delivery.max_messages_per_connection,
            idle_s=settings.delivery.connection_idle_s,
        )
        attempt = Attempt(
            router=router,
            policies=policies,
            pool=pool,
            dialer=smtp_dialer(settings, clock),
            clock=clock,
            max_rcpts=max_rcpts,
            source_address=source_address_picker(settings),
        )
        cleanups.append((pool, policies, fetcher))
        return Delivery(attempt, pool, clock, settings)

    yield make
    for pool, policies, fetcher in reversed(cleanups):
        await pool.close_all()
        await policies.aclose()
        await fetcher.aclose()


@pytest.fixture
async def policy_host(pki: TestPki) -> AsyncIterator[PolicyHostFactory]:
    """Factory of MTA-STS policy hosts (``mta-sts.<domain>`` on ``ip:443``), stopped at the end."""
    started: list[HttpsServer] = []

    async def start(domain: str, ip: str, body: bytes, *, kind: CertKind = "valid") -> HttpsServer:
        server = HttpsServer(ip, pki.server_context(f"mta-sts.{domain}", kind))
        server.response.body = body
        await server.start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        await server.stop()


@pytest.fixture
async def hostile() -> AsyncIterator[HostileFactory]:
    """Factory of scripted misbehaving servers, stopped when the test ends."""
    servers: list[HostileServer] = []

    async def start(host: str, script: Script) -> HostileServer:
        server = HostileServer(host, script)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        await server.stop()


def zone(test_dns: TestDns, label: str, records: str) -> str:
    """Serve ``records`` in a new zone; returns its origin (the recipient domain)."""
    origin = test_dns.new_origin(label)
    test_dns.add_zone(origin, records)
    return origin


def addresses(domain: str, count: int, prefix: str = "user") -> list[str]:
    """``count`` recipient addresses in ``domain``."""
    return [f"{prefix}{i:03d}@{domain}" for i in range(count)]


def by_address(facts: Iterable[RecipientFacts]) -> dict[str, RecipientFacts]:
    """Facts keyed by recipient address."""
    return {fact.recipient.address: fact for fact in facts}
