"""The DATA reader: end of data only at CRLF.CRLF, unstuffing, size, leftovers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from postillon.smtp.data import decode_data, encode_data
from postillon.smtp.data_reader import DataReader


def test_leftover_after_the_end_is_returned() -> None:
    result = DataReader(100).feed(b"a\r\n.\r\nQUIT\r\n")
    assert result is not None
    assert result.body == b"a\r\n"
    assert result.leftover == b"QUIT\r\n"
    assert result.octets == 6


def test_over_size_is_dropped_but_the_end_is_still_found() -> None:
    reader = DataReader(10)
    assert reader.feed(b"0123456789abc") is None
    assert reader.is_too_big
    assert reader.feed(b"def\r") is None
    result = reader.feed(b"\n.\r\nNOOP\r\n")
    assert result is not None
    assert result.body is None
    assert result.leftover == b"NOOP\r\n"


@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=40), max_size=10))
def test_our_client_encoding_round_trips(body: bytes, cuts: list[int]) -> None:
    # What our client (smtp.data) sends, read back in arbitrary pieces, is the CRLF-normalised
    # body: the two ends agree on dot-stuffing and on the terminator.
    wire = encode_data(body)
    reader = DataReader(10_000)
    position, result = 0, None
    for cut in [*cuts, len(wire)]:
        piece = wire[position : position + cut]
        position += len(piece)
        result = reader.feed(piece) or result
        if result is not None:
            break
    assert result is not None
    assert result.body == decode_data(wire)
    assert result.leftover == b""
