"""EHLO reply parsing into Extensions."""

from __future__ import annotations

import pytest

from postillon.smtp.extensions import Extension, Extensions, parse_ehlo
from postillon.smtp.reply import Reply


def ehlo(*lines: str) -> Extensions:
    return parse_ehlo(Reply.build(250, "mx.test greets you", *lines))


def test_parses_every_keyword_we_use() -> None:
    ext = ehlo(
        "SIZE 35882577",
        "pipelining",
        "8BITMIME",
        "SMTPUTF8",
        "STARTTLS",
        "ENHANCEDSTATUSCODES",
        "CHUNKING",
    )
    assert ext.server_name == "mx.test"
    assert ext.size_limit == 35882577
    assert ext.has_size
    assert ext.pipelining
    assert ext.eight_bit_mime
    assert ext.smtputf8
    assert ext.starttls
    assert ext.enhanced_status_codes
    assert ext.chunking
    assert ext.has(Extension.PIPELINING)


@pytest.mark.parametrize(
    ("line", "limit"),
    [
        pytest.param("SIZE", None, id="no-number"),
        pytest.param("SIZE 0", None, id="zero-is-no-limit"),
        pytest.param("SIZE lots", None, id="garbage"),
        pytest.param("SIZE 1000", 1000, id="limit"),
    ],
)
def test_size_limit(line: str, limit: int | None) -> None:
    ext = ehlo(line)
    assert ext.has_size
    assert ext.size_limit == limit


def test_absent_keywords_are_false_and_junk_is_skipped() -> None:
    ext = ehlo("", "X-ODD_KEY?", "AUTH PLAIN")
    assert not ext.pipelining
    assert not ext.starttls
    assert ext.size_limit is None
    assert ext.params == {"AUTH": ("PLAIN",)}


def test_helo_session_has_no_extensions() -> None:
    assert not Extensions().pipelining
