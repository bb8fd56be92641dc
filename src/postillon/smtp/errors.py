"""Errors the SMTP core raises, each under the temporary or permanent branch of postillon.errors.

Owns the errors that carry an SMTP reply, and the refusals we make ourselves before sending
(an argument that would inject a command, a message the server cannot take). Must not decide
retry policy: queue/ classifies replies; these only say temporary or permanent.

    ReplyError (mixin: .reply, .command)
    ├── TransientReplyError (TemporaryError)     a 4xx (or unexpected) reply ended the session step
    ├── PermanentReplyError (PermanentError)     a 5xx reply ended the session step
    └── SessionRefusedError (ConnectError)       greeting/EHLO/HELO refused: try the next MX
    ServiceClosingError (TemporaryError)         421: the server is closing the connection
    └── SessionClosingError (+ SessionRefusedError)  421 before the session was set up
    InvalidArgumentError (PermanentError)        CR, LF, NUL, brackets, overlong path in an address
    UnsupportedMessageError (PermanentError)     8-bit body without 8BITMIME, UTF-8 without
                                                 SMTPUTF8, larger than the server's SIZE
    SessionStateError (TemporaryError)           the caller drove the session out of order
"""

from __future__ import annotations

from postillon.errors import ConnectError, PermanentError, TemporaryError
from postillon.smtp.reply import Reply


class ReplyError(Exception):
    """An error caused by the server's reply ``reply`` to ``command`` (e.g. ``"EHLO"``)."""

    def __init__(self, command: str, reply: Reply) -> None:
        super().__init__(f"{command} answered {reply}")
        self.command = command
        self.reply = reply


class TransientReplyError(ReplyError, TemporaryError):
    """A 4xx reply (or a reply we did not expect) that ends this step; try again later."""


class PermanentReplyError(ReplyError, PermanentError):
    """A 5xx reply that ends this step."""


class SessionRefusedError(ReplyError, ConnectError):
    """The host refused the session (greeting, EHLO or HELO): try the next MX host."""


class ServiceClosingError(ReplyError, TemporaryError):
    """The server answered 421 (RFC 5321 §3.8): it is closing the connection."""


class SessionClosingError(ServiceClosingError, SessionRefusedError):
    """421 to the greeting, EHLO or HELO: the server is closing, and the next MX may serve."""


class InvalidArgumentError(PermanentError):
    """A command argument that could smuggle a command or break the syntax (never sent)."""


class UnsupportedMessageError(PermanentError):
    """The server lacks what the message needs (8BITMIME, SMTPUTF8, a big enough SIZE).

    ``enhanced`` is the RFC 3463 status it implies (5.6.3, 5.6.7 or 5.3.4).
    """

    def __init__(self, text: str, *, enhanced: str = "5.6.0") -> None:
        super().__init__(text)
        self.enhanced = enhanced


class SessionStateError(TemporaryError):
    """The session was asked for something its state does not allow (a bug in the caller)."""


def error_for_reply(command: str, reply: Reply) -> ReplyError:
    """The error for a failing ``reply``: 421 closing, 5xx permanent, anything else temporary."""
    if reply.code == 421:
        return ServiceClosingError(command, reply)
    if reply.is_permanent:
        return PermanentReplyError(command, reply)
    return TransientReplyError(command, reply)
