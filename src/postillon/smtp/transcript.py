"""The session transcript: every command line sent and every reply received, never a body.

Owns the record kept for the attempt log. Message bodies are summarised (octet count), never
copied; lines are kept as text. Must not do I/O or hold timestamps (the caller may add them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# A session with a hostile peer must not grow the transcript without bound: past this many
# entries, further ones are counted but dropped.
MAX_TRANSCRIPT_ENTRIES = 2000


class Direction(StrEnum):
    """Who produced a transcript entry."""

    CLIENT = "C"  # a command we sent
    SERVER = "S"  # a reply line we received
    NOTE = "-"  # something we did (TLS handshake, discarded bytes, body sent)


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of the transcript."""

    direction: Direction
    text: str

    def __str__(self) -> str:
        return f"{self.direction.value}: {self.text}"


class Transcript:
    """An append-only, bounded list of :class:`TranscriptEntry`."""

    def __init__(self) -> None:
        self._entries: list[TranscriptEntry] = []
        self.dropped = 0

    def add(self, direction: Direction, text: str) -> None:
        """Record one line (dropped, and counted, past ``MAX_TRANSCRIPT_ENTRIES``)."""
        if len(self._entries) >= MAX_TRANSCRIPT_ENTRIES:
            self.dropped += 1
            return
        self._entries.append(TranscriptEntry(direction, text))

    def __len__(self) -> int:
        return len(self._entries)

    def forget(self, start: int, end: int) -> None:
        """Drop entries ``start:end`` (earlier transactions of a long-lived connection), so
        the transcript keeps the session setup and the recent transactions in bounded room."""
        del self._entries[start:end]

    def render_parts(self, head: int, tail_from: int) -> str:
        """The first ``head`` entries (the session setup), then entries from ``tail_from`` on
        (the current transaction), with a note for what lies between."""
        head = min(head, tail_from)
        lines = [str(entry) for entry in self._entries[:head]]
        if tail_from > head:
            lines.append(f"-: ({tail_from - head} entries of earlier transactions omitted)")
        lines.extend(str(entry) for entry in self._entries[tail_from:])
        return "\n".join(lines)

    @property
    def entries(self) -> tuple[TranscriptEntry, ...]:
        """Every entry so far, oldest first."""
        return tuple(self._entries)

    def render(self) -> str:
        """The transcript as text, one entry per line."""
        lines = [str(entry) for entry in self._entries]
        if self.dropped:
            lines.append(f"-: ({self.dropped} more entries dropped)")
        return "\n".join(lines)
