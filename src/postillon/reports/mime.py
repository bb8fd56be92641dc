"""Reading a received report's MIME structure without letting it cost more than a bound.

Owns the limits on what a report may make us do: only the head of a report is parsed (the
report parts come first; the quoted original message after them can be megabytes), MIME nesting
and the number of parts walked are capped, and text is decoded leniently (a wrong charset or a
broken transfer encoding gives replacement characters, never an exception).
SECURITY: input is hostile (anyone can send mail to port 25); nothing here may raise on
malformed MIME, recurse without bound or scan unbounded text. It must not do I/O.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

# Only this much of a report is parsed: RFC 3464 §2 puts the human-readable and the
# delivery-status parts first, ARF (RFC 5965 §2) its feedback part second; what follows is
# the returned original, of which only the headers are wanted. 1 MiB is far above any report
# part seen in practice and keeps a 10 MB report's cost small.
MAX_PARSED_BYTES = 1024 * 1024
# Multipart nesting honoured: a report is at most multipart/report > message/rfc822 >
# multipart/alternative > text (4); anything deeper is not a report we need to read. Counted
# before parsing (boundary parameters), since the stdlib parser nests generators per level.
MAX_BOUNDARIES = 16
# Parts visited in a walk: a report has three; forwarded ones a few dozen at most.
MAX_PARTS = 200
# Characters of one text part kept for reading: the reason of a bounce is near its top.
MAX_TEXT_CHARS = 64 * 1024
# A decoded header value: long enough for any Subject or Message-ID.
MAX_HEADER_CHARS = 2000

_BOUNDARY = re.compile(rb"boundary\s*=", re.IGNORECASE)


class TooDeepError(ValueError):
    """The report nests more MIME parts than :data:`MAX_BOUNDARIES`."""


def parse(data: bytes) -> tuple[Message, bool]:
    """The report's parsed head and whether it was cut at :data:`MAX_PARSED_BYTES`.

    Raises :class:`TooDeepError` when it declares more than :data:`MAX_BOUNDARIES` multipart
    boundaries; malformed MIME otherwise parses as well as it can (the stdlib parser records
    defects instead of raising).
    """
    head = data[:MAX_PARSED_BYTES]
    if len(_BOUNDARY.findall(head)) > MAX_BOUNDARIES:
        raise TooDeepError(f"more than {MAX_BOUNDARIES} nested MIME parts")
    try:
        message = BytesParser(policy=compat32).parsebytes(head)
    except RecursionError:  # defence in depth; the boundary count should prevent it
        raise TooDeepError("MIME nesting too deep to parse") from None
    return message, len(data) > MAX_PARSED_BYTES


def walk(message: Message) -> Iterator[Message]:
    """Every part, depth first, at most :data:`MAX_PARTS` of them, without recursion."""
    stack: list[Message] = [message]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def content_type(part: Message) -> str:
    """The part's media type, lower case (``text/plain`` when absent or malformed)."""
    try:
        return part.get_content_type().lower()
    except Exception:  # a malformed header must not stop reading
        return "text/plain"


def header(part: Message, name: str) -> str | None:
    """A header's value, RFC 2047-decoded, unfolded and bounded, or None when absent."""
    raw = part.get(name)
    if raw is None:
        return None
    text = str(raw)
    # Undecodable encoded-words stay as sent.
    with contextlib.suppress(Exception):
        text = str(make_header(decode_header(text)))
    return " ".join(text.split())[:MAX_HEADER_CHARS]


def text_of(part: Message) -> str:
    """A text part's content, decoded from its transfer encoding and charset, bounded to
    :data:`MAX_TEXT_CHARS`; unknown charsets and broken encodings never raise."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        raw = payload[: MAX_TEXT_CHARS * 4]
    else:
        body = part.get_payload()
        raw = (
            body.encode("utf-8", "replace")[: MAX_TEXT_CHARS * 4] if isinstance(body, str) else b""
        )
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
        text = raw.decode(charset, errors="replace")
    except (LookupError, ValueError):
        text = raw.decode("utf-8", errors="replace")
    return text[:MAX_TEXT_CHARS]


def raw_text_of(part: Message) -> str:
    """A non-multipart part's undecoded body as text (for message/delivery-status parsed by the
    stdlib into sub-messages, their headers are joined back)."""
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload[:MAX_TEXT_CHARS]
    if isinstance(payload, list):
        blocks = []
        for sub in payload[:MAX_PARTS]:
            if isinstance(sub, Message):
                block = "\n".join(f"{k}: {v}" for k, v in sub.items())
                rest = sub.get_payload()
                # A message/* type the parser read as one message: its later blocks are the body.
                blocks.append(block + "\n\n" + rest if isinstance(rest, str) and rest else block)
        return "\n\n".join(blocks)[:MAX_TEXT_CHARS]
    return ""
