"""What an SMTP server answers: :class:`ServerReply` and the replies every door shares.

Owns formatting a reply for the wire (RFC 5321 §4.2: ``code-text`` continuation lines, ``code
text`` on the last; RFC 2034 enhanced status code at the start of each line's text) and the
standard replies the server core gives on its own. Must not do I/O; text never holds CR or LF
(a reply must not be able to inject a second one).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerReply:
    """One reply: a three-digit ``code``, an optional RFC 3463 ``enhanced`` code ("5.7.1") and
    one or more ``lines`` of text."""

    code: int
    enhanced: str | None
    lines: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 200 <= self.code <= 599:
            raise ValueError(f"reply code {self.code} out of range")
        for line in self.lines:
            if "\r" in line or "\n" in line:
                raise ValueError("reply text must not contain CR or LF")

    @property
    def is_positive(self) -> bool:
        """A 2xx or 3xx reply: the command was accepted (or may continue)."""
        return self.code < 400

    @property
    def is_error(self) -> bool:
        """A 4xx or 5xx reply: the command was refused."""
        return self.code >= 400

    def encode(self, *, enhanced_codes: bool = True) -> bytes:
        """The reply as sent, every line ending in CRLF."""
        prefix = f"{self.enhanced} " if enhanced_codes and self.enhanced else ""
        lines = self.lines or ("",)
        last = len(lines) - 1
        out = [
            f"{self.code}{' ' if i == last else '-'}{prefix}{text}\r\n"
            for i, text in enumerate(lines)
        ]
        return "".join(out).encode("utf-8")

    def __str__(self) -> str:
        prefix = f"{self.enhanced} " if self.enhanced else ""
        return f"{self.code} {prefix}{' / '.join(self.lines)}"


def ehlo_reply(
    greeting: str, max_octets: int, starttls: bool, auth: tuple[str, ...]
) -> ServerReply:
    """The EHLO answer listing our extensions (RFC 5321 §4.1.1.1): PIPELINING (RFC 2920),
    SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), ENHANCEDSTATUSCODES (RFC 2034),
    STARTTLS (RFC 3207) and AUTH (RFC 4954) when given."""
    lines = [greeting, "PIPELINING", f"SIZE {max_octets}", "8BITMIME", "SMTPUTF8"]
    lines.append("ENHANCEDSTATUSCODES")
    if starttls:
        lines.append("STARTTLS")
    if auth:
        lines.append("AUTH " + " ".join(auth))
    return ServerReply(250, None, tuple(lines))


def reply(code: int, enhanced: str | None, text: str) -> ServerReply:
    """A one-line reply."""
    return ServerReply(code, enhanced, (text,))


OK = reply(250, "2.0.0", "OK")
SENDER_OK = reply(250, "2.1.0", "sender OK")
RECIPIENT_OK = reply(250, "2.1.5", "recipient OK")
START_INPUT = reply(354, None, "end data with <CR><LF>.<CR><LF>")
READY_TLS = reply(220, "2.0.0", "ready to start TLS")
AUTH_OK = reply(235, "2.7.0", "authentication succeeded")
BYE = reply(221, "2.0.0", "bye")
VRFY_CANNOT = reply(252, "2.5.2", "cannot VRFY user, but will accept message")
HELP = reply(214, "2.0.0", "see RFC 5321")
LINE_TOO_LONG = reply(500, "5.5.6", "line too long")
UNKNOWN_COMMAND = reply(500, "5.5.1", "command not recognized")
SYNTAX = reply(501, "5.5.4", "syntax error in parameters or arguments")
BAD_SEQUENCE = reply(503, "5.5.1", "bad sequence of commands")
NEED_HELLO = reply(503, "5.5.1", "send EHLO or HELO first")
NESTED_MAIL = reply(503, "5.5.1", "sender already given")
NEED_MAIL = reply(503, "5.5.1", "need MAIL before RCPT")
NEED_RCPT = reply(554, "5.5.1", "no valid recipients")
TOO_MANY_RECIPIENTS = reply(452, "4.5.3", "too many recipients")
TOO_BIG = reply(552, "5.3.4", "message size exceeds fixed maximum message size")
NEED_AUTH = reply(530, "5.7.0", "authentication required")
NEED_TLS = reply(530, "5.7.0", "must issue a STARTTLS command first")
ENCRYPTION_REQUIRED = reply(538, "5.7.11", "encryption required for requested authentication")
AUTH_MECHANISM = reply(504, "5.5.4", "unrecognized authentication type")
AUTH_ALREADY = reply(503, "5.5.1", "already authenticated")
AUTH_CANCELLED = reply(501, "5.0.0", "authentication cancelled")
AUTH_MALFORMED = reply(501, "5.5.2", "cannot decode response")
AUTH_UNAVAILABLE = reply(502, "5.5.1", "authentication not offered here")
PARAMETER_UNKNOWN = reply(555, "5.5.4", "parameter not recognized")
NEED_SMTPUTF8 = reply(553, "5.6.7", "non-ASCII address needs SMTPUTF8")
AUTH_FAILED = reply(535, "5.7.8", "authentication credentials invalid")
TLS_ALREADY = reply(503, "5.5.1", "TLS already active")
TLS_UNAVAILABLE = reply(454, "4.7.0", "TLS not available")
TOO_MANY_ERRORS = reply(421, "4.7.0", "too many errors, closing connection")
TIMEOUT = reply(421, "4.4.2", "timeout exceeded, closing connection")
SHUTTING_DOWN = reply(421, "4.3.2", "service shutting down, closing connection")
TOO_MANY_CONNECTIONS = reply(421, "4.7.0", "too many connections from your address")
SERVER_ERROR = reply(451, "4.3.0", "local error, try again later")
