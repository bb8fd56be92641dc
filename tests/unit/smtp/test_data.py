"""DATA encoding: CRLF normalisation, dot-stuffing, terminator, streaming, size and 8-bit checks."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.smtp.data import (
    DataEncoder,
    decode_data,
    encode_chunks,
    encode_data,
    header_section,
    is_8bit,
    needs_smtputf8,
    normalise_line_ends,
    wire_size,
)

# Line-ish bytes: heavy on CR, LF and dots so the interesting cases come up often.
_messages = st.lists(
    st.sampled_from([b"\r", b"\n", b"\r\n", b".", b"..", b"a", b"\xc3\xa9", b" ", b"\x00"]),
    max_size=60,
).map(b"".join) | st.binary(max_size=300)

_BARE_CR_OR_LF = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def expected_message(message: bytes) -> bytes:
    text = normalise_line_ends(message)
    if text and not text.endswith(b"\r\n"):
        text += b"\r\n"
    return text


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        pytest.param(b"", b".\r\n", id="empty"),
        pytest.param(b"a\r\n", b"a\r\n.\r\n", id="plain"),
        pytest.param(b"a", b"a\r\n.\r\n", id="no-final-crlf"),
        pytest.param(b".\r\n", b"..\r\n.\r\n", id="lone-dot-line"),
        pytest.param(b"a\r\n.b\r\n", b"a\r\n..b\r\n.\r\n", id="leading-dot"),
        pytest.param(b"a\n.\nb", b"a\r\n..\r\nb\r\n.\r\n", id="bare-lf-smuggling"),
        pytest.param(b"a\r.\rb", b"a\r\n..\r\nb\r\n.\r\n", id="bare-cr-smuggling"),
        pytest.param(b"a\r\n.\r", b"a\r\n..\r\n.\r\n", id="trailing-cr"),
    ],
)
def test_encodes(message: bytes, wire: bytes) -> None:
    assert encode_data(message) == wire


@given(_messages)
def test_no_bare_cr_or_lf_ever_reaches_the_wire(message: bytes) -> None:
    wire = encode_data(message)
    assert _BARE_CR_OR_LF.search(wire) is None
    assert wire.endswith(b".\r\n")
    # The terminator appears only at the end.
    assert b"\r\n.\r\n" not in wire[:-3]


@given(_messages)
def test_round_trip_gives_the_normalised_message(message: bytes) -> None:
    assert decode_data(encode_data(message)) == expected_message(message)


@given(_messages, st.data())
def test_chunked_encoding_equals_whole_encoding(message: bytes, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(message)), max_size=8)))
    encoder = DataEncoder()
    out = b""
    start = 0
    for end in [*cuts, len(message)]:
        out += encoder.encode(message[start:end])
        start = end
    out += encoder.finish()
    assert out == encode_data(message)


@given(_messages, st.integers(min_value=1, max_value=7))
def test_encode_chunks_matches_at_any_chunk_size(message: bytes, size: int) -> None:
    assert b"".join(encode_chunks(message, size)) == encode_data(message)


@given(_messages)
def test_wire_size_counts_normalised_octets(message: bytes) -> None:
    assert wire_size(message) == len(expected_message(message))


def test_encoder_refuses_use_after_finish() -> None:
    encoder = DataEncoder()
    encoder.finish()
    with pytest.raises(ValueError, match="after finish"):
        encoder.encode(b"x")
    with pytest.raises(ValueError, match="twice"):
        encoder.finish()


def test_decode_rejects_unterminated_payload() -> None:
    with pytest.raises(ValueError, match="CRLF"):
        decode_data(b"abc\r\n")


@pytest.mark.parametrize(
    ("message", "eight_bit"),
    [
        pytest.param(b"plain ascii\r\n", False, id="ascii"),
        pytest.param("café\r\n".encode(), True, id="utf8"),
        pytest.param(b"\xff", True, id="latin"),
    ],
)
def test_is_8bit(message: bytes, eight_bit: bool) -> None:
    assert is_8bit(message) is eight_bit


@pytest.mark.parametrize(
    ("mail_from", "rcpt", "message", "needed"),
    [
        pytest.param("a@b.test", "c@d.test", b"Subject: x\r\n\r\nbody", False, id="ascii"),
        pytest.param("a@b.test", "c@d.test", "S: x\r\n\r\nbödy".encode(), False, id="8bit-body"),
        pytest.param("a@b.test", "c@d.test", "Subject: é\r\n\r\nx".encode(), True, id="header"),
        pytest.param("ä@b.test", "c@d.test", b"S: x\r\n\r\n", True, id="utf8-sender"),
        pytest.param("a@b.test", "c@dö.test", b"S: x\r\n\r\n", True, id="utf8-rcpt"),
    ],
)
def test_needs_smtputf8(mail_from: str, rcpt: str, message: bytes, needed: bool) -> None:
    assert needs_smtputf8(mail_from, (rcpt,), message) is needed


def test_header_section_stops_at_first_empty_line() -> None:
    assert header_section(b"A: 1\nB: 2\n\nbody\n\nmore") == b"A: 1\nB: 2"
    assert header_section(b"A: 1") == b"A: 1"
