"""Fixtures for MTA-STS integration tests: a DNS test double, policy hosts, the real fetcher.

The HTTPS servers and certificates are real (tests/support); only DNS is a double, mapping
``mta-sts.<domain>`` to a loopback address in 127.0.0.60-79 and answering ``_mta-sts`` TXT
queries from a dict, until the engine plugs in the real resolver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from postillon.config.settings import MtaStsSettings, TlsSettings
from postillon.errors import TemporaryError
from postillon.policy.fetch import PolicyFetcher
from tests.support.certs import CertKind, TestPki
from tests.support.https_server import HttpsServer

# Short enough that a hanging server fails a test quickly, long enough for a loaded machine.
FETCH_TIMEOUT_S = 5.0


class StaticDns:
    """Answers TXT and address lookups from dicts; ``fail_txt`` makes TXT lookups SERVFAIL."""

    def __init__(self) -> None:
        self.txt_records: dict[str, list[str]] = {}
        self.hosts: dict[str, list[str]] = {}
        self.txt_queries: list[str] = []
        self.fail_txt = False

    async def txt(self, name: str) -> list[str]:
        self.txt_queries.append(name)
        if self.fail_txt:
            raise TemporaryError(f"SERVFAIL for {name} TXT")
        return list(self.txt_records.get(name, []))

    async def addresses(self, host: str) -> list[str]:
        return list(self.hosts.get(host, []))

    def publish(self, domain: str, *records: str, policy_host_ip: str | None = None) -> None:
        """Set ``_mta-sts.<domain>`` TXT to ``records``; point ``mta-sts.<domain>`` at the IP."""
        self.txt_records[f"_mta-sts.{domain}"] = list(records)
        if policy_host_ip is not None:
            self.hosts[f"mta-sts.{domain}"] = [policy_host_ip]


def policy_body(
    mode: str = "enforce", mx: tuple[str, ...] = ("mx1.mail.example",), max_age: str = "86400"
) -> bytes:
    """A policy file with CRLF line ends."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def policy_server(pki: TestPki, domain: str, ip: str, kind: CertKind = "valid") -> HttpsServer:
    """An HTTPS server for ``mta-sts.<domain>`` on ``ip:443`` with a ``kind`` certificate."""
    return HttpsServer(ip, pki.server_context(f"mta-sts.{domain}", kind))


@pytest.fixture
def dns() -> StaticDns:
    return StaticDns()


@pytest.fixture
def tls_settings(pki: TestPki) -> TlsSettings:
    return TlsSettings(ca_file=pki.ca_pem_path)


@pytest.fixture
async def fetcher(dns: StaticDns, tls_settings: TlsSettings) -> AsyncIterator[PolicyFetcher]:
    settings = MtaStsSettings(fetch_timeout_s=FETCH_TIMEOUT_S)
    async with PolicyFetcher(dns, settings=settings, tls=tls_settings) as client:
        yield client
