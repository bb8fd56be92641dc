"""One mail transaction's input, progress and outcome.

Owns the values a transaction takes (:class:`Envelope`: addresses, size, what the body needs),
whether a server can take it (:func:`unmet_need`), the replies gathered while it is in flight
(:class:`TransactionProgress`) and what it returns (:class:`TransactionResult`: the reply to
MAIL, to each RCPT, and to the data). Must not classify outcomes (queue/ does) and knows
nothing of TLS (the transport reports that).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from postillon.smtp.data import is_8bit, needs_smtputf8, wire_size
from postillon.smtp.extensions import Extensions
from postillon.smtp.reply import Reply


@dataclass(frozen=True)
class Envelope:
    """Who the message is from and to, and what the body needs from the server."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    size: int
    is_8bit: bool = False
    needs_smtputf8: bool = False

    @classmethod
    def for_message(cls, mail_from: str, rcpt_tos: tuple[str, ...], message: bytes) -> Envelope:
        """The envelope for sending ``message``: its wire size and needs, read from its bytes."""
        return cls(
            mail_from=mail_from,
            rcpt_tos=tuple(rcpt_tos),
            size=wire_size(message),
            is_8bit=is_8bit(message),
            needs_smtputf8=needs_smtputf8(mail_from, tuple(rcpt_tos), message),
        )


@dataclass(frozen=True)
class RecipientResult:
    """The server's reply to ``RCPT TO:<rcpt_to>``."""

    rcpt_to: str
    reply: Reply

    @property
    def is_accepted(self) -> bool:
        """Whether the server took this recipient (2xx to RCPT)."""
        return self.reply.is_positive


@dataclass(frozen=True)
class TransactionResult:
    """What the server said to each step of one transaction.

    ``recipients`` is empty when MAIL was refused without pipelining (no RCPT was sent).
    ``data_reply`` is the reply that ended the data phase: the reply to the final dot, or the
    refusal of DATA itself; None when DATA was never sent (MAIL refused or no RCPT accepted).
    """

    mail_reply: Reply
    recipients: tuple[RecipientResult, ...]
    data_reply: Reply | None

    @property
    def is_mail_accepted(self) -> bool:
        """Whether the server took the reverse-path (2xx to MAIL)."""
        return self.mail_reply.is_positive

    @property
    def delivered(self) -> tuple[str, ...]:
        """Recipients the server took responsibility for (RCPT 2xx and the data 2xx)."""
        if self.data_reply is None or not self.data_reply.is_positive:
            return ()
        return tuple(r.rcpt_to for r in self.recipients if r.is_accepted)

    def reply_for(self, rcpt_to: str) -> Reply:
        """The reply that decides ``rcpt_to``'s outcome: MAIL's if MAIL failed, else its RCPT
        reply if that failed, else the data reply. Raises KeyError for an unknown recipient.
        """
        if not self.mail_reply.is_positive:
            return self.mail_reply
        for result in self.recipients:
            if result.rcpt_to == rcpt_to:
                if not result.is_accepted or self.data_reply is None:
                    return result.reply
                return self.data_reply
        raise KeyError(rcpt_to)


@dataclass(frozen=True)
class UnmetNeed:
    """Why a server cannot take a message: the RFC 3463 status it implies and the reason."""

    enhanced: str
    text: str


def unmet_need(envelope: Envelope, extensions: Extensions) -> UnmetNeed | None:
    """Why the server cannot take the message, or None: 8-bit without 8BITMIME (RFC 6152,
    5.6.3 conversion required), UTF-8 without SMTPUTF8 (RFC 6531, 5.6.7), larger than the
    declared SIZE (RFC 1870 §6, 5.3.4 message too big)."""
    name = extensions.server_name or "the server"
    if envelope.is_8bit and not extensions.eight_bit_mime:
        return UnmetNeed(
            "5.6.3", f"message has 8-bit content and {name} does not offer 8BITMIME (RFC 6152)"
        )
    if envelope.needs_smtputf8 and not extensions.smtputf8:
        return UnmetNeed(
            "5.6.7", f"UTF-8 address or header and {name} does not offer SMTPUTF8 (RFC 6531)"
        )
    limit = extensions.size_limit
    if limit is not None and envelope.size > limit:
        return UnmetNeed(
            "5.3.4",
            f"message is {envelope.size} octets and {name} accepts at most {limit} (RFC 1870)",
        )
    return None


@dataclass
class TransactionProgress:
    """The replies of a transaction in flight (the session's bookkeeping; mutable)."""

    envelope: Envelope
    pipelined: bool
    unsent_rcpts: deque[str]
    mail_reply: Reply | None = None
    data_reply: Reply | None = None
    recipients: tuple[RecipientResult, ...] = ()

    def add_rcpt_reply(self, reply: Reply) -> None:
        """Record the reply to the next RCPT, in the order they were sent."""
        rcpt = self.envelope.rcpt_tos[len(self.recipients)]
        self.recipients = (*self.recipients, RecipientResult(rcpt, reply))

    @property
    def has_accepted_rcpt(self) -> bool:
        """MAIL and at least one RCPT were accepted: there is someone to send the data to."""
        mail_ok = self.mail_reply is not None and self.mail_reply.is_positive
        return mail_ok and any(r.is_accepted for r in self.recipients)

    def result(self) -> TransactionResult:
        """The finished transaction's replies."""
        assert self.mail_reply is not None
        return TransactionResult(self.mail_reply, self.recipients, self.data_reply)
