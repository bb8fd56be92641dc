"""Body encodings: the 7bit / quoted-printable rule, QP details, base64 lines."""

from __future__ import annotations

import base64
import quopri

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.message.transfer import (
    TransferEncoding,
    encode_base64,
    encode_text,
    normalize_newlines,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a\rb", "a\r\nb", id="lone-cr"),
        pytest.param("a\nb", "a\r\nb", id="lone-lf"),
        pytest.param("a\r\nb", "a\r\nb", id="crlf-kept"),
        pytest.param("a\n\rb", "a\r\n\r\nb", id="lf-cr-is-two"),
        pytest.param("a\r\r\nb", "a\r\n\r\nb", id="cr-crlf"),
    ],
)
def test_normalize_newlines(text: str, expected: str) -> None:
    assert normalize_newlines(text) == expected


def test_ascii_short_lines_stay_7bit() -> None:
    assert encode_text("a=b \t\nline") == (TransferEncoding.SEVEN_BIT, b"a=b \t\r\nline")


def test_quoted_printable_soft_breaks_never_split_an_escape() -> None:
    _, data = encode_text("é" * 100)
    lines = data.split(b"\r\n")
    assert all(len(line) <= 76 and line.endswith(b"=") for line in lines[:-1])
    assert b"".join(line.removesuffix(b"=") for line in lines) == b"=C3=A9" * 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("trailing space \nx", b"trailing space=20\r\nx", id="space-at-line-end"),
        pytest.param("tab\t", b"tab=09", id="tab-at-end"),
        pytest.param("a=b", b"a=3Db", id="equals"),
        pytest.param("ü", b"=C3=BC", id="utf8"),
        pytest.param("\x00", b"=00", id="nul"),
    ],
)
def test_quoted_printable_details(text: str, expected: bytes) -> None:
    encoding, data = encode_text("é\n" + text)  # the é makes it quoted-printable
    assert encoding is TransferEncoding.QUOTED_PRINTABLE
    assert data == b"=C3=A9\r\n" + expected


@given(st.text(st.characters(blacklist_categories=["Cs"])))
def test_quoted_printable_lines_and_round_trip(text: str) -> None:
    encoding, data = encode_text(text + "é")  # force quoted-printable
    assert encoding is TransferEncoding.QUOTED_PRINTABLE
    assert all(len(line) <= 76 for line in data.split(b"\r\n"))
    assert quopri.decodestring(data).replace(b"\r\n", b"\n") == normalize_newlines(
        text + "é"
    ).replace("\r\n", "\n").encode("utf-8")


@given(st.binary(max_size=2000))
def test_base64_lines(data: bytes) -> None:
    encoded = encode_base64(data)
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
    assert base64.b64decode(encoded.replace(b"\r\n", b"")) == data
