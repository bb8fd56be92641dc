"""Reading a stored message back for display: its header fields, text part, HTML part and the
other parts, from the exact bytes that were sent.

Owns the reading rules: the stdlib parser with ``policy.default`` (RFC 2047 words decoded,
base64 and quoted-printable undone, charsets applied); the text and HTML bodies are the ones a
mail reader would show (``get_body``: through multipart/alternative, related and mixed, never an
attachment); every other leaf is listed as an attachment (name, type, size). Stored bytes may be
anything a customer submitted, so nothing here raises: a part that cannot be decoded is shown as
far as it can be (an unknown charset as UTF-8 with replacement characters) and each problem is
reported in words beside the result.
It must not do I/O nor make HTML safe to show: the caller serves the HTML part sandboxed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

# Bodies shown in a page: beyond this many characters the rest is cut (and said so); no mail a
# person reads is longer, and a page must stay small enough for a phone.
MAX_BODY_CHARS = 1_000_000
# A hostile message can nest multiparts deeply or hold thousands of parts; we list at most this.
MAX_DEPTH = 20
MAX_LISTED_PARTS = 200
# Control characters other than tab, LF and CR are shown as U+FFFD (a header may carry NULs).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FOLD = re.compile(r"\r?\n[ \t]*")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True)
class Attachment:
    """A part that is neither the text nor the HTML body; ``size`` in decoded octets."""

    filename: str | None
    content_type: str
    size: int | None


@dataclass(frozen=True)
class MessageParts:
    """What a message shows: every header field in order (decoded), the text and HTML bodies
    (None when the message has none), the other parts, and the problems met reading it."""

    headers: tuple[tuple[str, str], ...]
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]


def read_parts(raw: bytes) -> MessageParts:
    """The parts of the message ``raw`` (RFC 5322 bytes). Never raises."""
    problems: list[str] = []
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # stored bytes are untrusted: report, never fail the page
        return MessageParts((), None, None, (), (f"the message could not be parsed ({exc})",))
    assert isinstance(message, EmailMessage)
    headers = tuple(_header(name, value) for name, value in message.raw_items())
    text_part = _body(message, "plain", problems)
    html_part = _body(message, "html", problems)
    text = _content(text_part, "text", problems) if text_part is not None else None
    html = _content(html_part, "HTML", problems) if html_part is not None else None
    chosen = {id(part) for part in (text_part, html_part) if part is not None}
    if text is None and html is None and _is_broken_text(message):
        text = _undecoded(message, problems)
        chosen.add(id(message))
    attachments: list[Attachment] = []
    for part in _walk(message, 0, problems):
        problems.extend(_defect_text(defect) for defect in part.defects)
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            continue
        if id(part) in chosen:
            continue
        if len(attachments) == MAX_LISTED_PARTS:
            problems.append(f"more than {MAX_LISTED_PARTS} parts: the rest are not listed")
            break
        attachments.append(_attachment(part))
    return MessageParts(
        headers=headers,
        text=_shown(text, "text", problems),
        html=_shown(html, "HTML", problems),
        attachments=tuple(attachments),
        problems=tuple(dict.fromkeys(problems)),
    )


def _header(name: str, value: str) -> tuple[str, str]:
    """A header field decoded (RFC 2047 words, unfolded); its raw text if that fails."""
    try:
        shown = str(policy.default.header_fetch_parse(name, value))
    except Exception:  # a malformed field is still shown, as it was sent
        shown = _FOLD.sub(" ", value)
    return _CONTROLS.sub("\ufffd", name), _CONTROLS.sub("\ufffd", shown)


def _body(message: EmailMessage, subtype: str, problems: list[str]) -> EmailMessage | None:
    try:
        found = message.get_body(preferencelist=(subtype,))
    except Exception as exc:  # e.g. a structure too deep to walk
        problems.append(f"the {subtype} body could not be found ({type(exc).__name__})")
        return None
    return found if isinstance(found, EmailMessage) else None


def _content(part: EmailMessage, label: str, problems: list[str]) -> str:
    """The decoded text of ``part``; as UTF-8 with replacement characters if its charset is
    unknown or its content cannot be decoded."""
    try:
        content = part.get_content()
    except LookupError:
        charset = part.get_content_charset()
        problems.append(f"the {label} part has an unknown charset ({charset}): shown as UTF-8")
        return _undecoded(part, []) or ""
    except Exception as exc:
        problems.append(f"the {label} part could not be decoded ({type(exc).__name__})")
        return _undecoded(part, []) or ""
    return content if isinstance(content, str) else _undecoded(part, []) or ""


def _undecoded(part: Message, problems: list[str]) -> str | None:
    """The transfer-decoded payload as UTF-8 with replacement characters."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes) or not payload.strip():
        return None
    problems.append("no readable body part: the body is shown as sent")
    return payload.decode("utf-8", "replace")


def _shown(content: str | None, label: str, problems: list[str]) -> str | None:
    if content is None:
        return None
    content = content.replace("\r\n", "\n")
    if len(content) <= MAX_BODY_CHARS:
        return content
    problems.append(f"the {label} part is cut at {MAX_BODY_CHARS:,} characters")
    return content[:MAX_BODY_CHARS]


def _is_broken_text(message: EmailMessage) -> bool:
    """A single part of text, or a multipart the parser could not split (no boundary): worth
    showing as sent when no body was found."""
    return not message.is_multipart() and message.get_content_maintype() in ("text", "multipart")


def _walk(part: Message, depth: int, problems: list[str]) -> Iterator[Message]:
    """``part`` and every part inside it, in order, down to MAX_DEPTH levels (a message/rfc822
    part is not entered: it is one attachment)."""
    yield part
    if part.get_content_maintype() != "multipart" or not part.is_multipart():
        return
    if depth == MAX_DEPTH:
        problems.append(f"parts nested deeper than {MAX_DEPTH} levels are not listed")
        return
    for sub in part.get_payload():
        if isinstance(sub, Message):
            yield from _walk(sub, depth + 1, problems)


def _attachment(part: Message) -> Attachment:
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    return Attachment(
        filename=_CONTROLS.sub("\ufffd", filename) if filename else None,
        content_type=part.get_content_type(),
        size=len(payload) if isinstance(payload, bytes) else None,
    )


def _defect_text(defect: Exception) -> str:
    """``NoBoundaryInMultipartDefect`` -> ``no boundary in multipart``."""
    words = _CAMEL.sub(" ", type(defect).__name__.removesuffix("Defect")).lower()
    return words or "malformed"
