"""Shared helpers for message tests: wire-safety checks, parsing back, a predictable random."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
from collections.abc import Callable
from email.header import decode_header, make_header
from email.message import EmailMessage, MIMEPart
from email.utils import parseaddr

from postillon.clock import FakeClock
from postillon.message.compose import ComposedMessage, compose
from postillon.message.model import OutgoingEmail
from postillon.message.validate import validate

LIMIT = 1_000_000
_BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def counting_random() -> Callable[[int], bytes]:
    """Random bytes that are different on every call and the same in every run."""
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def build(message: OutgoingEmail, limit: int = LIMIT) -> ComposedMessage:
    return compose(
        validate(message, max_message_bytes=limit),
        message_id_domain="mta.postillon.example",
        clock=FakeClock(),
        max_message_bytes=limit,
        random_bytes=counting_random(),
    )


def assert_wire_safe(data: bytes) -> None:
    """CRLF line ends only, every line at most 998 octets, a final CRLF."""
    assert _BARE.search(data) is None, "bare CR or LF"
    assert data.endswith(b"\r\n")
    longest = max(len(line) for line in data.split(b"\r\n"))
    assert longest <= 998, f"line of {longest} octets"


def parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert not parsed.defects
    return parsed


def content(part: MIMEPart) -> str:
    """A text part's content with line ends as the user wrote them (LF)."""
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def header_names(data: bytes) -> list[str]:
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if not line.startswith(" ")]


def display_name(data: bytes, field: str) -> str:
    """The first display name of ``field`` decoded by RFC 2047 §6.2, whitespace between
    adjacent encoded words dropped. (email.headerregistry keeps a space there, so it is not
    the oracle for long non-ASCII names.)"""
    parsed = email.message_from_bytes(data, policy=email.policy.compat32)
    raw = str(parsed[field]).replace("\r\n", "")
    name, _ = parseaddr(raw)
    return str(make_header(decode_header(name)))
