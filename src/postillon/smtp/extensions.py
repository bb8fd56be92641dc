"""EHLO extensions: which service extensions the server announced, and their parameters.

Owns parsing the EHLO reply (RFC 5321 §4.1.1.1: first line is the server's domain, each further
line a keyword with optional parameters) into :class:`Extensions`. Must not decide what to do
with them; the session does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from postillon.smtp.reply import Reply


class Extension(StrEnum):
    """The EHLO keywords postillon uses (upper case, as compared)."""

    SIZE = "SIZE"  # RFC 1870
    PIPELINING = "PIPELINING"  # RFC 2920
    EIGHTBITMIME = "8BITMIME"  # RFC 6152
    SMTPUTF8 = "SMTPUTF8"  # RFC 6531
    STARTTLS = "STARTTLS"  # RFC 3207
    ENHANCEDSTATUSCODES = "ENHANCEDSTATUSCODES"  # RFC 2034
    CHUNKING = "CHUNKING"  # RFC 3030


@dataclass(frozen=True)
class Extensions:
    """What the server announced. ``params`` maps each keyword to its parameter words.

    ``Extensions()`` is the empty set a HELO session has.
    """

    server_name: str = ""
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, extension: Extension) -> bool:
        """Whether ``extension`` was announced."""
        return extension.value in self.params

    @property
    def size_limit(self) -> int | None:
        """The server's fixed maximum message size (RFC 1870 §4), or None if it set none.

        ``SIZE`` without a number, ``SIZE 0`` and an unreadable number all mean "no limit
        declared" (tolerant: the final reply still tells us if the message was too large).
        """
        words = self.params.get(Extension.SIZE.value)
        if not words:
            return None
        try:
            limit = int(words[0])
        except ValueError:
            return None
        return limit if limit > 0 else None

    @property
    def has_size(self) -> bool:
        """RFC 1870 SIZE was announced (so MAIL FROM may carry SIZE=)."""
        return self.has(Extension.SIZE)

    @property
    def pipelining(self) -> bool:
        """RFC 2920 command pipelining."""
        return self.has(Extension.PIPELINING)

    @property
    def eight_bit_mime(self) -> bool:
        """RFC 6152 8-bit message bodies (BODY=8BITMIME)."""
        return self.has(Extension.EIGHTBITMIME)

    @property
    def smtputf8(self) -> bool:
        """RFC 6531 UTF-8 addresses and headers."""
        return self.has(Extension.SMTPUTF8)

    @property
    def starttls(self) -> bool:
        """RFC 3207 STARTTLS."""
        return self.has(Extension.STARTTLS)

    @property
    def enhanced_status_codes(self) -> bool:
        """RFC 2034 enhanced status codes in replies."""
        return self.has(Extension.ENHANCEDSTATUSCODES)

    @property
    def chunking(self) -> bool:
        """RFC 3030 BDAT (announced; postillon does not use it, see session.py)."""
        return self.has(Extension.CHUNKING)


def parse_ehlo(reply: Reply) -> Extensions:
    """The extensions in a positive EHLO reply; unknown keywords are kept, malformed lines skipped.

    Keywords compare case-insensitively (RFC 5321 §2.4); a keyword announced twice keeps its
    first parameters.
    """
    first, *rest = reply.lines or ("",)
    server_name = first.split(" ", 1)[0]
    params: dict[str, tuple[str, ...]] = {}
    for line in rest:
        words = line.split()
        if not words:
            continue
        keyword = words[0].upper()
        # §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
        if not keyword.replace("-", "").isalnum() or not keyword.isascii():
            continue
        params.setdefault(keyword, tuple(words[1:]))
    return Extensions(server_name=server_name, params=params)
