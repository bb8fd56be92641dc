"""What the sans-I/O session asks its driver to do next, and the phases that time it.

Owns the :class:`Phase` names (one per RFC 5321 §4.5.3.2 timeout, matching the fields of
``postillon.config.SmtpTimeouts`` without ``_s``) and the action values returned by
``ClientSession.next_action()``. Must not do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from postillon.smtp.transaction import TransactionResult


class Phase(StrEnum):
    """A step of the session with its own timeout (RFC 5321 §4.5.3.2)."""

    CONNECT = "connect"
    GREETING = "greeting"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA_INIT = "data_init"
    DATA_BLOCK = "data_block"
    FINAL_DOT = "final_dot"
    RSET = "rset"
    QUIT = "quit"


@dataclass(frozen=True)
class Send:
    """Write ``data`` (one or more command lines, pipelined) within the ``phase`` timeout."""

    data: bytes
    phase: Phase


@dataclass(frozen=True)
class ReceiveMore:
    """Read at most ``max_octets`` more from the server and pass them to ``receive_data``."""

    phase: Phase
    max_octets: int


@dataclass(frozen=True)
class StartTls:
    """Run the TLS handshake now, then call ``tls_established()`` (or ``abort()`` on failure)."""


@dataclass(frozen=True)
class SendBody:
    """Stream the message (``smtp.data.encode_chunks``), then call ``body_sent(octets)``."""


@dataclass(frozen=True)
class Idle:
    """Nothing to do: the session is ready for a transaction (or waits for the caller)."""


@dataclass(frozen=True)
class TransactionDone:
    """The transaction ended; ``result`` holds every reply. The session is idle again."""

    result: TransactionResult


@dataclass(frozen=True)
class Closed:
    """The session is over (after QUIT, or after an error); close the connection."""


Action = Send | ReceiveMore | StartTls | SendBody | Idle | TransactionDone | Closed
