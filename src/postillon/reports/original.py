"""The original message's headers as a report quotes them.

Owns finding the returned message (RFC 3462 message/rfc822 or text/rfc822-headers, RFC 6532's
message/global and message/global-headers) and reading its identifying headers; many
non-standard bounces quote the original inline after a marker line, which is read too.
It must not decide what a report means.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import Parser
from email.policy import compat32

from postillon.reports import mime
from postillon.reports.model import OriginalHeaders

_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_HEADER_TYPES = frozenset(
    {"text/rfc822-headers", "message/rfc822-headers", "message/global-headers"}
)
# Only the first lines after a marker are read as headers: a header block is short.
MAX_INLINE_HEADER_CHARS = 16 * 1024
# Markers non-standard bounces put before the quoted original (Postfix, Exim, qmail, Sendmail,
# Exchange, Gmail): a line that starts one of these, any case.
_INLINE_MARKER = re.compile(
    r"^[ \t>-]*(?:-+ ?)?(?:below this line is a copy of the message|this is a copy of the message"
    r"|original message(?: follows| headers)?|undelivered message headers|returned message"
    r"|original message header)",
    re.IGNORECASE | re.MULTILINE,
)


def _from(headers: Message) -> OriginalHeaders:
    return OriginalHeaders(
        message_id=mime.header(headers, "Message-ID"),
        from_=mime.header(headers, "From"),
        to=mime.header(headers, "To"),
        subject=mime.header(headers, "Subject"),
        return_path=mime.header(headers, "Return-Path"),
    )


def _parse_headers(text: str) -> Message:
    return Parser(policy=compat32).parsestr(
        text.lstrip("\r\n")[:MAX_INLINE_HEADER_CHARS], headersonly=True
    )


def from_parts(message: Message) -> OriginalHeaders | None:
    """The headers of the first returned-message part, or None when the report has none."""
    for part in mime.walk(message):
        kind = mime.content_type(part)
        if kind in _MESSAGE_TYPES:
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return _from(payload[0])
            if isinstance(payload, str):
                return _from(_parse_headers(payload))
        if kind in _HEADER_TYPES:
            return _from(_parse_headers(mime.text_of(part)))
    return None


def marker_index(text: str) -> int | None:
    """Where the quoted original starts in a plain-text bounce, or None."""
    match = _INLINE_MARKER.search(text)
    return None if match is None else match.start()


def from_text(text: str) -> OriginalHeaders | None:
    """The headers quoted after a marker line in a plain-text bounce, or None."""
    match = _INLINE_MARKER.search(text)
    if match is None:
        return None
    rest = text[match.end() :]
    newline = rest.find("\n")
    if newline < 0:
        return None
    headers = _from(_parse_headers(rest[newline + 1 :].lstrip(" \t\r\n-")))
    return headers if headers != OriginalHeaders() else None
