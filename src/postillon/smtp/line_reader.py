"""Command lines out of a server's receive buffer, under a length limit.

Owns the bytes received and not yet consumed, and cutting them into lines: LF ends a line
(a CR before it is dropped); a line longer than the limit is reported once as
:data:`TOO_LONG` and then skipped to its end, so at most ``limit`` octets are ever held for
a line. Must not parse commands or do I/O.
"""

from __future__ import annotations

from typing import Final


class TooLong:
    """The type of :data:`TOO_LONG`."""

    def __repr__(self) -> str:
        return "TOO_LONG"


TOO_LONG: Final = TooLong()
"""Returned by :meth:`LineReader.next_line` once per over-long line."""


class LineReader:
    """The receive buffer of one session."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buffer += data

    def __len__(self) -> int:
        return len(self._buffer)

    def starts_with(self, prefix: bytes) -> bool:
        """Whether the unread bytes start with ``prefix`` (ASCII case-insensitive)."""
        return bytes(self._buffer[: len(prefix)]).upper() == prefix.upper()

    def next_line(self, limit: int) -> bytes | TooLong | None:
        """The next line without its line end; TOO_LONG when the line exceeds ``limit``
        octets (line end included); None when no complete line is buffered."""
        while self._skipping:
            end = self._buffer.find(b"\n")
            if end < 0:
                self._buffer.clear()
                return None
            del self._buffer[: end + 1]
            self._skipping = False
        end = self._buffer.find(b"\n", 0, limit)
        if end >= 0:
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            return line[:-1] if line.endswith(b"\r") else line
        if len(self._buffer) < limit:
            return None
        del self._buffer[:limit]
        self._skipping = True
        return TOO_LONG

    def take_all(self) -> bytes:
        """Every unread byte (DATA reads them raw); the buffer is then empty."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def clear(self) -> int:
        """Drop every unread byte (STARTTLS, CVE-2011-0411); returns how many."""
        dropped = len(self._buffer)
        self._buffer.clear()
        self._skipping = False
        return dropped
