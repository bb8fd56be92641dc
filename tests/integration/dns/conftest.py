"""Fixtures for DNS integration tests: one real Knot server per session, resolvers on it.

``test_dns`` (session) is a started :class:`tests.support.dns_server.TestDns`; tests share it,
so each one serves its own zones under ``test_dns.new_origin(...)``. ``clock`` and
``resolver`` are per test: a FakeClock and a Resolver pointed at the server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import DnsSettings
from postillon.dns.resolver import Resolver
from tests.support.dns_server import TestDns, running_test_dns

# Generous for loopback, short enough that a lost answer fails the test quickly.
RESOLVER_TIMEOUT_S = 5.0


@pytest.fixture(scope="session")
def test_dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDns]:
    """A knotd on 127.0.0.53:<free port> for the whole session, stopped at its end."""
    yield from running_test_dns(tmp_path_factory.mktemp("knot"))


@pytest.fixture
def clock() -> FakeClock:
    """The time the resolver's cache sees; tests advance it past TTLs."""
    return FakeClock()


@pytest.fixture
def resolver(test_dns: TestDns, clock: FakeClock) -> Resolver:
    """A Resolver asking only the test server, with an empty cache."""
    settings = DnsSettings(nameservers=(test_dns.nameserver,), timeout_s=RESOLVER_TIMEOUT_S)
    return Resolver(settings, clock)
