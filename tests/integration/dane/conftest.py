"""Fixtures for DANE tests: real DNSSEC (Knot signing, Unbound validating) and a real Attempt.

Owns: the session's :class:`SignedDns` (knotd on 127.0.18.53:53, unbound on 127.0.18.54), a
factory of Attempts built as the application builds them with ``[dns] dnssec = true`` (MxRouter
and TLSA lookups over the Resolver pointed at unbound, MTA-STS over the real fetcher), and
helpers to compute TLSA data and TLS contexts from the test PKI. Addresses: 127.0.18.10-49.
"""

from __future__ import annotations

import hashlib
import random
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from postillon.clock import FakeClock
from postillon.config.settings import (
    DeliverySettings,
    DnsSettings,
    MtaStsSettings,
    Settings,
    SmtpTimeouts,
    TlsSettings,
)
from postillon.delivery.attempt import Attempt, DeliveryConnection
from postillon.delivery.dial import smtp_dialer
from postillon.delivery.job import DeliveryJob, JobRecipient, RecipientFacts
from postillon.delivery.pool import ConnectionPool
from postillon.dns.destinations import DestinationFilter
from postillon.dns.mx import LocalIdentity
from postillon.dns.resolver import Resolver
from postillon.dns.router import MxRouter
from postillon.policy.cache import PolicyCache
from postillon.policy.fetch import PolicyFetcher
from postillon.policy.store import MemoryPolicyStore
from tests.support.certs import CertFiles, TestPki
from tests.support.dnssec_dns import SignedDns
from tests.support.fixtures import LOOPBACK_DESTINATIONS

HELO_NAME = "mta.postillon.test"
MAIL_FROM = "sender@postillon.test"
# Generous for loopback, short enough that a failure shows in seconds.
PHASE_TIMEOUT_S = 5.0
BODY = b"From: s@postillon.test\r\nTo: r@example.test\r\nSubject: dane\r\n\r\nHello.\r\n"


@pytest.fixture(scope="session")
def signed_dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignedDns]:
    """The signed root and validating resolver, for the whole session."""
    with SignedDns(tmp_path_factory.mktemp("dnssec")) as server:
        yield server


def job(domain: str, *addresses: str) -> DeliveryJob:
    """A job for ``addresses`` in ``domain``."""
    recipients = tuple(JobRecipient(f"r{i}", a) for i, a in enumerate(addresses))
    return DeliveryJob("m1", MAIL_FROM, domain, recipients, BODY)


def settings_for(signed_dns: SignedDns, pki: TestPki) -> Settings:
    """A node that trusts unbound as its validating resolver (``[dns] dnssec = true``)."""
    t = PHASE_TIMEOUT_S
    return Settings(
        dns=DnsSettings(nameservers=(signed_dns.nameserver,), timeout_s=t, dnssec=True),
        tls=TlsSettings(ca_file=pki.ca_pem_path),
        delivery=DeliverySettings(
            helo_name=HELO_NAME,
            allow_private_destinations=LOOPBACK_DESTINATIONS,  # test MX hosts on 127.0.18.x
            timeouts=SmtpTimeouts(
                connect_s=t,
                greeting_s=t,
                ehlo_s=t,
                starttls_s=t,
                mail_s=t,
                rcpt_s=t,
                data_init_s=t,
                data_block_s=t,
                final_dot_s=t,
                rset_s=t,
                quit_s=t,
            ),
        ),
        mta_sts=MtaStsSettings(fetch_timeout_s=t),
    )


@dataclass
class DaneDelivery:
    """A real Attempt on validated DNS."""

    attempt: Attempt
    pool: ConnectionPool[DeliveryConnection]

    async def run(self, delivery_job: DeliveryJob) -> list[RecipientFacts]:
        """Run one attempt."""
        return await self.attempt.run(delivery_job)


class DaneDeliveryFactory(Protocol):
    """``await make_dane_delivery()``."""

    async def __call__(self) -> DaneDelivery: ...


@pytest.fixture
async def make_dane_delivery(
    signed_dns: SignedDns, pki: TestPki
) -> AsyncIterator[DaneDeliveryFactory]:
    """Factory of DaneDeliveries; pools and policy caches are closed when the test ends."""
    cleanups: list[tuple[ConnectionPool[DeliveryConnection], PolicyCache, PolicyFetcher]] = []

    async def make() -> DaneDelivery:
        settings = settings_for(signed_dns, pki)
        clock = FakeClock(datetime.now(UTC))
        resolver = Resolver(settings.dns, clock)
        router = MxRouter(
            resolver,
            LocalIdentity.from_settings(settings.delivery),
            random.Random(0),
            DestinationFilter.from_settings(settings.delivery),
        )
        fetcher = PolicyFetcher(resolver, settings=settings.mta_sts, tls=settings.tls)
        policies = PolicyCache(txt=resolver, source=fetcher, store=MemoryPolicyStore(), clock=clock)
        pool: ConnectionPool[DeliveryConnection] = ConnectionPool(
            clock=clock, max_messages=100, idle_s=30.0
        )
        attempt = Attempt(
            router=router,
            policies=policies,
            pool=pool,
            dialer=smtp_dialer(settings, clock),
            clock=clock,
            max_rcpts=100,
            tlsa=resolver,
        )
        cleanups.append((pool, policies, fetcher))
        return DaneDelivery(attempt, pool)

    yield make
    for pool, policies, fetcher in reversed(cleanups):
        await pool.close_all()
        await policies.aclose()
        await fetcher.aclose()


def leaf_certificate(files: CertFiles) -> x509.Certificate:
    """The first certificate of a chain file."""
    return x509.load_pem_x509_certificates(files.cert_path.read_bytes())[0]


def spki_sha256(cert: x509.Certificate) -> str:
    """TLSA 3 1 1 / 2 1 1 data: SHA-256 of the SubjectPublicKeyInfo, hex."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def cert_sha256(cert: x509.Certificate) -> str:
    """TLSA x 0 1 data: SHA-256 of the whole certificate, hex."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def ca_certificate(pki: TestPki) -> x509.Certificate:
    """The test CA's certificate."""
    return x509.load_pem_x509_certificate(pki.ca_pem_path.read_bytes())


def context_with_ca(pki: TestPki, files: CertFiles, directory: Path) -> ssl.SSLContext:
    """A server context that sends its leaf and the CA (as DANE-TA servers must, RFC 7672
    §3.1.2)."""
    chain = directory / (files.cert_path.name + ".withca.pem")
    chain.write_bytes(files.cert_path.read_bytes() + pki.ca_pem_path.read_bytes())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(chain), str(files.key_path))
    return context
