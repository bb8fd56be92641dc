"""What a door (submission, inbound return path) implements to run on the SMTP listener.

Owns the :class:`SmtpHandler` protocol (one per listener: a handler per connection) and
:class:`PeerInfo`, what the listener knows about the client. The listener speaks SMTP and
enforces the limits; each door only decides, through these methods, what it accepts. A method
returns None to accept with the standard reply, or the refusal to send. Must not do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from postillon.smtp.sasl import Credentials
from postillon.smtp.server_events import Hello, MailFrom, MessageData, RcptTo
from postillon.smtp.server_reply import ServerReply
from postillon.transport.tls import TlsInfo


@dataclass
class PeerInfo:
    """The client of one connection; ``tls`` is set once TLS is up (changes after STARTTLS)."""

    address: str
    port: int
    tls: TlsInfo | None = None


class ConnectionHandler(Protocol):
    """A door's decisions for one connection (it may keep state, e.g. who authenticated)."""

    async def hello(self, event: Hello) -> ServerReply | None:
        """EHLO/HELO."""

    async def authenticate(self, credentials: Credentials) -> ServerReply | None:
        """AUTH with complete credentials (never log them)."""

    async def mail_from(self, event: MailFrom) -> ServerReply | None:
        """MAIL FROM."""

    async def rcpt_to(self, event: RcptTo) -> ServerReply | None:
        """RCPT TO."""

    async def message(self, event: MessageData) -> ServerReply | None:
        """The message after the final dot: answer 250 only once it is safely stored."""

    def tls_started(self) -> None:
        """STARTTLS succeeded: the session starts over (forget any authentication)."""


class SmtpHandler(Protocol):
    """A door: makes the handler of each new connection."""

    def connection(self, peer: PeerInfo) -> ConnectionHandler:
        """The handler for a new connection from ``peer``."""
