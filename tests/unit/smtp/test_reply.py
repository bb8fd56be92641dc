"""Reply parsing: codes, multi-line replies, enhanced codes, limits, arbitrary chunking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.errors import ProtocolError
from postillon.smtp.reply import (
    MAX_BUFFER_OCTETS,
    MAX_REPLY_LINE_OCTETS,
    MAX_REPLY_LINES,
    MAX_REPLY_OCTETS,
    EnhancedStatus,
    Reply,
    ReplyParser,
)


def parse_all(data: bytes) -> list[Reply]:
    parser = ReplyParser()
    parser.feed(data)
    replies = []
    while (reply := parser.next_reply()) is not None:
        replies.append(reply)
    return replies


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        pytest.param(b"220 mx.test ESMTP\r\n", Reply(220, ("mx.test ESMTP",)), id="single"),
        pytest.param(
            b"250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n",
            Reply(250, ("mx.test", "PIPELINING", "SIZE 100")),
            id="multi-line",
        ),
        pytest.param(
            b"550 5.1.1 no such user\r\n",
            Reply(550, ("5.1.1 no such user",), EnhancedStatus(5, 1, 1)),
            id="enhanced",
        ),
        pytest.param(b"550 no such user\r\n", Reply(550, ("no such user",)), id="no-enhanced"),
        pytest.param(
            b"550 2.1.1 wrong class\r\n", Reply(550, ("2.1.1 wrong class",)), id="class-mismatch"
        ),
        pytest.param(b"250\r\n", Reply(250, ("",)), id="code-only"),
        pytest.param(b"250 ok\n", Reply(250, ("ok",)), id="bare-lf-tolerated"),
        pytest.param(
            b"451-4.7.1 try\r\n451 later\r\n",
            Reply(451, ("4.7.1 try", "later"), EnhancedStatus(4, 7, 1)),
            id="enhanced-multi",
        ),
        pytest.param(
            b"250 2.0.0\r\n", Reply(250, ("2.0.0",), EnhancedStatus(2, 0, 0)), id="enhanced-only"
        ),
    ],
)
def test_parses_reply(wire: bytes, expected: Reply) -> None:
    assert parse_all(wire) == [expected]


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(b"hello\r\n", id="no-code"),
        pytest.param(b"25\r\n", id="short"),
        pytest.param(b"650 no\r\n", id="bad-first-digit"),
        pytest.param(b"250x ok\r\n", id="bad-separator"),
        pytest.param(b"250-a\r\n251 b\r\n", id="code-changes"),
        pytest.param(b"250 " + b"x" * MAX_REPLY_LINE_OCTETS + b"\r\n", id="line-too-long"),
        pytest.param(b"250-x\r\n" * (MAX_REPLY_LINES + 1), id="too-many-lines"),
    ],
)
def test_rejects_malformed_or_oversized(wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_all(wire)


def test_line_without_crlf_fails_once_past_the_line_limit() -> None:
    parser = ReplyParser()
    parser.feed(b"250 " + b"x" * (MAX_REPLY_LINE_OCTETS - 10))
    assert parser.next_reply() is None
    parser.feed(b"x" * 20)
    with pytest.raises(ProtocolError):
        parser.next_reply()


def test_reply_longer_than_total_limit_fails() -> None:
    line = b"250-" + b"x" * 1000 + b"\r\n"
    lines_fitting = MAX_REPLY_OCTETS // len(line)
    parser = ReplyParser()
    parser.feed(line * lines_fitting)
    assert parser.next_reply() is None
    parser.feed(line)
    with pytest.raises(ProtocolError, match="octets"):
        parser.next_reply()


def test_feed_refuses_more_than_the_buffer_limit() -> None:
    parser = ReplyParser()
    with pytest.raises(ProtocolError):
        parser.feed(b"2" * (MAX_BUFFER_OCTETS + 1))


def test_replies_are_parsed_lazily_one_at_a_time() -> None:
    parser = ReplyParser()
    parser.feed(b"250 a\r\n250 b\r\n")
    first = parser.next_reply()
    assert first is not None
    assert first.lines == ("a",)
    assert parser.buffered_octets == len(b"250 b\r\n")


def test_discard_drops_partial_and_buffered_replies() -> None:
    parser = ReplyParser()
    parser.feed(b"250-half\r\n250 injected\r\n")
    assert parser.discard() == len(b"250-half\r\n250 injected\r\n")
    parser.feed(b"220 fresh\r\n")
    assert parser.next_reply() == Reply(220, ("fresh",))


@pytest.mark.parametrize(
    ("code", "positive", "intermediate", "transient", "permanent"),
    [
        pytest.param(250, True, False, False, False, id="2xx"),
        pytest.param(354, False, True, False, False, id="3xx"),
        pytest.param(451, False, False, True, False, id="4xx"),
        pytest.param(550, False, False, False, True, id="5xx"),
    ],
)
def test_reply_classes(
    code: int, positive: bool, intermediate: bool, transient: bool, permanent: bool
) -> None:
    reply = Reply.build(code, "text")
    assert (reply.is_positive, reply.is_intermediate, reply.is_transient, reply.is_permanent) == (
        positive,
        intermediate,
        transient,
        permanent,
    )


def test_reply_str_and_text() -> None:
    reply = Reply.build(550, "5.1.1 no", "such user")
    assert str(reply) == "550 5.1.1 no such user"
    assert reply.enhanced == EnhancedStatus(5, 1, 1)
    assert str(reply.enhanced) == "5.1.1"


_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80).map(
    str.rstrip
)
_reply = st.builds(
    lambda code, lines: Reply.build(code, *lines),
    st.integers(min_value=200, max_value=599),
    st.lists(_text, min_size=1, max_size=8),
)


def _wire(reply: Reply) -> bytes:
    last = len(reply.lines) - 1
    return b"".join(
        f"{reply.code}{' ' if i == last else '-'}{line}\r\n".encode()
        for i, line in enumerate(reply.lines)
    )


@given(st.lists(_reply, min_size=1, max_size=6), st.data())
def test_any_chunking_gives_the_same_replies(replies: list[Reply], data: st.DataObject) -> None:
    wire = b"".join(_wire(r) for r in replies)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    parser = ReplyParser()
    parsed: list[Reply] = []
    start = 0
    for end in [*cuts, len(wire)]:
        parser.feed(wire[start:end])
        start = end
        while (reply := parser.next_reply()) is not None:
            parsed.append(reply)
    assert parsed == replies
    assert parser.buffered_octets == 0


@given(st.binary(max_size=4096))
def test_arbitrary_bytes_parse_or_raise_protocol_error(noise: bytes) -> None:
    parser = ReplyParser()
    parser.feed(noise)
    try:
        while parser.next_reply() is not None:
            pass
    except ProtocolError:
        return
    assert parser.buffered_octets <= MAX_REPLY_LINE_OCTETS
