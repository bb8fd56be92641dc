"""Fixtures for DNS integration tests: one real Knot server per session, resolvers on it.

``test_dns`` (session, in tests/conftest.py) is a started knot server; tests share it, so
each one serves its own zones under ``test_dns.new_origin(...)``. ``clock`` and
``resolver`` are per test: a FakeClock and a Resolver pointed at the server.
"""

from __future__ import annotations

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import DnsSettings
from postillon.dns.resolver import Resolver
from tests.support.dns_server import TestDns

# Generous for loopback, short enough that a lost answer fails the test quickly.
RESOLVER_TIMEOUT_S = 5.0


@pytest.fixture
def clock() -> FakeClock:
    """The time the resolver's cache sees; tests advance it past TTLs."""
    return FakeClock()


@pytest.fixture
def resolver(test_dns: TestDns, clock: FakeClock) -> Resolver:
    """A Resolver asking only the test server, with an empty cache."""
    settings = DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=RESOLVER_TIMEOUT_S)
    return Resolver(settings, clock)
