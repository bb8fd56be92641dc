"""Address parsing: display names, dot-atom and quoted local parts, IDNA, limits, injection."""

from __future__ import annotations

import email
import email.policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.message.address import (
    MAX_ADDR_SPEC_OCTETS,
    Address,
    contains_injection,
    make_address,
    parse_address,
)
from postillon.message.errors import AddressError
from postillon.message.header_text import address_list_tokens, fold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a@b.example", Address("a", "b.example"), id="bare"),
        pytest.param("<a@b.example>", Address("a", "b.example"), id="angle-only"),
        pytest.param(" a@b.example ", Address("a", "b.example"), id="surrounding-space"),
        pytest.param("Jane Doe <j@b.example>", Address("j", "b.example", "Jane Doe"), id="name"),
        pytest.param(
            '"Doe, Jane" <j@b.example>', Address("j", "b.example", "Doe, Jane"), id="quoted-name"
        ),
        pytest.param(
            r'"say \"hi\"" <j@b.example>', Address("j", "b.example", 'say "hi"'), id="escaped-name"
        ),
        pytest.param("Zoë <z@b.example>", Address("z", "b.example", "Zoë"), id="utf8-name"),
        pytest.param("A@B.Example", Address("A", "b.example"), id="domain-lowercased-local-kept"),
        pytest.param("x@Bücher.example", Address("x", "xn--bcher-kva.example"), id="idna-a-label"),
        pytest.param(
            "x@xn--bcher-kva.example", Address("x", "xn--bcher-kva.example"), id="a-label-kept"
        ),
        pytest.param(
            "first.last+tag@b.example", Address("first.last+tag", "b.example"), id="dot-atom"
        ),
        pytest.param(
            "!#$%&'*+-/=?^_`{|}~@b.example",
            Address("!#$%&'*+-/=?^_`{|}~", "b.example"),
            id="all-atext",
        ),
        pytest.param('"a,b"@b.example', Address('"a,b"', "b.example"), id="quoted-local"),
        pytest.param(r'"a\"b"@b.example', Address(r'"a\"b"', "b.example"), id="quoted-pair"),
        pytest.param('"a@b"@c.example', Address('"a@b"', "c.example"), id="at-in-quotes"),
        pytest.param("用户@例子.example", Address("用户", "xn--fsqu00a.example"), id="utf8-local"),
        pytest.param("a" * 64 + "@b.example", Address("a" * 64, "b.example"), id="local-64"),
    ],
)
def test_valid_addresses(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("ab.example", "no '@'", id="no-at"),
        pytest.param("a@b.example\r\nBcc: x@evil.example", "header injection", id="crlf"),
        pytest.param("a@b.example\nBcc: x@evil.example", "header injection", id="lf"),
        pytest.param("a\r@b.example", "header injection", id="cr"),
        pytest.param("a\x00@b.example", "header injection", id="nul"),
        pytest.param("Eve\r\n <a@b.example>", "header injection", id="crlf-in-name"),
        pytest.param("@b.example", "local part is empty", id="empty-local"),
        pytest.param("a@", "domain is empty", id="empty-domain"),
        pytest.param(".a@b.example", "dot-atom", id="leading-dot"),
        pytest.param("a.@b.example", "dot-atom", id="trailing-dot"),
        pytest.param("a..b@b.example", "dot-atom", id="double-dot"),
        pytest.param("a b@b.example", "dot-atom", id="space-in-local"),
        pytest.param("a,b@c.example", "dot-atom", id="comma-in-local"),
        pytest.param("a@b.example, c@d.example", "dot-atom", id="two-addresses"),
        pytest.param('"a"b"@c.example', "quoted-string", id="bad-quoted"),
        pytest.param('"a b"@c.example', r"U\+0020 \(space\)", id="quoted-space"),
        pytest.param(
            '"a\u2028b"@c.example', r"U\+2028 \(line separator\)", id="quoted-line-separator"
        ),
        pytest.param('"a\u0085b"@c.example', r"U\+0085", id="quoted-nel"),
        pytest.param('"a\u202eb"@c.example', "right-to-left override", id="quoted-rlo"),
        pytest.param("a\u202eb@c.example", "right-to-left override", id="dot-atom-rlo"),
        pytest.param("a\u200db@c.example", "zero width joiner", id="dot-atom-zwj"),
        pytest.param('"a\u00a0b"@c.example', "no-break space", id="quoted-nbsp"),
        pytest.param('"a\ue000b"@c.example', r"U\+E000", id="private-use"),
        pytest.param('"a\\"@c.example', "quoted-string", id="quoted-ends-in-escape"),
        pytest.param("a" * 65 + "@b.example", "64 octets", id="local-65"),
        pytest.param("é" * 33 + "@b.example", "64 octets", id="local-66-octets-utf8"),
        pytest.param("a@localhost", "two labels", id="single-label"),
        pytest.param("a@[192.0.2.1]", "address literals", id="literal"),
        pytest.param("a@192.0.2.1", "numeric", id="ip-as-domain"),
        pytest.param("a@b_c.example", "label", id="underscore"),
        pytest.param("a@-b.example", "label", id="leading-hyphen"),
        pytest.param("a@b..example", "label", id="empty-label"),
        pytest.param("a@" + "b" * 64 + ".example", "label", id="label-64"),
        pytest.param("a@" + "b." * 127 + "example", "255 octets", id="domain-over-255"),
        pytest.param("a" * 60 + "@" + "b" * 60 + ".c" * 66 + ".example", "256", id="path-257"),
        pytest.param("a@xn--zz.example", "A-label", id="bogus-a-label"),
        pytest.param("a@\u2615\u200d.example", "internationalized", id="bad-idna"),
        pytest.param("Eve <a@b.example", "'<' without", id="unclosed"),
        pytest.param("Eve a@b.example>", "'>' without", id="unopened"),
        pytest.param("E<v>e <a@b.example>", "must be quoted", id="bracket-in-name"),
        pytest.param('"Eve <a@b.example>', "must be quoted", id="half-quoted-name"),
        pytest.param("Ev\x07e <a@b.example>", "control", id="bell-in-name"),
        pytest.param("Ev\u2028e <a@b.example>", "control", id="line-separator-in-name"),
        pytest.param("\ud800 <a@b.example>", "Unicode", id="surrogate-in-name"),
        pytest.param("a\ud800@b.example", "Unicode", id="surrogate-in-local"),
    ],
)
def test_invalid_addresses(text: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason):
        parse_address(text)


def test_smtputf8_only_for_utf8_local_part() -> None:
    assert parse_address("用户@b.example").needs_smtputf8
    assert not parse_address("user@例子.example").needs_smtputf8
    assert not parse_address("Zoë <z@b.example>").needs_smtputf8


def test_structured_input_strips_blank_name() -> None:
    assert make_address("a@b.example", "  ") == Address("a", "b.example")


def test_address_errors_are_permanent() -> None:
    with pytest.raises(AddressError) as caught:
        parse_address("nope")
    assert not caught.value.is_transient


@given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=80))
def test_parser_accepts_or_says_why(text: str) -> None:
    try:
        address = parse_address(text)
    except AddressError:
        return  # the only error the parser may raise
    assert not contains_injection(address.addr_spec)
    assert len(address.addr_spec.encode()) <= MAX_ADDR_SPEC_OCTETS


@given(
    local=st.from_regex(
        r"[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[a-z0-9_-]{1,10}){0,2}", fullmatch=True
    ),
    domain=st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,6}){1,3}", fullmatch=True),
    name=st.text(st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), max_size=40),
)
def test_formatted_mailbox_parses_back(local: str, domain: str, name: str) -> None:
    address = make_address(f"{local}@{domain}", name)
    header = fold("To", address_list_tokens([address]))
    parsed = email.message_from_bytes(header.encode() + b"\r\n", policy=email.policy.default)
    [mailbox] = parsed["To"].addresses
    assert mailbox.addr_spec == address.addr_spec
    if len((address.display_name or "").encode()) <= 45:  # one encoded word at most
        assert mailbox.display_name == (address.display_name or "")
