"""SMTP command lines as bytes: EHLO, HELO, STARTTLS, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

Owns the exact wire form of each command (RFC 5321 §4.1.1) and refusing arguments that could
inject a second command or a parameter: CR, LF, NUL and other control characters, angle
brackets and spaces in paths, and paths or lines past the RFC limits raise
:class:`InvalidArgumentError` (permanent: the same address would fail again). Must not decide
which commands to send or when.
"""

from __future__ import annotations

from postillon.smtp.errors import InvalidArgumentError

# RFC 5321 §4.5.3.1.3: a reverse-path or forward-path is at most 256 octets with its brackets.
MAX_PATH_OCTETS = 256
# RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF.
MAX_COMMAND_LINE_OCTETS = 512
# RFC 5321 §4.1.1.1: the EHLO/HELO domain is a domain or address literal (at most 255 octets).
MAX_DOMAIN_OCTETS = 255

CRLF = b"\r\n"


def _check_text(what: str, value: str, *, allow_space: bool) -> bytes:
    encoded = value.encode("utf-8")
    for char in value:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise InvalidArgumentError(f"{what} contains control character {char!r}: {value!r}")
        if char in "<>" or (char == " " and not allow_space):
            raise InvalidArgumentError(f"{what} contains {char!r}: {value!r}")
    return encoded


def _line(text: bytes) -> bytes:
    line = text + CRLF
    if len(line) > MAX_COMMAND_LINE_OCTETS:
        raise InvalidArgumentError(f"command longer than {MAX_COMMAND_LINE_OCTETS} octets")
    return line


def _path(what: str, address: str) -> bytes:
    encoded = _check_text(what, address, allow_space=False)
    if len(encoded) + 2 > MAX_PATH_OCTETS:
        raise InvalidArgumentError(f"{what} longer than {MAX_PATH_OCTETS} octets: {address!r}")
    return b"<" + encoded + b">"


def _domain(name: str) -> bytes:
    encoded = _check_text("EHLO name", name, allow_space=False)
    if not encoded or len(encoded) > MAX_DOMAIN_OCTETS:
        raise InvalidArgumentError(f"EHLO name must be 1 to {MAX_DOMAIN_OCTETS} octets")
    return encoded


def ehlo(name: str) -> bytes:
    """``EHLO name`` (§4.1.1.1)."""
    return _line(b"EHLO " + _domain(name))


def helo(name: str) -> bytes:
    """``HELO name``, the fallback for servers that refuse EHLO (§4.1.1.1)."""
    return _line(b"HELO " + _domain(name))


def starttls() -> bytes:
    """``STARTTLS`` (RFC 3207 §4)."""
    return _line(b"STARTTLS")


def mail_from(
    address: str, *, size: int | None = None, body_8bit: bool = False, smtputf8: bool = False
) -> bytes:
    """``MAIL FROM:<address>`` with SIZE= (RFC 1870), BODY=8BITMIME (RFC 6152), SMTPUTF8.

    An empty ``address`` is the null reverse-path ``<>`` (bounces).
    """
    line = b"MAIL FROM:" + _path("MAIL FROM address", address)
    if size is not None:
        if size < 0:
            raise InvalidArgumentError("SIZE must not be negative")
        line += b" SIZE=%d" % size
    if body_8bit:
        line += b" BODY=8BITMIME"
    if smtputf8:
        line += b" SMTPUTF8"
    return _line(line)


def rcpt_to(address: str) -> bytes:
    """``RCPT TO:<address>`` (§4.1.1.3); the address must not be empty."""
    if not address:
        raise InvalidArgumentError("RCPT TO address must not be empty")
    return _line(b"RCPT TO:" + _path("RCPT TO address", address))


def data() -> bytes:
    """``DATA`` (§4.1.1.4)."""
    return _line(b"DATA")


def rset() -> bytes:
    """``RSET`` (§4.1.1.5)."""
    return _line(b"RSET")


def noop() -> bytes:
    """``NOOP`` (§4.1.1.9)."""
    return _line(b"NOOP")


def quit_() -> bytes:
    """``QUIT`` (§4.1.1.10)."""
    return _line(b"QUIT")
