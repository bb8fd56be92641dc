"""MX pattern matching (RFC 8461 §4.1): exact names and one-label wildcards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postillon.policy.mx_match import (
    is_valid_host,
    matches_any,
    mx_matches,
    normalize_host,
    parse_mx_pattern,
)


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        pytest.param("*.example.com", "mx.example.com", True, id="wildcard-one-label"),
        pytest.param("*.example.com", "a.mx.example.com", False, id="wildcard-two-labels"),
        pytest.param("*.example.com", "example.com", False, id="wildcard-zero-labels"),
        pytest.param("*.example.com", "mx.example.com.", True, id="host-trailing-dot"),
        pytest.param("*.example.com", "MX.EXAMPLE.COM", True, id="host-upper-case"),
        pytest.param("*.Example.COM.", "mx.example.com", True, id="pattern-case-and-dot"),
        pytest.param("*.example.com", "mx.example.com.evil", False, id="suffix-attack"),
        pytest.param("*.example.com", "mxexample.com", False, id="no-label-boundary"),
        pytest.param("*.example.com", ".example.com", False, id="empty-first-label"),
        pytest.param("mx.example.com", "mx.example.com", True, id="exact"),
        pytest.param("mx.example.com", "MX.Example.Com.", True, id="exact-case-dot"),
        pytest.param("mx.example.com", "mx2.example.com", False, id="exact-other"),
        pytest.param("mx.example.com", "a.mx.example.com", False, id="exact-no-subdomain"),
        pytest.param("mx.example.com", "example.com", False, id="exact-no-parent"),
        pytest.param("example.com", "mx.example.com", False, id="exact-parent-not-wildcard"),
        pytest.param("*.example.com", "*.example.com", False, id="host-with-star-invalid"),
        pytest.param("*.example.com", "m x.example.com", False, id="host-with-space-invalid"),
    ],
)
def test_mx_matches(pattern: str, host: str, expected: bool) -> None:
    assert mx_matches(pattern, host) is expected


def test_matches_any() -> None:
    patterns = ("mx1.example.com", "*.backup.example.net")
    assert matches_any(patterns, "mx1.example.com")
    assert matches_any(patterns, "b1.backup.example.net")
    assert not matches_any(patterns, "mx2.example.com")
    assert not matches_any((), "mx1.example.com")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("mx.example.com", "mx.example.com", id="plain"),
        pytest.param("MX.Example.com.", "mx.example.com", id="normalised"),
        pytest.param("*.example.com", "*.example.com", id="wildcard"),
        pytest.param("*.com", "*.com", id="wildcard-tld"),
        pytest.param("localhost", "localhost", id="single-label"),
        pytest.param("xn--mnchen-3ya.example", "xn--mnchen-3ya.example", id="a-label"),
        pytest.param("*", None, id="star"),
        pytest.param("*.", None, id="star-dot"),
        pytest.param("**.example.com", None, id="double-star"),
        pytest.param("a.*.example.com", None, id="inner-star"),
        pytest.param("", None, id="empty"),
        pytest.param(".", None, id="root"),
        pytest.param("a" * 63 + ".com", "a" * 63 + ".com", id="label-63"),
        pytest.param("a" * 64 + ".com", None, id="label-64"),
        pytest.param(".".join(["a" * 63] * 4), None, id="name-255"),
        pytest.param("mx-.example.com", None, id="trailing-hyphen"),
        pytest.param("mx.example.com/x", None, id="slash"),
    ],
)
def test_parse_mx_pattern(value: str, expected: str | None) -> None:
    assert parse_mx_pattern(value) == expected


def test_normalize_host() -> None:
    assert normalize_host("MX.Example.COM.") == "mx.example.com"
    assert not is_valid_host("mx.example.com.")  # validity is checked after normalising


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_domain = st.lists(_label, min_size=1, max_size=4).map(".".join)


@settings(deadline=None)  # a loaded CI machine must not fail a parser test
@given(label=_label, extra=_label, domain=_domain)
def test_wildcard_matches_exactly_one_extra_label(label: str, extra: str, domain: str) -> None:
    pattern = f"*.{domain}"
    assert mx_matches(pattern, f"{label}.{domain}")
    assert mx_matches(pattern, f"{label}.{domain}.".upper())
    assert not mx_matches(pattern, domain)
    assert not mx_matches(pattern, f"{extra}.{label}.{domain}")


@settings(deadline=None)  # a loaded CI machine must not fail a parser test
@given(host=_domain, other=_domain)
def test_exact_pattern_matches_only_itself(host: str, other: str) -> None:
    assert mx_matches(host, host.upper() + ".")
    assert mx_matches(host, other) is (host == other)
