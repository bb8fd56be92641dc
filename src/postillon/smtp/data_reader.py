"""Reading a DATA body on the server side: end of data, dot-unstuffing, the size limit.

Owns finding the end of the mail data and undoing the client's dot-stuffing (RFC 5321
§4.1.1.4, §4.5.2). SECURITY: only ``<CRLF>.<CRLF>`` ends the data; a bare LF or bare CR next
to a dot (``\\n.\\r\\n``, ``\\r.\\r\\n``, ``\\n.\\n`` ...) is message content, kept literally, so
commands hidden behind such a sequence are never run as a second transaction (SMTP smuggling,
CVE-2023-51766 and friends). Unstuffing removes the "." that starts a line after CRLF and
also after a bare LF: clients that send bare LF (Python's smtplib, many PHP mailers) stuff
those lines too, and a lone "." after a bare LF then stays content without its dot. A body
past ``max_octets`` is read to its end and dropped, never held. Must not do I/O or change
line endings (the door decides about those).
"""

from __future__ import annotations

from dataclasses import dataclass

_END = b"\r\n.\r\n"
# The body is searched as if preceded by CRLF, so a "." line first in the body is found too.
_START = b"\r\n"
# How far back to search when new bytes arrive: an end marker may straddle two reads.
_OVERLAP = len(_END) - 1


@dataclass(frozen=True)
class DataResult:
    """The end of the data was read: ``body`` is the unstuffed content (None when it exceeded
    the limit), ``octets`` what the client sent, ``leftover`` bytes that followed the end."""

    body: bytes | None
    octets: int
    leftover: bytes


class DataReader:
    """Collects one DATA body; ``feed`` returns a :class:`DataResult` once the end arrives."""

    def __init__(self, max_octets: int) -> None:
        self._max = max_octets
        self._buffer = bytearray(_START)
        self._scanned = 0  # the buffer holds no end marker starting before this index
        self._stuffed = 0  # dot-stuffed line starts counted in the buffer before _scanned
        self._received = 0
        self._too_big = False

    @property
    def is_too_big(self) -> bool:
        """Whether the body has already grown past the limit."""
        return self._too_big

    def feed(self, data: bytes) -> DataResult | None:
        """Take ``data``; the result once ``<CRLF>.<CRLF>`` has been read, else None."""
        self._buffer += data
        self._received += len(data)
        end = self._buffer.find(_END, self._scanned)
        if end < 0:
            scanned = max(0, len(self._buffer) - _OVERLAP)
            self._stuffed += self._buffer.count(b"\n.", self._scanned, scanned + 1)
            self._scanned = scanned
            self._check_size()
            return None
        # The CRLF before the dot ends the last line of the message (§4.1.1.4).
        raw = self._buffer[: end + 2]
        leftover = bytes(self._buffer[end + len(_END) :])
        octets = self._received - len(leftover)
        self._buffer = bytearray()
        if self._too_big:
            return DataResult(None, octets, leftover)
        # §4.5.2: a line starting with "." has that first "." removed.
        body = bytes(raw).replace(b"\n.", b"\n")[len(_START) :]
        if len(body) > self._max:
            return DataResult(None, octets, leftover)
        return DataResult(body, octets, leftover)

    def _check_size(self) -> None:
        if not self._too_big:
            unstuffed = len(self._buffer) - len(_START) - self._stuffed
            self._too_big = unstuffed > self._max
        if self._too_big:
            # Keep only what an end marker straddling the next read could need.
            del self._buffer[:-_OVERLAP]
            self._scanned = 0
