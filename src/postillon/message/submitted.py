"""A message a client composed itself (SMTP submission), made ready to sign: the least change.

Owns what must change in a client's own MIME before we sign it (RFC 6409 §8): every line end
becomes CRLF (bare CR and bare LF included), a Received field goes first (RFC 5321 §4.4), a
``Message-ID`` and a ``Date`` are added when missing (§8.3, §8.2), and every ``Bcc`` field is
removed (RFC 5322 §3.6.3: the recipients come from RCPT only). Everything else is kept byte for
byte. Also reads what listings and checks need: the one From mailbox, the Subject, the
Message-ID. Refuses, naming the header field, a message without exactly one From mailbox, a
header line that is not a field, or a line over 998 octets (RFC 5322 §2.1.1), with
:class:`InvalidMessageError`. Must not do I/O or sign.
"""

from __future__ import annotations

import email.header
import email.utils
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from postillon.message.address import Address, make_address
from postillon.message.errors import (
    AddressError,
    InvalidMessageError,
    ProblemKind,
    ValidationProblem,
)
from postillon.message.header_text import MAX_LINE_OCTETS
from postillon.message.rfc5322_date import format_date

# Any line end a client may send: CRLF first so it is not read as CR then LF.
_LINE_END = re.compile(rb"\r\n|\r|\n")
# RFC 5322 §3.6.4: a Message-ID from 128 random bits is unique without coordination.
MESSAGE_ID_RANDOM_OCTETS = 16
# RFC 5322 §3.6.2 ftext: printable US-ASCII except colon.
_FIELD_NAME = re.compile(rb"[!-9;-~]+")

# An EHLO name shown in Received: a host name or an address literal, of sane length.
_SAFE_HELO = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]{0,252}|\[[0-9A-Fa-f.:IPv6]{2,60}\]")

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class Trace:
    """Who handed us the message, for the Received field RFC 5321 §4.4 requires of every
    SMTP server: the client's EHLO name and address, our host name, its TLS."""

    helo: str
    address: str
    by: str
    tls: str | None = None  # e.g. "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384"


@dataclass(frozen=True)
class SubmittedMessage:
    """The message ready to sign, and what we read from its header."""

    data: bytes
    from_: Address
    subject: str
    message_id: str


def prepare_submitted(
    data: bytes,
    *,
    now: datetime,
    random_bytes: RandomBytes,
    max_octets: int,
    trace: Trace | None = None,
) -> SubmittedMessage:
    """``data`` as the client sent it (unstuffed), made ready to sign: a Received field
    first when ``trace`` is given, an added Message-ID in the From domain. Raises
    InvalidMessageError naming the field (``header.from``, ``message``...)."""
    data = _LINE_END.sub(b"\r\n", data)
    header, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        header, body = data.removesuffix(b"\r\n"), b""
    fields = _fields(header)
    kept = [f for f in fields if _name(f) != b"bcc"]
    from_ = _one_from(fields)
    added: list[bytes] = [] if trace is None else [received_field(trace, now)]
    message_id = _value(fields, b"message-id").strip()
    if not message_id:
        message_id = f"<{random_bytes(MESSAGE_ID_RANDOM_OCTETS).hex()}@{from_.domain}>"
        added.append(f"Message-ID: {message_id}\r\n".encode())
    if not _value(fields, b"date"):
        added.append(f"Date: {format_date(now)}\r\n".encode())
    prepared = b"".join(added + kept) + b"\r\n" + body
    _check_lines(prepared)
    if len(prepared) > max_octets:
        problem = ValidationProblem(
            "message", f"larger than {max_octets} octets", ProblemKind.TOO_LARGE
        )
        raise InvalidMessageError([problem])
    return SubmittedMessage(prepared, from_, _subject(fields), message_id)


def received_field(trace: Trace, now: datetime) -> bytes:
    """The Received field (RFC 5321 §4.4), folded, protocol ESMTPSA (RFC 3848: ESMTP with
    TLS and AUTH). A client's EHLO name that is not a plain host name or address literal is
    shown as "unknown", so it cannot change the field's structure."""
    helo = trace.helo if _SAFE_HELO.fullmatch(trace.helo) else "unknown"
    lines = [f"Received: from {helo} ([{trace.address}])", f"by {trace.by}"]
    if trace.tls:
        lines.append(f"(using {trace.tls})")
    lines.append(f"with ESMTPSA; {format_date(now)}")
    return ("\r\n\t".join(lines) + "\r\n").encode()


def _fields(header: bytes) -> list[bytes]:
    """The header fields, each with its continuation lines and final CRLF."""
    fields: list[bytes] = []
    for line in header.split(b"\r\n") if header else []:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line + b"\r\n"  # RFC 5322 §2.2.3: folded continuation
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            shown = line[:40].decode("utf-8", "replace")
            raise _invalid("header", f"not a header field: {shown!r}")
        fields.append(line + b"\r\n")
    return fields


def _name(field: bytes) -> bytes:
    return field.partition(b":")[0].lower()


def _value(fields: list[bytes], name: bytes) -> str:
    for field in fields:
        if _name(field) == name:
            raw = field.partition(b":")[2]
            return _LINE_END.sub(b"", raw).decode("utf-8", "replace").strip()
    return ""


def _one_from(fields: list[bytes]) -> Address:
    found = [field for field in fields if _name(field) == b"from"]
    if len(found) != 1:
        raise _invalid("header.from", "exactly one From field is required")
    value = _value(found, b"from")
    mailboxes = [addr for _, addr in email.utils.getaddresses([value]) if addr]
    if len(mailboxes) != 1:
        raise _invalid("header.from", "From must hold exactly one mailbox")
    try:
        return make_address(mailboxes[0], None)
    except AddressError as error:
        raise _invalid("header.from", str(error)) from error


def _subject(fields: list[bytes]) -> str:
    raw = _value(fields, b"subject")
    try:
        return str(email.header.make_header(email.header.decode_header(raw)))
    except (ValueError, LookupError):
        return raw  # an undecodable encoded-word: show it as sent


def _check_lines(data: bytes) -> None:
    lines = data.split(b"\r\n")
    if max(map(len, lines)) <= MAX_LINE_OCTETS:
        return
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_OCTETS:
            message = f"line {number} is longer than {MAX_LINE_OCTETS} octets (RFC 5322 §2.1.1)"
            raise _invalid("message", message)


def _invalid(field: str, message: str) -> InvalidMessageError:
    return InvalidMessageError([ValidationProblem(field, message)])
