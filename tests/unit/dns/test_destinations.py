"""Which MX addresses mail may go to: public ones, plus the operator's allowlist."""

from __future__ import annotations

import random

import pytest

from postillon.config.settings import DeliverySettings
from postillon.dns.destinations import DestinationFilter
from postillon.dns.errors import PrivateDestinationError
from postillon.dns.mx import LocalIdentity, MxWalk, Route
from postillon.dns.records import Answer, MxRecord, RecordType, Status
from postillon.errors import ConfigError

DEFAULT = DestinationFilter.from_settings(DeliverySettings(helo_name="mta.test"))


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("224.0.0.1", "never"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "never"),
        ("0.0.0.0", "never"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique local"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
        ("64:ff9b::a00:1", "embeds 10.0.0.1"),
        ("ff02::1", "never"),
    ],
)
def test_internal_addresses_are_refused_by_default(address: str, why: str) -> None:
    reason = DEFAULT.refusal(address)
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize("address", ["8.8.8.8", "2a00:1450:4001::1a", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert DEFAULT.refusal(address) is None


def test_the_allowlist_opens_its_networks_only() -> None:
    allowed = DestinationFilter.from_settings(
        DeliverySettings(helo_name="mta.test", allow_private_destinations=("127.0.0.0/8",))
    )
    assert allowed.refusal("127.0.17.5") is None
    assert allowed.refusal("10.0.0.1") is not None
    everything = DestinationFilter.allowing(("0.0.0.0/0",))
    assert everything.refusal("0.0.0.0") == "is never a unicast destination"
    assert everything.refusal("224.0.0.5") == "is never a unicast destination"


def test_a_bad_allowlist_entry_names_the_key() -> None:
    settings = DeliverySettings(helo_name="mta.test", allow_private_destinations=("10.0.0.1/8",))
    with pytest.raises(ConfigError, match=r"delivery\.allow_private_destinations: '10\.0\.0\.1/8'"):
        DestinationFilter.from_settings(settings)


def route(mx: dict[str, tuple[str, ...]], destinations: DestinationFilter = DEFAULT) -> Route:
    walk = MxWalk("victim.test", LocalIdentity.of("mta.test", ()), random.Random(0), destinations)
    records = tuple(MxRecord(10 * (i + 1), host) for i, host in enumerate(mx))
    while queries := walk.next_queries():
        for query in queries:
            if query.rdtype is RecordType.MX:
                walk.receive_mx(
                    Answer("victim.test", RecordType.MX, Status.FOUND, "victim.test", records, 60)
                )
            else:
                found = mx[query.name] if query.rdtype is RecordType.A else ()
                status = Status.FOUND if found else Status.NODATA
                walk.receive_addresses(
                    Answer(query.name, query.rdtype, status, query.name, found, 60)
                )
    return walk.route()


def test_an_mx_into_an_internal_network_is_a_permanent_explained_failure() -> None:
    with pytest.raises(PrivateDestinationError) as refused:
        route({"mx.victim.test": ("10.0.0.25",), "mx2.victim.test": ("169.254.169.254",)})
    error = refused.value
    assert not error.is_transient
    assert (error.reply_code, error.enhanced_status) == (550, "5.4.4")
    assert "mx.victim.test 10.0.0.25: private (RFC 1918)" in str(error)
    assert "allow_private_destinations" in str(error)


def test_internal_addresses_are_dropped_and_public_ones_kept() -> None:
    result = route({"mx.victim.test": ("10.0.0.25", "8.8.4.4"), "mx2.victim.test": ("127.0.0.1",)})
    assert [(h.name, h.addresses) for h in result.hosts] == [("mx.victim.test", ("8.8.4.4",))]
