"""The header section of a message, split into fields as DKIM sees them (RFC 5322 §2.2).

Owns splitting message bytes into header fields (raw bytes kept, folding included) and the
body, and the line-length check. Does not canonicalize or hash (see
:mod:`postillon.dkim.canonical`), and never rewrites a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from postillon.dkim.errors import LineTooLongError, MalformedMessageError

CRLF = b"\r\n"
# RFC 5322 §2.2: a field name is printable US-ASCII except the colon.
_FIELD_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+")
# RFC 5322 §2.1.1: a line is at most 998 octets, excluding its CRLF. Longer lines are rewrapped
# by some relays, which breaks the signature, so the signer refuses them rather than sign bytes
# that will not arrive as signed.
MAX_LINE_OCTETS = 998


@dataclass(frozen=True)
class HeaderField:
    """One header field: its name as written, and the raw bytes from the name to the CRLF."""

    name: bytes
    raw: bytes

    @property
    def key(self) -> bytes:
        """The name lowercased, for case-insensitive matching (RFC 5322 §1.2.2)."""
        return self.name.lower()

    @property
    def value(self) -> bytes:
        """Everything after the colon up to the final CRLF, folding included."""
        return self.raw[self.raw.index(b":") + 1 : -2]


@dataclass(frozen=True)
class ParsedMessage:
    """A message split into its header fields (in order) and its body."""

    fields: tuple[HeaderField, ...]
    body: bytes


def check_line_lengths(message: bytes) -> None:
    """Raise :class:`LineTooLongError` if a line of CRLF-normalised ``message`` exceeds 998
    octets."""
    if len(message) <= MAX_LINE_OCTETS:
        return
    lines = message.split(CRLF)  # one C-level pass; a regex scan was 50x slower
    if max(map(len, lines)) <= MAX_LINE_OCTETS:
        return
    offset = 0
    for line in lines:
        if len(line) > MAX_LINE_OCTETS:
            raise LineTooLongError(
                f"line at offset {offset} is {len(line)} octets; "
                f"RFC 5322 §2.1.1 allows {MAX_LINE_OCTETS}"
            )
        offset += len(line) + 2


def split_message(message: bytes) -> ParsedMessage:
    """Split CRLF-normalised ``message`` into header fields and body.

    The header section ends at the first empty line; a message without one is all header.
    Raises :class:`MalformedMessageError` for a header line without a colon, a field name
    with characters RFC 5322 §2.2 forbids, or a continuation line with nothing to continue.
    """
    if message.startswith(CRLF):
        return ParsedMessage((), message[2:])
    head, sep, body = message.partition(CRLF + CRLF)
    lines = (head + CRLF).split(CRLF)[:-1] if sep else _header_only_lines(message)
    fields: list[HeaderField] = []
    current: list[bytes] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not current:
                raise MalformedMessageError("the header section starts with a continuation line")
            current.append(line)
            continue
        if current:
            fields.append(_field(current))
        current = [line]
    if current:
        fields.append(_field(current))
    return ParsedMessage(tuple(fields), body)


def _header_only_lines(message: bytes) -> list[bytes]:
    lines = message.split(CRLF)
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _field(lines: list[bytes]) -> HeaderField:
    raw = CRLF.join(lines) + CRLF
    name, colon, _ = lines[0].partition(b":")
    name = name.rstrip(b" \t")  # RFC 5322 §4.5 obsolete syntax allows WSP before the colon
    if not colon or not _FIELD_NAME.fullmatch(name):
        shown = lines[0][:60].decode("ascii", "replace")
        raise MalformedMessageError(f"not a header field: {shown!r}")
    return HeaderField(name, raw)
