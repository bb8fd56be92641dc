"""The DATA payload on the wire: CRLF normalisation, dot-stuffing, the terminator; 8-bit checks.

Owns the transformation of a message into the bytes sent after ``354`` (RFC 5321 §4.5.2 and
§4.1.1.4), streaming chunk by chunk: every bare CR and bare LF becomes CRLF, a line starting
with "." gets a second ".", and ``CRLF . CRLF`` ends the data. No bare CR or LF ever reaches the
wire, whatever the input (SMTP smuggling, CVE-2023-51764 class). Also the size a server will
count (RFC 1870) and whether a message needs 8BITMIME or SMTPUTF8. Must not do I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Any line end a message may carry: CRLF first so it is not read as CR then LF.
_LINE_END = re.compile(rb"\r\n|\r|\n")
CRLF = b"\r\n"
TERMINATOR = b".\r\n"
# How much of the message one encoded chunk covers: big enough for few writes, small enough
# that the copy made per chunk stays modest.
DEFAULT_CHUNK_OCTETS = 64 * 1024


def normalise_line_ends(data: bytes) -> bytes:
    """``data`` with every CRLF, bare CR and bare LF turned into CRLF."""
    return _LINE_END.sub(CRLF, data)


class DataEncoder:
    """Streaming encoder: ``encode`` each chunk of the message, then ``finish`` once.

    Chunk boundaries may fall anywhere (between CR and LF, before a leading dot); the output
    is the same as encoding the whole message at once.
    """

    def __init__(self) -> None:
        self._at_line_start = True
        self._pending_cr = False
        self._finished = False

    def encode(self, chunk: bytes) -> bytes:
        """The wire bytes for ``chunk`` (a trailing CR is held back until the next chunk)."""
        if self._finished:
            raise ValueError("encode() after finish()")
        if self._pending_cr:
            chunk = b"\r" + chunk
            self._pending_cr = False
        if chunk.endswith(b"\r"):
            # It may be the first half of a CRLF split across chunks.
            chunk = chunk[:-1]
            self._pending_cr = True
        if not chunk:
            return b""
        text = normalise_line_ends(chunk)
        # §4.5.2: a line that starts with "." is sent with one more "." in front.
        text = text.replace(b"\r\n.", b"\r\n..")
        if self._at_line_start and text.startswith(b"."):
            text = b"." + text
        self._at_line_start = text.endswith(CRLF)
        return text

    def finish(self) -> bytes:
        """The end of the data: a CRLF if the message did not end a line, then ``.`` CRLF."""
        if self._finished:
            raise ValueError("finish() called twice")
        self._finished = True
        tail = b""
        if self._pending_cr:
            tail = CRLF
            self._pending_cr = False
            self._at_line_start = True
        if not self._at_line_start:
            tail += CRLF
        return tail + TERMINATOR


def encode_chunks(message: bytes, chunk_octets: int = DEFAULT_CHUNK_OCTETS) -> Iterator[bytes]:
    """The DATA payload of ``message`` in pieces, terminator included (no empty pieces).

    The terminator rides with the last piece, so a small message is a single write.
    """
    encoder = DataEncoder()
    view = memoryview(message)
    pending = b""
    for start in range(0, len(message), chunk_octets):
        piece = encoder.encode(bytes(view[start : start + chunk_octets]))
        if piece:
            if pending:
                yield pending
            pending = piece
    yield pending + encoder.finish()


def encode_data(message: bytes) -> bytes:
    """The whole DATA payload of ``message`` at once (normalised, dot-stuffed, terminated)."""
    return b"".join(encode_chunks(message))


def decode_data(payload: bytes) -> bytes:
    """The message a receiver reads from ``payload``: terminator removed, dots unstuffed.

    Raises ValueError if ``payload`` does not end with the terminator. The inverse of
    :func:`encode_data` up to line-end normalisation (and a final CRLF added when missing).
    """
    if payload == TERMINATOR:
        return b""
    if not payload.endswith(CRLF + TERMINATOR):
        raise ValueError("payload does not end with CRLF . CRLF")
    body = payload[: -len(TERMINATOR)]
    lines = body.split(CRLF)
    return CRLF.join(line[1:] if line.startswith(b".") else line for line in lines)


def wire_size(message: bytes) -> int:
    """The message's size once line ends are CRLF, as RFC 1870 §4 counts it (no dot-stuffing).

    Counted without copying: each bare CR or bare LF grows by one octet.
    """
    crlf = message.count(CRLF)
    bare = message.count(b"\r") - crlf + message.count(b"\n") - crlf
    trailing = 0 if not message or message.endswith((b"\r", b"\n")) else len(CRLF)
    return len(message) + bare + trailing


def is_8bit(message: bytes) -> bool:
    """Whether any octet has the high bit set (needs BODY=8BITMIME, RFC 6152)."""
    return not message.isascii()


def header_section(message: bytes) -> bytes:
    """The header section: everything before the first empty line (the whole message if none)."""
    match = re.search(rb"(?:\r\n|\r|\n)(?:\r\n|\r|\n)", message)
    return message if match is None else message[: match.start()]


def needs_smtputf8(mail_from: str, rcpt_tos: tuple[str, ...], message: bytes) -> bool:
    """Whether the transaction needs SMTPUTF8 (RFC 6531 §3.4): a UTF-8 address or header."""
    if not mail_from.isascii() or not all(rcpt.isascii() for rcpt in rcpt_tos):
        return True
    return not header_section(message).isascii()
