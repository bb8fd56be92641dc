"""The pure MX walk: answers built by hand in, a Route or a DNS error out (RFC 5321 §5.1)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from postillon.config.settings import DeliverySettings
from postillon.dns.destinations import DestinationFilter
from postillon.dns.errors import (
    DnsLookupError,
    DnsPermanentError,
    DnsTemporaryError,
    MailLoopError,
    NoMailHostError,
    NoMxAddressError,
    NoSuchDomainError,
    NullMxError,
)
from postillon.dns.mx import MAX_MX_HOSTS, LocalIdentity, MxHost, MxWalk, Query, Route
from postillon.dns.records import Answer, MxRecord, RecordType, Status

DOMAIN = "example.test"
# These tests route to loopback and documentation addresses (RFC 5737, RFC 3849): allowed.
DOCUMENTATION = DestinationFilter.allowing(
    ("127.0.0.0/8", "::1/128", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
US = LocalIdentity.of("mta.postillon.test", ["192.0.2.25", "2001:db8::25"])
A, AAAA = RecordType.A, RecordType.AAAA


def mx(
    *records: tuple[int, str], status: Status = Status.FOUND, canonical: str = DOMAIN
) -> Answer[MxRecord]:
    found = tuple(MxRecord(p, e) for p, e in records)
    reason = "SERVFAIL" if status is Status.FAILED else ""
    return Answer(DOMAIN, RecordType.MX, status, canonical, found, 300, reason)


def addr(
    name: str, rdtype: RecordType, *addresses: str, status: Status | None = None
) -> Answer[str]:
    state = status or (Status.FOUND if addresses else Status.NODATA)
    reason = "timed out" if state is Status.FAILED else ""
    return Answer(name, rdtype, state, name, tuple(addresses), 300, reason)


@dataclass(frozen=True)
class Zone:
    """What the walk is told: one MX answer and the address answers (NODATA if absent)."""

    mx: Answer[MxRecord]
    addresses: tuple[Answer[str], ...] = field(default=())

    def answer(self, query: Query) -> Answer[str]:
        for answer in self.addresses:
            if answer.name == query.name and answer.rdtype is query.rdtype:
                return answer
        return addr(query.name, query.rdtype)


def walk(zone: Zone, identity: LocalIdentity = US, seed: int = 0) -> Route:
    """Drive the walk the way postillon.dns.router does, answering from ``zone``."""
    mx_walk = MxWalk(DOMAIN, identity, random.Random(seed), DOCUMENTATION)
    while queries := mx_walk.next_queries():
        for query in queries:
            if query.rdtype is RecordType.MX:
                mx_walk.receive_mx(zone.mx)
            else:
                mx_walk.receive_addresses(zone.answer(query))
    return mx_walk.route()


def hosts(route: Route) -> list[tuple[str, int, tuple[str, ...]]]:
    return [(h.name, h.preference, h.addresses) for h in route.hosts]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        pytest.param(
            Zone(
                mx((20, "mx2.example.test"), (10, "mx1.example.test"), (30, "mx3.example.test")),
                (
                    addr("mx1.example.test", A, "127.0.0.61"),
                    addr("mx2.example.test", A, "127.0.0.62"),
                    addr("mx3.example.test", A, "127.0.0.63"),
                ),
            ),
            [
                ("mx1.example.test", 10, ("127.0.0.61",)),
                ("mx2.example.test", 20, ("127.0.0.62",)),
                ("mx3.example.test", 30, ("127.0.0.63",)),
            ],
            id="preference-order",
        ),
        pytest.param(
            Zone(
                mx((10, "MX1.Example.Test.")),
                (
                    addr("mx1.example.test", A, "127.0.0.61", "127.0.0.71"),
                    addr("mx1.example.test", AAAA, "::1"),
                ),
            ),
            [("mx1.example.test", 10, ("127.0.0.61", "127.0.0.71", "::1"))],
            id="names-normalised-ipv4-then-ipv6",
        ),
        pytest.param(
            Zone(
                mx((30, "mx.example.test"), (10, "mx.example.test")),
                (addr("mx.example.test", A, "127.0.0.61"),),
            ),
            [("mx.example.test", 10, ("127.0.0.61",))],
            id="same-host-twice-keeps-best-preference",
        ),
        pytest.param(
            Zone(
                mx((10, "gone.example.test"), (20, "mx2.example.test")),
                (
                    addr("gone.example.test", A, status=Status.NXDOMAIN),
                    addr("mx2.example.test", A, "127.0.0.62"),
                ),
            ),
            [("mx2.example.test", 20, ("127.0.0.62",))],
            id="host-without-address-skipped",
        ),
        pytest.param(
            Zone(
                mx((10, "broken.example.test"), (20, "mx2.example.test")),
                (
                    addr("broken.example.test", A, status=Status.FAILED),
                    addr("broken.example.test", AAAA, status=Status.FAILED),
                    addr("mx2.example.test", AAAA, "2001:db8::62"),
                ),
            ),
            [("mx2.example.test", 20, ("2001:db8::62",))],
            id="host-whose-lookup-failed-skipped",
        ),
        pytest.param(
            Zone(
                mx((10, "mx.example.test")),
                (
                    addr("mx.example.test", A, "127.0.0.61"),
                    addr("mx.example.test", AAAA, status=Status.FAILED),
                ),
            ),
            [("mx.example.test", 10, ("127.0.0.61",))],
            id="one-family-failed-other-used",
        ),
        pytest.param(
            Zone(
                mx((0, "."), (10, "mx.example.test")), (addr("mx.example.test", A, "127.0.0.61"),)
            ),
            [("mx.example.test", 10, ("127.0.0.61",))],
            id="null-mx-beside-real-mx-ignored",
        ),
        pytest.param(
            Zone(
                mx((20, "backup.example.test"), (10, "mx.example.test")),
                (
                    addr("mx.example.test", A, "127.0.0.61"),
                    addr("backup.example.test", A, "192.0.2.25"),
                ),
            ),
            [("mx.example.test", 10, ("127.0.0.61",))],
            id="we-are-backup-mx-only-better-hosts-kept",
        ),
        pytest.param(
            Zone(
                mx((10, "mx.example.test"), (20, "mta.postillon.test"), (20, "other.example.test")),
                (
                    addr("mx.example.test", A, "127.0.0.61"),
                    addr("other.example.test", A, "127.0.0.62"),
                ),
            ),
            [("mx.example.test", 10, ("127.0.0.61",))],
            id="hosts-as-preferred-as-us-dropped",
        ),
    ],
)
def test_route_lists_hosts_in_order(zone: Zone, expected: list[object]) -> None:
    route = walk(zone)
    assert hosts(route) == expected
    assert route.domain == DOMAIN
    assert not route.is_implicit


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        pytest.param(
            Zone(mx(status=Status.NODATA), (addr(DOMAIN, A, "127.0.0.61"),)),
            MxHost(DOMAIN, 0, ("127.0.0.61",)),
            id="no-mx-uses-a",
        ),
        pytest.param(
            Zone(mx(status=Status.NODATA), (addr(DOMAIN, AAAA, "::1"),)),
            MxHost(DOMAIN, 0, ("::1",)),
            id="no-mx-uses-aaaa",
        ),
        pytest.param(
            Zone(
                mx(status=Status.NODATA, canonical="target.other.test"),
                (addr("target.other.test", A, "127.0.0.64"),),
            ),
            MxHost("target.other.test", 0, ("127.0.0.64",)),
            id="cname-followed-to-canonical-name",
        ),
    ],
)
def test_implicit_mx(zone: Zone, expected: MxHost) -> None:
    # RFC 5321 §5.1: no MX records, so the domain (after its CNAME) is the host, preference 0.
    route = walk(zone)
    assert route.is_implicit
    assert route.hosts == (expected,)


@pytest.mark.parametrize(
    ("zone", "identity", "error", "status"),
    [
        pytest.param(
            Zone(mx(status=Status.NXDOMAIN)), US, NoSuchDomainError, "5.1.2", id="nxdomain"
        ),
        pytest.param(Zone(mx(status=Status.FAILED)), US, DnsLookupError, "4.4.3", id="mx-servfail"),
        pytest.param(Zone(mx((0, "."))), US, NullMxError, "5.1.10", id="null-mx"),
        pytest.param(
            Zone(mx((10, "mta.postillon.test"))), US, MailLoopError, "5.4.6", id="mx-is-our-name"
        ),
        pytest.param(
            Zone(
                mx((10, "mx.example.test"), (20, "mx2.example.test")),
                (
                    addr("mx.example.test", AAAA, "2001:0db8:0::25"),
                    addr("mx2.example.test", A, "127.0.0.62"),
                ),
            ),
            US,
            MailLoopError,
            "5.4.6",
            id="best-mx-has-our-ipv6-address",
        ),
        pytest.param(
            Zone(mx(status=Status.NODATA), (addr(DOMAIN, A, "203.0.113.7"),)),
            LocalIdentity.from_settings(
                DeliverySettings(helo_name="mta.test", source_addresses=("203.0.113.7",))
            ),
            MailLoopError,
            "5.4.6",
            id="implicit-mx-is-our-source-address",
        ),
        pytest.param(
            Zone(mx((10, "a.example.test"), (20, "b.example.test"))),
            US,
            NoMxAddressError,
            "4.4.4",
            id="no-mx-host-has-an-address",
        ),
        pytest.param(
            Zone(
                mx((10, "a.example.test"), (20, "b.example.test")),
                (addr("b.example.test", A, status=Status.FAILED),),
            ),
            US,
            DnsLookupError,
            "4.4.3",
            id="no-address-and-a-lookup-failed",
        ),
        pytest.param(
            Zone(mx(status=Status.NODATA)), US, NoMailHostError, "5.4.4", id="no-mx-no-address"
        ),
        pytest.param(
            Zone(mx(status=Status.NODATA), (addr(DOMAIN, AAAA, status=Status.FAILED),)),
            US,
            DnsLookupError,
            "4.4.3",
            id="no-mx-address-lookup-failed",
        ),
    ],
)
def test_unroutable_domain_raises_status(
    zone: Zone, identity: LocalIdentity, error: type[Exception], status: str
) -> None:
    with pytest.raises(error) as raised:
        walk(zone, identity)
    assert isinstance(raised.value, DnsTemporaryError | DnsPermanentError)
    assert raised.value.enhanced_status == status
    assert raised.value.is_transient is status.startswith("4")
    assert str(raised.value).startswith(f"{status} {DOMAIN}: ")


def test_null_mx_reply_code_is_556() -> None:
    # RFC 7505 §4.1 with RFC 7504's 556 "domain does not accept mail".
    with pytest.raises(NullMxError) as raised:
        walk(Zone(mx((0, "."))))
    assert raised.value.reply_code == 556


def test_null_mx_asks_for_no_addresses() -> None:
    mx_walk = MxWalk(DOMAIN, US, random.Random(0), DOCUMENTATION)
    assert mx_walk.next_queries() == (Query(DOMAIN, RecordType.MX),)
    with pytest.raises(NullMxError):
        mx_walk.receive_mx(mx((0, ".")))


def test_queries_mx_then_addresses_of_every_host() -> None:
    mx_walk = MxWalk("Example.Test.", US, random.Random(0), DOCUMENTATION)
    assert mx_walk.next_queries() == (Query(DOMAIN, RecordType.MX),)
    mx_walk.receive_mx(mx((10, "a.example.test"), (20, "b.example.test")))
    assert set(mx_walk.next_queries()) == {
        Query(name, rdtype) for name in ("a.example.test", "b.example.test") for rdtype in (A, AAAA)
    }
    mx_walk.receive_addresses(addr("a.example.test", A, "127.0.0.61"))
    assert Query("a.example.test", A) not in mx_walk.next_queries()


def test_route_before_answers_is_an_error() -> None:
    mx_walk = MxWalk(DOMAIN, US, random.Random(0), DOCUMENTATION)
    mx_walk.next_queries()
    mx_walk.receive_mx(mx((10, "a.example.test")))
    with pytest.raises(RuntimeError):
        mx_walk.route()


def test_at_most_max_mx_hosts_are_resolved() -> None:
    records = [(p, f"mx{p}.example.test") for p in range(MAX_MX_HOSTS + 5)]
    mx_walk = MxWalk(DOMAIN, US, random.Random(0), DOCUMENTATION)
    mx_walk.next_queries()
    mx_walk.receive_mx(mx(*records))
    names = {query.name for query in mx_walk.next_queries()}
    assert names == {f"mx{p}.example.test" for p in range(MAX_MX_HOSTS)}


EQUAL = Zone(
    mx((10, "a.example.test"), (10, "b.example.test"), (10, "c.example.test"), (5, "best.test")),
    (
        *(addr(n, A, "127.0.0.61") for n in ("a.example.test", "b.example.test", "c.example.test")),
        addr("best.test", A, "127.0.0.60"),
    ),
)


def test_equal_preferences_in_random_order_from_injected_rng() -> None:
    # RFC 5321 §5.1: hosts of equal preference are tried in random order to spread load.
    orders = {tuple(h.name for h in walk(EQUAL, seed=seed).hosts) for seed in range(40)}
    assert all(order[0] == "best.test" for order in orders)
    assert {order[1] for order in orders} == {"a.example.test", "b.example.test", "c.example.test"}


def test_same_seed_same_order() -> None:
    assert walk(EQUAL, seed=7) == walk(EQUAL, seed=7)


def test_identity_normalises_names_and_addresses() -> None:
    identity = LocalIdentity.of("MTA.Example.Test.", ["2001:DB8:0::1", " 192.0.2.1 "])
    assert identity.is_self("mta.example.test", [])
    assert identity.is_self("other.test", ["2001:db8::1"])
    assert identity.is_self("other.test", ["192.0.2.1"])
    assert not identity.is_self("other.test", ["192.0.2.2", "not-an-address"])
