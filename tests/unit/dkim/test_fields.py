"""Splitting a message into header fields and body, and the 998-octet line limit."""

from __future__ import annotations

import pytest

from postillon.dkim.errors import LineTooLongError, MalformedMessageError
from postillon.dkim.fields import MAX_LINE_OCTETS, check_line_lengths, split_message


@pytest.mark.parametrize(
    ("message", "names", "body"),
    [
        pytest.param(b"A: 1\r\nB: 2\r\n\r\nbody\r\n", [b"A", b"B"], b"body\r\n", id="plain"),
        pytest.param(b"A: 1\r\n folded\r\n\tmore\r\n\r\n", [b"A"], b"", id="folded"),
        pytest.param(b"A: 1\r\nB: 2\r\n", [b"A", b"B"], b"", id="header-only"),
        pytest.param(b"A: 1", [b"A"], b"", id="header-only-no-crlf"),
        pytest.param(b"\r\nbody\r\n", [], b"body\r\n", id="no-header"),
        pytest.param(
            b"A: 1\r\n\r\n\r\nX: not a header\r\n",
            [b"A"],
            b"\r\nX: not a header\r\n",
            id="body-with-colon",
        ),
        pytest.param(b"A : 1\r\n\r\n", [b"A"], b"", id="wsp-before-colon"),
    ],
)
def test_split(message: bytes, names: list[bytes], body: bytes) -> None:
    parsed = split_message(message)
    assert [f.name for f in parsed.fields] == names
    assert parsed.body == body
    assert b"".join(f.raw for f in parsed.fields) == message[: len(message) - len(body)].rstrip(
        b"\r\n"
    ) + (b"\r\n" if parsed.fields else b"")


def test_field_value_keeps_folding_without_final_crlf() -> None:
    [field] = split_message(b"Subject: a\r\n b\r\n\r\n").fields
    assert field.key == b"subject"
    assert field.value == b" a\r\n b"


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(b"no colon here\r\n\r\n", id="no-colon"),
        pytest.param(b": empty name\r\n\r\n", id="empty-name"),
        pytest.param(b"Bad Name: x\r\n\r\n", id="space-in-name"),
        pytest.param(b" A: 1\r\n\r\n", id="continuation-first"),
    ],
)
def test_malformed(message: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        split_message(message)


def test_line_limit_is_998_octets_and_names_the_line() -> None:
    ok = b"a\r\n" + b"x" * MAX_LINE_OCTETS + b"\r\nend"
    check_line_lengths(ok)
    check_line_lengths(b"x" * MAX_LINE_OCTETS)
    with pytest.raises(LineTooLongError, match="offset 3 is 999 octets"):
        check_line_lengths(b"a\r\n" + b"x" * 999 + b"\r\nend")
    with pytest.raises(LineTooLongError, match="offset 0 is 999 octets"):
        check_line_lengths(b"x" * 999)
