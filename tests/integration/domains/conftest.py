"""Fixtures for the domain checks against the real test DNS server (knot, ``test_dns``).

``resolver``: postillon's Resolver on the test server, empty cache. ``dkim_key``: one RSA-2048
key per session (generating one takes a while). ``pyspf_on_test_dns``: pyspf's DNS hook pointed
at the test server for the test's duration.
"""

from __future__ import annotations

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import DnsSettings
from postillon.dkim import SigningKey, generate_rsa_key
from postillon.dns.resolver import Resolver
from tests.integration.domains.oracles import pyspf_lookup
from tests.support.dns_server import TestDns

# Generous for loopback, short enough that a lost answer fails the test quickly.
RESOLVER_TIMEOUT_S = 5.0


@pytest.fixture
def resolver(test_dns: TestDns) -> Resolver:
    """A Resolver asking only the test server, with an empty cache."""
    settings = DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=RESOLVER_TIMEOUT_S)
    return Resolver(settings, FakeClock())


@pytest.fixture(scope="session")
def dkim_key() -> SigningKey:
    """The domain's DKIM key (RSA-2048), shared by the session's tests."""
    return generate_rsa_key()


@pytest.fixture
def pyspf_on_test_dns(test_dns: TestDns, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make pyspf (``spf.check2``) look records up on the test server."""
    import spf

    monkeypatch.setattr(spf, "DNSLookup", pyspf_lookup(test_dns.nameserver))
