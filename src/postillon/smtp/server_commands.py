"""Parsing what an SMTP client sends: command lines, MAIL/RCPT paths and their parameters.

Owns turning one command line (without its line ending) into a :class:`Command`, and the
argument of MAIL FROM / RCPT TO into a :class:`Path` with its ESMTP parameters (RFC 5321
§4.1.1.2-3, §4.1.2; SIZE RFC 1870, BODY RFC 6152, SMTPUTF8 RFC 6531). Every refusal is a
:class:`CommandSyntaxError` carrying the reply to give. Must not do I/O, keep state, or judge
whether an address may be used (the door does that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from postillon.smtp import server_reply as r
from postillon.smtp.server_reply import ServerReply, reply

# RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
MAX_PATH_OCTETS = 256
# RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
MAX_LOCAL_PART_OCTETS = 64
# RFC 5321 §4.5.3.1.2: a domain is at most 255 octets.
MAX_DOMAIN_OCTETS = 255
# No honest client sends more than a handful of ESMTP parameters on one MAIL or RCPT.
MAX_PARAMETERS = 16

# BODY values of RFC 6152 §2 we accept (BINARYMIME needs CHUNKING, which we do not offer).
_BODY_TYPES = frozenset({"7BIT", "8BITMIME"})
# MAIL parameters we know; AUTH= (RFC 4954 §5) is accepted and ignored.
_MAIL_PARAMETERS = frozenset({"SIZE", "BODY", "SMTPUTF8", "AUTH"})
# Digits in a SIZE value: 20 holds any 64-bit count; more is an attempt to make us parse junk.
_MAX_SIZE_DIGITS = 20

# RFC 5321 §4.1.2 esmtp-keyword and esmtp-value (value: any printable except "=" and space).
_KEYWORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_VALUE = re.compile(r"[!-<>-~\u0080-\U0010ffff]+")


class Verb(StrEnum):
    """The commands the server core knows."""

    EHLO = "EHLO"
    HELO = "HELO"
    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"
    RSET = "RSET"
    NOOP = "NOOP"
    QUIT = "QUIT"
    VRFY = "VRFY"
    HELP = "HELP"
    STARTTLS = "STARTTLS"
    AUTH = "AUTH"


class CommandSyntaxError(Exception):
    """The line cannot be a valid command; ``reply`` says why (a 500 or 501)."""

    def __init__(self, answer: ServerReply) -> None:
        super().__init__(str(answer))
        self.reply = answer


@dataclass(frozen=True)
class Command:
    """A command verb and its argument text (stripped; "" when there is none)."""

    verb: Verb
    argument: str


@dataclass(frozen=True)
class Path:
    """A reverse-path or forward-path: the address inside the angle brackets ("" for the null
    reverse-path ``<>``) and the ESMTP parameters, keywords upper-cased."""

    address: str
    parameters: dict[str, str | None] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        """The part after the last "@" ("" for the null path)."""
        return self.address.rpartition("@")[2]


def parse_command(line: bytes) -> Command:
    """The command on ``line`` (its CRLF already removed).

    Raises CommandSyntaxError: 500 for an unknown verb or a line holding NUL or CR, 501 for
    bytes that are not UTF-8.
    """
    if b"\r" in line or b"\0" in line:
        raise CommandSyntaxError(reply(500, "5.5.2", "CR or NUL inside a command line"))
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandSyntaxError(reply(500, "5.5.2", "command line is not UTF-8")) from None
    verb_text, _, argument = text.strip().partition(" ")
    try:
        verb = Verb(verb_text.upper())
    except ValueError:
        raise CommandSyntaxError(reply(500, "5.5.1", "command not recognized")) from None
    return Command(verb, argument.strip())


def parse_path_argument(argument: str, keyword: str, *, null_allowed: bool) -> Path:
    """Parse ``FROM:<a@b> PARAM=x`` (``keyword`` "FROM") or ``TO:<a@b>`` (``keyword`` "TO").

    A space after the colon is tolerated (common clients send one). Raises CommandSyntaxError
    (501) naming what is wrong.
    """
    head, colon, rest = argument.partition(":")
    if not colon or head.strip().upper() != keyword:
        raise _syntax(f"expected {keyword}:<address>")
    rest = rest.lstrip(" ")
    if not rest.startswith("<"):
        raise _syntax("address must be in angle brackets")
    close = _closing_bracket(rest)
    inner, tail = rest[1:close], rest[close + 1 :]
    if tail and not tail.startswith(" "):
        raise _syntax("space expected after the address")
    if len(inner.encode("utf-8")) + 2 > MAX_PATH_OCTETS:
        raise _syntax("path too long", "5.1.3")
    if inner == "":
        if not null_allowed:
            raise _syntax("empty address", "5.1.3")
        return Path("", _parameters(tail))
    return Path(_mailbox(inner), _parameters(tail))


def check_mail_parameters(path: Path, max_octets: int) -> ServerReply | None:
    """The refusal MAIL FROM ``path`` deserves for its parameters, or None.

    Unknown parameter 555 (RFC 5321 §4.1.1.11), SIZE over ``max_octets`` 552 5.3.4 (RFC 1870
    §6.1), a bad SIZE/BODY/SMTPUTF8 501, a non-ASCII address without SMTPUTF8 553 5.6.7
    (RFC 6531 §3.4).
    """
    params = path.parameters
    if not set(params) <= _MAIL_PARAMETERS:
        return r.PARAMETER_UNKNOWN
    size = params.get("SIZE", "0")
    if size is None or not size.isdigit() or len(size) > _MAX_SIZE_DIGITS:
        return reply(501, "5.5.4", "SIZE must be a number")
    if int(size) > max_octets:
        return r.TOO_BIG
    if "BODY" in params and (params["BODY"] or "").upper() not in _BODY_TYPES:
        return reply(501, "5.5.4", "BODY must be 7BIT or 8BITMIME")
    if params.get("SMTPUTF8") is not None:
        return reply(501, "5.5.4", "SMTPUTF8 takes no value")
    if not path.address.isascii() and "SMTPUTF8" not in params:
        return r.NEED_SMTPUTF8
    return None


def check_rcpt_parameters(path: Path, mail_from: Path) -> ServerReply | None:
    """The refusal RCPT TO ``path`` deserves for its parameters, or None (we offer no RCPT
    parameters: DSN is not advertised)."""
    if path.parameters:
        return r.PARAMETER_UNKNOWN
    if not path.address.isascii() and "SMTPUTF8" not in mail_from.parameters:
        return r.NEED_SMTPUTF8
    return None


def _closing_bracket(text: str) -> int:
    """Index of the ">" closing the path that starts at text[0], skipping quoted strings."""
    quoted = escaped = False
    for index, char in enumerate(text[1:], start=1):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ">" and not quoted:
            return index
    raise _syntax("missing '>'")


def _mailbox(inner: str) -> str:
    if inner.startswith("@"):
        # RFC 5321 §4.1.2: a source route "MUST BE accepted" and "SHOULD be ignored"; we take
        # the mailbox after the route's colon.
        inner = inner.partition(":")[2]
    local, at, domain = inner.rpartition("@")
    if not at or not local or not domain:
        raise _syntax("address must be local-part@domain", "5.1.3")
    if any(ord(char) < 32 or ord(char) == 127 for char in inner) or " " in domain:
        raise _syntax("control characters or spaces in the address", "5.1.3")
    if len(local.encode("utf-8")) > MAX_LOCAL_PART_OCTETS:
        raise _syntax("local part longer than 64 octets", "5.1.3")
    if len(domain.encode("utf-8")) > MAX_DOMAIN_OCTETS:
        raise _syntax("domain longer than 255 octets", "5.1.3")
    return inner


def _parameters(tail: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    words = tail.split()
    if len(words) > MAX_PARAMETERS:
        raise _syntax("too many parameters", "5.5.4")
    for word in words:
        key, eq, value = word.partition("=")
        if not _KEYWORD.fullmatch(key) or (eq and not _VALUE.fullmatch(value)):
            raise _syntax(f"bad parameter {word[:40]!r}", "5.5.4")
        params[key.upper()] = value if eq else None
    return params


def _syntax(text: str, enhanced: str = "5.5.4") -> CommandSyntaxError:
    return CommandSyntaxError(reply(501, enhanced, text))
