"""The Resolver against a real DNS server (Knot on 127.0.0.53): lookups, TTL cache, failures."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator

import pytest

from postillon.clock import FakeClock
from postillon.config.settings import DnsSettings
from postillon.dns.errors import DnsLookupError
from postillon.dns.records import RecordType, Status, TxtRecord
from postillon.dns.resolver import MAX_CNAME_HOPS, Resolver
from postillon.errors import ConfigError
from tests.support.dns_server import DNS_ADDRESS, TestDns

pytestmark = pytest.mark.timeout(30)


async def test_txt_keeps_strings_and_joins_them(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("txt")
    test_dns.add_zone(
        origin,
        """
        _mta-sts  TXT "v=STSv1; " "id=20260101T000000;"
        multi     TXT "first"
        multi     TXT "sec" "ond"
        """,
    )
    answer = await resolver.lookup_txt(f"_mta-sts.{origin}")
    assert answer.status is Status.FOUND
    assert answer.records == (TxtRecord((b"v=STSv1; ", b"id=20260101T000000;")),)
    assert await resolver.txt(f"_mta-sts.{origin}") == ["v=STSv1; id=20260101T000000;"]
    assert sorted(await resolver.txt(f"multi.{origin}")) == ["first", "second"]


async def test_long_txt_record_over_tcp(test_dns: TestDns, resolver: Resolver) -> None:
    # Larger than the EDNS payload (1232): the UDP answer is truncated, TCP brings it whole.
    origin = test_dns.new_origin("longtxt")
    strings = [f"{i:02d}" + "k" * 250 for i in range(8)]
    test_dns.add_zone(origin, "dkim TXT " + " ".join(f'"{s}"' for s in strings))
    assert await resolver.txt(f"dkim.{origin}") == ["".join(strings)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("missing", [], id="nxdomain"),
        pytest.param("host", [], id="nodata"),
    ],
)
async def test_txt_absent_is_empty(
    test_dns: TestDns, resolver: Resolver, name: str, expected: list[str]
) -> None:
    origin = test_dns.new_origin("notxt")
    test_dns.add_zone(origin, "host A 127.0.0.61")
    assert await resolver.txt(f"{name}.{origin}") == expected


async def test_txt_servfail_raises_temporary(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("txtfail")
    test_dns.add_servfail_zone(origin)
    with pytest.raises(DnsLookupError) as raised:
        await resolver.txt(f"_mta-sts.{origin}")
    assert raised.value.is_transient


async def test_addresses_both_families(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("addr")
    test_dns.add_zone(
        origin, "mta-sts A 127.0.0.70\nmta-sts A 127.0.0.71\nmta-sts AAAA ::1\nv4 A 127.0.0.72"
    )
    assert sorted(await resolver.addresses(f"mta-sts.{origin}")) == [
        "127.0.0.70",
        "127.0.0.71",
        "::1",
    ]
    assert await resolver.addresses(f"v4.{origin}") == ["127.0.0.72"]
    assert await resolver.addresses(f"none.{origin}") == []


async def test_addresses_servfail_raises(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("addrfail")
    test_dns.add_servfail_zone(origin)
    with pytest.raises(DnsLookupError):
        await resolver.addresses(f"mta-sts.{origin}")


async def test_changed_record_seen_only_after_ttl(
    test_dns: TestDns, resolver: Resolver, clock: FakeClock
) -> None:
    origin = test_dns.new_origin("ttl")
    test_dns.add_zone(origin, '_mta-sts TXT "v=STSv1; id=1;"', ttl=600)
    name = f"_mta-sts.{origin}"
    assert await resolver.txt(name) == ["v=STSv1; id=1;"]
    test_dns.add_zone(origin, '_mta-sts TXT "v=STSv1; id=2;"', ttl=600)
    clock.advance(599)
    assert await resolver.txt(name) == ["v=STSv1; id=1;"]  # cached: the TTL has not run out
    clock.advance(1)
    assert await resolver.txt(name) == ["v=STSv1; id=2;"]


async def test_shortest_ttl_on_a_cname_chain_rules(
    test_dns: TestDns, resolver: Resolver, clock: FakeClock
) -> None:
    origin = test_dns.new_origin("chainttl")
    test_dns.add_zone(origin, "alias 30 CNAME host\nhost 600 A 127.0.0.61")
    answer = await resolver.lookup_addresses(f"alias.{origin}", RecordType.A)
    assert (answer.canonical_name, answer.records, answer.ttl_s) == (
        f"host.{origin}",
        ("127.0.0.61",),
        30,
    )
    test_dns.add_zone(origin, "alias 30 CNAME host\nhost 600 A 127.0.0.62")
    clock.advance(29)
    assert (await resolver.lookup_addresses(f"alias.{origin}", RecordType.A)).records == (
        "127.0.0.61",
    )
    clock.advance(1)
    assert (await resolver.lookup_addresses(f"alias.{origin}", RecordType.A)).records == (
        "127.0.0.62",
    )


@pytest.mark.parametrize(
    ("name", "status"),
    [
        pytest.param("late", Status.NXDOMAIN, id="nxdomain"),
        pytest.param("host", Status.NODATA, id="nodata"),
    ],
)
async def test_negative_answer_cached_for_soa_minimum(
    test_dns: TestDns, resolver: Resolver, clock: FakeClock, name: str, status: Status
) -> None:
    # RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM), here 60 s, not 600.
    origin = test_dns.new_origin("negative")
    test_dns.add_zone(origin, "host TXT x", ttl=600, negative_ttl=60)
    first = await resolver.lookup_addresses(f"{name}.{origin}", RecordType.A)
    assert (first.status, first.ttl_s) == (status, 60)
    test_dns.add_zone(origin, f"host TXT x\n{name} A 127.0.0.61", ttl=600, negative_ttl=60)
    clock.advance(59)
    assert (await resolver.lookup_addresses(f"{name}.{origin}", RecordType.A)).status is status
    clock.advance(1)
    found = await resolver.lookup_addresses(f"{name}.{origin}", RecordType.A)
    assert (found.status, found.records) == (Status.FOUND, ("127.0.0.61",))


async def test_failures_are_not_cached(test_dns: TestDns, resolver: Resolver) -> None:
    origin = test_dns.new_origin("nocachefail")
    first = await resolver.lookup_txt(f"x.{origin}")  # not served yet: REFUSED
    assert first.status is Status.FAILED
    test_dns.add_zone(origin, 'x TXT "now"')
    assert await resolver.txt(f"x.{origin}") == ["now"]


async def test_cache_bound(test_dns: TestDns, clock: FakeClock) -> None:
    origin = test_dns.new_origin("bound")
    test_dns.add_zone(origin, 'a TXT "1"\nb TXT "1"')
    settings = DnsSettings(nameservers=(test_dns.nameserver,), cache_max_entries=1)
    resolver = Resolver(settings, clock)
    assert await resolver.txt(f"a.{origin}") == ["1"]
    assert await resolver.txt(f"b.{origin}") == ["1"]  # evicts a
    test_dns.add_zone(origin, 'a TXT "2"\nb TXT "2"')
    assert await resolver.txt(f"b.{origin}") == ["1"]  # still cached
    assert await resolver.txt(f"a.{origin}") == ["2"]  # evicted, asked again


async def test_cross_zone_cname_loop_fails(test_dns: TestDns, resolver: Resolver) -> None:
    first, second = test_dns.new_origin("loopa"), test_dns.new_origin("loopb")
    test_dns.add_zone(first, f"x CNAME x.{second}.")
    test_dns.add_zone(second, f"x CNAME x.{first}.")
    answer = await resolver.lookup_mx(f"x.{first}")
    assert answer.status is Status.FAILED
    assert "CNAME loop" in answer.reason


async def test_overlong_cname_chain_fails(test_dns: TestDns, resolver: Resolver) -> None:
    origins = [test_dns.new_origin("hop") for _ in range(MAX_CNAME_HOPS + 1)]
    for here, there in itertools.pairwise(origins):
        test_dns.add_zone(here, f"x CNAME x.{there}.")  # each hop crosses into another zone
    test_dns.add_zone(origins[-1], "x A 127.0.0.61")
    answer = await resolver.lookup_addresses(f"x.{origins[0]}", RecordType.A)
    assert answer.status is Status.FAILED
    assert "longer than" in answer.reason


async def test_name_that_cannot_exist_is_nxdomain(resolver: Resolver) -> None:
    answer = await resolver.lookup_mx("x" * 64 + ".test")  # a label over 63 octets
    assert answer.status is Status.NXDOMAIN


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A UDP socket on 127.0.0.53 that reads queries and never answers (a timeout)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((DNS_ADDRESS, 0))
        yield f"{DNS_ADDRESS}:{sock.getsockname()[1]}"


async def test_timeout_is_a_failure(silent_server: str, clock: FakeClock) -> None:
    settings = DnsSettings(nameservers=(silent_server,), timeout_s=0.3)
    resolver = Resolver(settings, clock)
    answer = await resolver.lookup_mx("example.test")
    assert answer.status is Status.FAILED
    assert "timed out" in answer.reason
    with pytest.raises(DnsLookupError):
        await resolver.txt("example.test")


def test_bad_nameserver_setting_is_config_error(clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match=r"dns\.nameservers"):
        Resolver(DnsSettings(nameservers=("resolver.example:53",)), clock)
