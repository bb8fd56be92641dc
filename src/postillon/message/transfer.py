"""Body encodings: newline normalisation and the Content-Transfer-Encoding rule.

Owns how a body becomes 7-bit-safe, CRLF-terminated lines. The rule (RFC 2045 §6):

* text bodies are UTF-8 with every CR, LF and CRLF turned into CRLF (no bare CR or LF ever
  leaves postillon); they go ``7bit`` when every octet is ASCII without NUL and every line is
  at most 998 octets (RFC 5322 §2.1.1), otherwise ``quoted-printable`` (lines of 76);
* attachments always go ``base64`` (lines of 76), whatever their type.

So no body ever needs 8BITMIME, and DKIM signatures survive relays that rewrap long lines.
Must not build MIME structure (see :mod:`postillon.message.compose`).
"""

from __future__ import annotations

import base64
import enum
import re

from postillon.message.header_text import MAX_LINE_OCTETS

CRLF = b"\r\n"
# RFC 2045 §6.7 rule 5 and §6.8: encoded lines are at most 76 characters.
MAX_ENCODED_LINE = 76
# Base64 of 57 octets is exactly 76 characters.
_B64_OCTETS_PER_LINE = 57

_NEWLINES = re.compile(r"\r\n|\r|\n")
# RFC 2045 §6.7 rule 2: printable ASCII except "=" stands for itself.
_QP_LITERAL = frozenset(range(33, 127)) - {ord("=")}
_QP_SPACE = frozenset({ord(" "), ord("\t")})


class TransferEncoding(enum.Enum):
    """The Content-Transfer-Encoding values postillon writes (RFC 2045 §6.1)."""

    SEVEN_BIT = "7bit"
    QUOTED_PRINTABLE = "quoted-printable"
    BASE64 = "base64"


def normalize_newlines(text: str) -> str:
    """``text`` with every CRLF, lone CR and lone LF turned into CRLF."""
    return _NEWLINES.sub("\r\n", text)


def encode_text(text: str) -> tuple[TransferEncoding, bytes]:
    """A text body as (encoding, CRLF-terminated octets) by the rule in the module docstring."""
    data = normalize_newlines(text).encode("utf-8")
    lines = data.split(CRLF)
    if data.isascii() and b"\x00" not in data and all(len(x) <= MAX_LINE_OCTETS for x in lines):
        return TransferEncoding.SEVEN_BIT, data
    return TransferEncoding.QUOTED_PRINTABLE, CRLF.join(_qp_line(line) for line in lines)


def encode_base64(data: bytes) -> bytes:
    """``data`` as base64 in 76-character CRLF-separated lines (RFC 2045 §6.8)."""
    return CRLF.join(
        base64.b64encode(data[i : i + _B64_OCTETS_PER_LINE])
        for i in range(0, len(data), _B64_OCTETS_PER_LINE)
    )


def _qp_line(line: bytes) -> bytes:
    """One line quoted-printable encoded, soft-broken to 76 characters (RFC 2045 §6.7)."""
    pieces: list[bytes] = []
    last = len(line) - 1
    for index, octet in enumerate(line):
        # Rule 3: a space or tab ending a line is encoded, or a relay could strip it.
        literal = octet in _QP_LITERAL or (octet in _QP_SPACE and index != last)
        pieces.append(bytes((octet,)) if literal else b"=%02X" % octet)
    out: list[bytes] = []
    current = b""
    for piece in pieces:
        # Rule 5: leave room for the "=" of a soft line break.
        if len(current) + len(piece) > MAX_ENCODED_LINE - 1:
            out.append(current + b"=")
            current = b""
        current += piece
    out.append(current)
    return CRLF.join(out)
