"""Name normalisation, TXT text, and the nameserver setting's "address:port" form."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.dns.nameservers import parse_nameserver
from postillon.dns.records import MxRecord, Status, TxtRecord, normalize_name
from postillon.errors import ConfigError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Example.COM.", "example.com", id="case-and-trailing-dot"),
        pytest.param(" mx.example.com ", "mx.example.com", id="whitespace"),
        pytest.param(".", ".", id="root"),
        pytest.param("", ".", id="empty-is-root"),
    ],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


def test_null_mx_is_the_root_exchange() -> None:
    assert MxRecord(0, ".").is_null
    assert not MxRecord(0, "mx.example.com").is_null


def test_txt_text_joins_strings_without_separator() -> None:
    record = TxtRecord((b"v=STSv1; ", b"id=2026", b"\xff"))
    assert record.text == "v=STSv1; id=2026\ufffd"


def test_negative_statuses() -> None:
    assert {s for s in Status if s.is_negative} == {Status.NODATA, Status.NXDOMAIN}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("127.0.0.53:5353", ("127.0.0.53", 5353), id="ipv4-port"),
        pytest.param("127.0.0.53", ("127.0.0.53", 53), id="ipv4-default-port"),
        pytest.param("[::1]:5353", ("::1", 5353), id="ipv6-port"),
        pytest.param("[2001:DB8::1]", ("2001:db8::1", 53), id="ipv6-brackets-no-port"),
        pytest.param("2001:db8::1", ("2001:db8::1", 53), id="ipv6-bare"),
    ],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("dns.example.com:53", id="name-not-address"),
        pytest.param("127.0.0.53:", id="empty-port"),
        pytest.param("127.0.0.53:0", id="port-zero"),
        pytest.param("127.0.0.53:65536", id="port-too-big"),
        pytest.param("127.0.0.53:5x", id="port-not-number"),
        pytest.param("[::1", id="unclosed-bracket"),
        pytest.param("[::1]5353", id="no-colon-after-bracket"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_nameserver_names_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match=r"dns\.nameservers"):
        parse_nameserver(text)


@given(st.ip_addresses(), st.integers(min_value=1, max_value=65535))
def test_nameserver_round_trip(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int
) -> None:
    text = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    assert parse_nameserver(text) == (str(address), port)


@given(st.text(max_size=40))
def test_nameserver_parser_never_crashes(text: str) -> None:
    try:
        address, port = parse_nameserver(text)
    except ConfigError:
        return
    assert 0 < port < 65536
    ipaddress.ip_address(address)
