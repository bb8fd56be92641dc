"""SMTP replies: the Reply value, RFC 3463 enhanced status codes, and an incremental parser.

Owns turning the server's bytes into :class:`Reply` values (RFC 5321 §4.2) under hard limits, so
a hostile server cannot make us buffer without bound: a line past ``MAX_REPLY_LINE_OCTETS``,
a reply of more than ``MAX_REPLY_LINES`` lines or ``MAX_REPLY_OCTETS`` octets, or garbage where
a reply code belongs raises :class:`postillon.errors.ProtocolError`. It must not do I/O and must
not interpret what a reply means for delivery (queue/ does that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from postillon.errors import ProtocolError

# RFC 5321 §4.5.3.1.5 limits a reply line to 512 octets with CRLF; real servers exceed it with
# long texts, so we allow 4x before calling it hostile.
MAX_REPLY_LINE_OCTETS = 2048
# The longest honest multi-line reply is an EHLO listing: a few dozen extensions at most.
MAX_REPLY_LINES = 128
# A whole reply (all its lines): well above an honest EHLO reply, far below harmful.
MAX_REPLY_OCTETS = 64 * 1024
# What the parser ever holds unparsed: one reply in progress plus one over-long line to detect.
MAX_BUFFER_OCTETS = MAX_REPLY_OCTETS + MAX_REPLY_LINE_OCTETS

# RFC 3463 §2: class "." subject "." detail, subject and detail 1-3 digits.
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)")


@dataclass(frozen=True)
class EnhancedStatus:
    """An RFC 3463 enhanced status code, e.g. 5.1.1 (class, subject, detail)."""

    klass: int
    subject: int
    detail: int

    def __str__(self) -> str:
        return f"{self.klass}.{self.subject}.{self.detail}"

    @classmethod
    def parse(cls, text: str) -> EnhancedStatus | None:
        """The enhanced code at the start of ``text``, or None if there is none."""
        match = _ENHANCED.match(text)
        if match is None:
            return None
        return cls(int(match[1]), int(match[2]), int(match[3]))


@dataclass(frozen=True)
class Reply:
    """One SMTP reply: its three-digit code, the text of each line, and its enhanced code.

    ``lines`` hold the text after the code and separator (enhanced code included, as sent).
    ``enhanced`` is parsed from the first line when present and of the reply's class; servers
    that omit it (or send one of another class) get None, never an error.
    """

    code: int
    lines: tuple[str, ...]
    enhanced: EnhancedStatus | None = None

    @classmethod
    def build(cls, code: int, *lines: str) -> Reply:
        """A reply from a code and texts, with the enhanced code parsed as the parser would."""
        texts = lines or ("",)
        return cls(code, tuple(texts), _enhanced_for(code, texts[0]))

    @property
    def is_positive(self) -> bool:
        """2xx: the command succeeded."""
        return 200 <= self.code < 300

    @property
    def is_intermediate(self) -> bool:
        """3xx: send more (354 after DATA)."""
        return 300 <= self.code < 400

    @property
    def is_transient(self) -> bool:
        """4xx: failed this time; may work later."""
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        """5xx: failed; the same command will fail again."""
        return 500 <= self.code < 600

    @property
    def text(self) -> str:
        """All lines joined with spaces, as a single human-readable string."""
        return " ".join(line for line in self.lines if line)

    def __str__(self) -> str:
        return f"{self.code} {self.text}".rstrip()


def _enhanced_for(code: int, first_line: str) -> EnhancedStatus | None:
    enhanced = EnhancedStatus.parse(first_line)
    # RFC 3463 §3: the class must agree with the reply code's first digit; else it is just text.
    if enhanced is None or enhanced.klass != code // 100:
        return None
    return enhanced


class ReplyParser:
    """Incremental reply parser: ``feed`` bytes, then take replies with ``next_reply``.

    Bytes are parsed lazily, one reply per ``next_reply`` call, so a server that floods us with
    replies fills at most ``MAX_BUFFER_OCTETS``; ``room`` says how much may be fed now.
    Line ends may be CRLF or a bare LF (tolerated from servers); a reply without any line end
    is an error once it passes ``MAX_REPLY_LINE_OCTETS``.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._lines: list[str] = []
        self._code: int | None = None
        self._reply_octets = 0

    @property
    def buffered_octets(self) -> int:
        """Octets held unparsed (bounded by ``MAX_BUFFER_OCTETS``)."""
        return len(self._buffer)

    @property
    def room(self) -> int:
        """How many octets ``feed`` accepts now without raising."""
        return MAX_BUFFER_OCTETS - len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Append received bytes. Raises ProtocolError if they would pass the buffer limit."""
        if len(data) > self.room:
            raise ProtocolError(
                f"server sent more than {MAX_BUFFER_OCTETS} octets without a complete reply"
            )
        self._buffer += data

    def discard(self) -> int:
        """Drop everything buffered and any reply in progress; return the octets dropped.

        Used after STARTTLS (RFC 3207 §4.2, CVE-2011-0411): nothing sent before the handshake
        may be read as if it came over TLS.
        """
        dropped = len(self._buffer) + self._reply_octets
        self._buffer.clear()
        self._lines.clear()
        self._code = None
        self._reply_octets = 0
        return dropped

    def next_reply(self) -> Reply | None:
        """The next complete reply, or None if more bytes are needed.

        Raises ProtocolError when the server breaks the syntax or a limit.
        """
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_REPLY_LINE_OCTETS:
                    raise ProtocolError(
                        f"reply line longer than {MAX_REPLY_LINE_OCTETS} octets without CRLF"
                    )
                return None
            if end + 1 > MAX_REPLY_LINE_OCTETS:
                raise ProtocolError(f"reply line longer than {MAX_REPLY_LINE_OCTETS} octets")
            raw = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            reply = self._take_line(raw)
            if reply is not None:
                return reply

    def _take_line(self, raw: bytes) -> Reply | None:
        self._reply_octets += len(raw)
        if self._reply_octets > MAX_REPLY_OCTETS:
            raise ProtocolError(f"reply longer than {MAX_REPLY_OCTETS} octets")
        if len(self._lines) + 1 > MAX_REPLY_LINES:
            raise ProtocolError(f"reply with more than {MAX_REPLY_LINES} lines")
        line = raw.rstrip(b"\r\n")
        # RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39, then SP, "-" or the line end.
        if len(line) < 3 or not line[:3].isdigit() or line[0:1] not in b"2345":
            raise ProtocolError(f"malformed reply line {line[:80]!r}")
        code = int(line[:3])
        separator = line[3:4]
        if separator not in (b"", b" ", b"-"):
            raise ProtocolError(f"malformed reply line {line[:80]!r}")
        if self._code is not None and code != self._code:
            # §4.2.1: every line of a multi-line reply carries the same code.
            raise ProtocolError(f"reply code changed from {self._code} to {code} mid-reply")
        self._code = code
        self._lines.append(line[4:].decode("utf-8", "replace"))
        if separator == b"-":
            return None
        reply = Reply(code, tuple(self._lines), _enhanced_for(code, self._lines[0]))
        self._lines = []
        self._code = None
        self._reply_octets = 0
        return reply
