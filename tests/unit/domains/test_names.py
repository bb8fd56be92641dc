"""Domain normalisation, the return-path subdomain and VERP bounce addresses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.domains import (
    InvalidDomainError,
    bounce_address,
    normalize_domain,
    parse_bounce_address,
    return_path_domain,
)
from postillon.domains.names import MAX_DOMAIN_OCTETS, MAX_LOCAL_PART_OCTETS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("example.com", "example.com", id="plain"),
        pytest.param(" Mail.Example.COM. ", "mail.example.com", id="case-dot-space"),
        pytest.param("bücher.example", "xn--bcher-kva.example", id="idna"),
        pytest.param("xn--bcher-kva.example", "xn--bcher-kva.example", id="a-label"),
        pytest.param("a-b.c1.example", "a-b.c1.example", id="hyphen-digit"),
    ],
)
def test_normalize_domain(name: str, expected: str) -> None:
    assert normalize_domain(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param(".", id="root"),
        pytest.param("localhost", id="single-label"),
        pytest.param("192.0.2.1", id="ipv4"),
        pytest.param("2001:db8::1", id="ipv6"),
        pytest.param("-bad.example", id="leading-hyphen"),
        pytest.param("bad-.example", id="trailing-hyphen"),
        pytest.param("a..example", id="empty-label"),
        pytest.param("under_score.example", id="underscore"),
        pytest.param("semi;colon.example", id="semicolon"),
        pytest.param("a\r\nb.example", id="crlf"),
        pytest.param("x" * 64 + ".example", id="label-too-long"),
        pytest.param(".".join(["abcdefghi"] * 22) + ".example", id="name-too-long"),
    ],
)
def test_normalize_domain_refuses(name: str) -> None:
    with pytest.raises(InvalidDomainError) as raised:
        normalize_domain(name)
    assert not raised.value.is_transient


def test_longest_domain_still_fits_every_derived_name() -> None:
    head = ".".join(["a" * 63, "b" * 63, "c" * 63])
    domain = f"{head}.{'d' * (MAX_DOMAIN_OCTETS - len(head) - len('..example'))}.example"
    assert len(normalize_domain(domain)) == MAX_DOMAIN_OCTETS
    assert len(f"pst20261129-k3x9qdma._domainkey.{domain}") <= 253
    with pytest.raises(InvalidDomainError):
        normalize_domain("d" + domain)


def test_return_path_domain() -> None:
    assert return_path_domain("Example.COM.") == "pstbounces.example.com"


def test_bounce_address() -> None:
    assert bounce_address("Example.com", "msg_01J.x-9") == (
        "bounces+msg_01J.x-9@pstbounces.example.com"
    )


@pytest.mark.parametrize(
    "message_id",
    [
        pytest.param("", id="empty"),
        pytest.param("a+b", id="plus"),
        pytest.param("a@b", id="at"),
        pytest.param("a b", id="space"),
        pytest.param(".a", id="leading-dot"),
        pytest.param("a.", id="trailing-dot"),
        pytest.param("a..b", id="double-dot"),
        pytest.param("a\r\nRCPT", id="crlf"),
        pytest.param("x" * (MAX_LOCAL_PART_OCTETS - len("bounces+") + 1), id="too-long"),
    ],
)
def test_bounce_address_refuses_ids_that_are_no_local_part(message_id: str) -> None:
    with pytest.raises(InvalidDomainError):
        bounce_address("example.com", message_id)


_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_-]{1,10})?", fullmatch=True)


@given(message_id=_IDS)
def test_bounce_address_reads_back(message_id: str) -> None:
    address = bounce_address("shop.example", message_id)
    assert len(address.partition("@")[0]) <= MAX_LOCAL_PART_OCTETS
    assert parse_bounce_address(address) == ("shop.example", message_id)
    assert parse_bounce_address(f"<{address.upper()}>") == ("shop.example", message_id.upper())


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("alice@shop.example", id="not-verp"),
        pytest.param("bounces+m1@shop.example", id="not-return-path"),
        pytest.param("bounces+m1@pstbounces.localhost", id="single-label-domain"),
        pytest.param("bounces+@pstbounces.shop.example", id="empty-id"),
        pytest.param("bounces+m1", id="no-domain"),
    ],
)
def test_parse_bounce_address_rejects_others(address: str) -> None:
    assert parse_bounce_address(address) is None
