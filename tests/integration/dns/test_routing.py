"""MX routing against a real DNS server (Knot on 127.0.0.53): what the delivery engine sees.

Zones name 127.0.0.x addresses; nothing connects to them here.
"""

from __future__ import annotations

import random

import pytest

from postillon.config.settings import DeliverySettings
from postillon.dns.destinations import DestinationFilter
from postillon.dns.errors import (
    DnsLookupError,
    MailLoopError,
    NoMailHostError,
    NoMxAddressError,
    NoSuchDomainError,
    NullMxError,
)
from postillon.dns.mx import LocalIdentity, Route
from postillon.dns.resolver import Resolver
from postillon.dns.router import MxRouter
from tests.support.dns_server import TestDns
from tests.support.fixtures import LOOPBACK_DESTINATIONS

pytestmark = pytest.mark.timeout(30)

LOOPBACK = DestinationFilter.allowing((*LOOPBACK_DESTINATIONS, "::1/128"))
US = LocalIdentity.from_settings(
    DeliverySettings(
        helo_name="mta.postillon.test",
        own_addresses=("127.0.0.90",),
        source_addresses=("127.0.0.91",),
    )
)


async def route(resolver: Resolver, domain: str, seed: int = 0) -> Route:
    return await MxRouter(resolver, US, random.Random(seed), LOOPBACK).route(domain)


def names(route: Route) -> list[str]:
    return [host.name for host in route.hosts]


async def test_hosts_in_preference_order_with_addresses(
    test_dns: TestDns, resolver: Resolver
) -> None:
    origin = test_dns.new_origin("pref")
    test_dns.add_zone(
        origin,
        """
        @    MX 30 mx3
        @    MX 10 mx1
        @    MX 20 mx2
        mx1  A    127.0.0.61
        mx1  AAAA ::1
        mx2  A    127.0.0.62
        mx3  A    127.0.0.63
        """,
    )
    found = await route(resolver, origin)
    assert [(h.name, h.preference, h.addresses) for h in found.hosts] == [
        (f"mx1.{origin}", 10, ("127.0.0.61", "::1")),
        (f"mx2.{origin}", 20, ("127.0.0.62",)),
        (f"mx3.{origin}", 30, ("127.0.0.63",)),
    ]
    assert not found.is_implicit


async def test_equal_preferences_spread_by_the_injected_rng(
    test_dns: TestDns, resolver: Resolver
) -> None:
    origin = test_dns.new_origin("spread")
    test_dns.add_zone(
        origin,
        """
        @    MX 10 a
        @    MX 10 b
        @    MX 20 c
        a    A 127.0.0.61
        b    A 127.0.0.62
        c    A 127.0.0.63
        """,
    )
    orders = [names(await route(resolver, origin, seed)) for seed in range(20)]
    assert {order[0] for order in orders} == {f"a.{origin}", f"b.{origin}"}
    assert all(order[2] == f"c.{origin}" for order in orders)
    assert names(await route(resolver, origin, 3)) == names(await route(resolver, origin, 3))


@pytest.mark.parametrize(
    ("records", "host_label", "addresses"),
    [
        pytest.param("@ A 127.0.0.64", "", ("127.0.0.64",), id="a-only"),
        pytest.param("@ A 127.0.0.64\n@ AAAA ::1", "", ("127.0.0.64", "::1"), id="a-and-aaaa"),
        pytest.param(
            "www CNAME host\nhost A 127.0.0.65", "host", ("127.0.0.65",), id="cname-in-zone"
        ),
    ],
)
async def test_implicit_mx_from_addresses(
    test_dns: TestDns, resolver: Resolver, records: str, host_label: str, addresses: tuple[str]
) -> None:
    # RFC 5321 §5.1: no MX, so the name itself (after its CNAME) is the host, preference 0.
    origin = test_dns.new_origin("implicit")
    test_dns.add_zone(origin, records)
    domain = f"www.{origin}" if host_label else origin
    found = await route(resolver, domain)
    assert found.is_implicit
    expected_host = f"{host_label}.{origin}" if host_label else origin
    assert [(h.name, h.preference, h.addresses) for h in found.hosts] == [
        (expected_host, 0, addresses)
    ]


async def test_cname_chain_across_zones(test_dns: TestDns, resolver: Resolver) -> None:
    # Knot answers a CNAME to another zone with the CNAME alone; the resolver follows it.
    first, second, third = (test_dns.new_origin(label) for label in ("ca", "cb", "cc"))
    test_dns.add_zone(third, "@ MX 10 mx\nmx A 127.0.0.66")
    test_dns.add_zone(second, f"hop CNAME {third}.")
    test_dns.add_zone(first, f"mail CNAME hop.{second}.\nmxalias CNAME mx.{third}.")
    found = await route(resolver, f"mail.{first}")
    assert [(h.name, h.addresses) for h in found.hosts] == [(f"mx.{third}", ("127.0.0.66",))]
    assert found.domain == f"mail.{first}"


async def test_mx_target_behind_cname_is_resolved(test_dns: TestDns, resolver: Resolver) -> None:
    origin, other = test_dns.new_origin("mxc"), test_dns.new_origin("mxt")
    test_dns.add_zone(other, "real A 127.0.0.67")
    test_dns.add_zone(origin, f"@ MX 10 alias\nalias CNAME real.{other}.")
    found = await route(resolver, origin)
    assert [(h.name, h.addresses) for h in found.hosts] == [(f"alias.{origin}", ("127.0.0.67",))]


async def test_null_mx_is_556_without_address_lookups(
    test_dns: TestDns, resolver: Resolver
) -> None:
    origin = test_dns.new_origin("nullmx")
    test_dns.add_zone(origin, "@ MX 0 .\n@ A 127.0.0.68")
    with pytest.raises(NullMxError) as raised:
        await route(resolver, origin)
    assert (raised.value.reply_code, raised.value.enhanced_status) == (556, "5.1.10")
    assert not raised.value.is_transient


async def test_nxdomain_is_permanent(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("nx")
    test_dns.add_zone(origin, "www A 127.0.0.61")
    with pytest.raises(NoSuchDomainError) as raised:
        await route(resolver, f"missing.{origin}")
    assert raised.value.enhanced_status == "5.1.2"
    assert not raised.value.is_transient


async def test_servfail_is_temporary(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("servfail")
    test_dns.add_servfail_zone(origin)
    with pytest.raises(DnsLookupError) as raised:
        await route(resolver, origin)
    assert raised.value.enhanced_status == "4.4.3"
    assert raised.value.is_transient
    assert "SERVFAIL" in str(raised.value)


async def test_refused_is_temporary(resolver: Resolver) -> None:
    # Knot refuses names outside its zones; no answer is not "no domain".
    with pytest.raises(DnsLookupError):
        await route(resolver, "outside-every-zone.invalid")


async def test_mx_host_in_servfail_zone_is_skipped(test_dns: TestDns, resolver: Resolver) -> None:
    origin, broken = test_dns.new_origin("skip"), test_dns.new_origin("skipbroken")
    test_dns.add_servfail_zone(broken)
    test_dns.add_zone(origin, f"@ MX 10 mx.{broken}.\n@ MX 20 backup\nbackup A 127.0.0.62")
    assert names(await route(resolver, origin)) == [f"backup.{origin}"]


async def test_only_broken_mx_hosts_is_temporary(test_dns: TestDns, resolver: Resolver) -> None:
    origin, broken = test_dns.new_origin("allbroken"), test_dns.new_origin("allbroken-ns")
    test_dns.add_servfail_zone(broken)
    test_dns.add_zone(origin, f"@ MX 10 mx.{broken}.")
    with pytest.raises(DnsLookupError):
        await route(resolver, origin)


async def test_mx_hosts_without_addresses_is_temporary(
    test_dns: TestDns, resolver: Resolver
) -> None:
    origin = test_dns.new_origin("noaddr")
    test_dns.add_zone(origin, "@ MX 10 mx\n@ MX 20 gone\nmx TXT not-an-address")
    with pytest.raises(NoMxAddressError) as raised:
        await route(resolver, origin)
    assert raised.value.enhanced_status == "4.4.4"


async def test_no_mx_and_no_address_is_permanent(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("nomail")
    test_dns.add_zone(origin, "@ TXT hello")
    with pytest.raises(NoMailHostError):
        await route(resolver, origin)


@pytest.mark.parametrize(
    "records",
    [
        pytest.param("@ MX 10 mta.postillon.test.", id="our-helo-name"),
        pytest.param("@ MX 10 mx\nmx A 127.0.0.90", id="our-own-address"),
        pytest.param("@ MX 10 mx\nmx A 127.0.0.91", id="our-source-address"),
        pytest.param("@ A 127.0.0.90", id="implicit-mx-is-us"),
        pytest.param("@ MX 20 mx\n@ MX 10 us\nmx A 127.0.0.61\nus A 127.0.0.91", id="we-are-best"),
    ],
)
async def test_mx_pointing_to_ourselves_is_5_4_6(
    test_dns: TestDns, resolver: Resolver, records: str
) -> None:
    origin = test_dns.new_origin("loop")
    test_dns.add_zone(origin, records)
    with pytest.raises(MailLoopError) as raised:
        await route(resolver, origin)
    assert raised.value.enhanced_status == "5.4.6"
    assert not raised.value.is_transient


async def test_as_backup_mx_we_use_the_better_hosts(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("backup")
    test_dns.add_zone(origin, "@ MX 10 mx\n@ MX 20 us\nmx A 127.0.0.61\nus A 127.0.0.90")
    assert names(await route(resolver, origin)) == [f"mx.{origin}"]
