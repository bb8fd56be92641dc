"""What the sans-I/O server session asks its driver to do or to decide.

Owns the event values returned by ``ServerSession.next_event()``. Three only ask for I/O
(:class:`NeedData`, :class:`StartTls`, :class:`Close`); the others are decisions the door takes
and answers with ``ServerSession.respond()`` before the session reads on. Must not do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from postillon.smtp.sasl import Credentials
from postillon.smtp.server_commands import Path


@dataclass(frozen=True)
class NeedData:
    """Write ``data_to_send()``, then read from the client and call ``receive_data``."""


@dataclass(frozen=True)
class StartTls:
    """Write ``data_to_send()`` (the 220), drop every unread byte, run the TLS handshake,
    then call ``tls_established()`` (or close on failure)."""


@dataclass(frozen=True)
class Close:
    """Write ``data_to_send()`` (221 or 421) and close the connection."""


@dataclass(frozen=True)
class Hello:
    """EHLO (``extended``) or HELO with the client's ``name``; None accepts it."""

    name: str
    extended: bool


@dataclass(frozen=True)
class Authenticate:
    """AUTH completed its exchange: check ``credentials``; None accepts (235)."""

    credentials: Credentials


@dataclass(frozen=True)
class MailFrom:
    """MAIL FROM, syntax and SIZE already checked; None accepts (250)."""

    path: Path


@dataclass(frozen=True)
class RcptTo:
    """RCPT TO for the transaction opened by ``mail_from``; None accepts (250)."""

    path: Path
    mail_from: Path


@dataclass(frozen=True)
class Envelope:
    """The transaction a message came with."""

    mail_from: Path
    rcpt_tos: tuple[Path, ...]

    @property
    def is_8bit(self) -> bool:
        """Whether MAIL declared BODY=8BITMIME."""
        return (self.mail_from.parameters.get("BODY") or "").upper() == "8BITMIME"

    @property
    def is_smtputf8(self) -> bool:
        """Whether MAIL carried SMTPUTF8 (RFC 6531)."""
        return "SMTPUTF8" in self.mail_from.parameters


@dataclass(frozen=True)
class MessageData:
    """A message ended by ``<CRLF>.<CRLF>``: ``data`` unstuffed, bytes as the client sent
    them (line endings untouched). Answer 250 only once it is safe; None is 250 "OK"."""

    envelope: Envelope
    data: bytes


ServerEvent = NeedData | StartTls | Close | Hello | Authenticate | MailFrom | RcptTo | MessageData
Decision = Hello | Authenticate | MailFrom | RcptTo | MessageData
