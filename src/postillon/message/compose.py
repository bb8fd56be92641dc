"""Composition: a :class:`ValidEmail` becomes RFC 5322 bytes plus its envelope recipients.

Owns the MIME tree (RFC 2046) and the top-level header block. The tree, outermost first::

    multipart/mixed             only when there are regular attachments
      multipart/alternative     only when there are both text and html (RFC 2046 §5.1.4)
        text/plain
        multipart/related       only when there are inline parts (RFC 2387), root = html
          text/html
          inline parts (Content-ID)
      attachments

Bcc never appears in the header. Every line ends in CRLF and is at most 998 octets; bodies
follow the rule in :mod:`postillon.message.transfer`. Date comes from the injected clock and
the Message-ID and MIME boundaries from the injected random source. Must not sign (DKIM signs
the bytes afterwards) or choose the envelope sender.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from postillon.clock import Clock
from postillon.message.custom_headers import is_structured
from postillon.message.envelope import rcpt_to
from postillon.message.errors import InvalidMessageError
from postillon.message.header_text import (
    address_list_tokens,
    fold,
    param_tokens,
    structured_tokens,
    unstructured_tokens,
)
from postillon.message.model import Attachment, ValidEmail
from postillon.message.rfc5322_date import format_date
from postillon.message.transfer import TransferEncoding, encode_base64, encode_text
from postillon.message.validate import too_large

RandomBytes = Callable[[int], bytes]
# 128 random bits: a Message-ID and a boundary are unique without any coordination.
RANDOM_OCTETS = 16
# Tries before giving up on finding a boundary absent from the content (it never happens:
# "=_" cannot occur in base64 or quoted-printable, and 128 random bits will not be in a text).
MAX_BOUNDARY_TRIES = 8


@dataclass(frozen=True, slots=True)
class ComposedMessage:
    """The message bytes and what the SMTP client needs to send them."""

    data: bytes
    message_id: str  # with angle brackets, as in the header
    rcpt_to: tuple[str, ...]  # To + Cc + Bcc, deduplicated
    needs_smtputf8: bool  # a UTF-8 address: MAIL FROM ... SMTPUTF8 (RFC 6531 §3.4)
    needs_8bitmime: bool  # 8-bit octets present: BODY=8BITMIME (RFC 6152); only with SMTPUTF8


@dataclass(frozen=True, slots=True)
class _Leaf:
    headers: str  # folded lines, CRLF-terminated
    body: bytes


@dataclass(frozen=True, slots=True)
class _Multipart:
    subtype: str
    parts: tuple[_Leaf | _Multipart, ...]


_Part = _Leaf | _Multipart


def compose(
    email: ValidEmail,
    *,
    message_id_domain: str,
    clock: Clock,
    max_message_bytes: int,
    random_bytes: RandomBytes = secrets.token_bytes,
    more_headers: Callable[[str], Sequence[tuple[str, str]]] | None = None,
) -> ComposedMessage:
    """Build the message; ``message_id_domain`` is our own (an A-label host name).
    ``more_headers`` gives fields that depend on the Message-ID (List-Unsubscribe's token),
    added after the caller's own.

    Raises :class:`InvalidMessageError` (kind TOO_LARGE) when the bytes exceed the limit.
    """
    message_id = f"<{random_bytes(RANDOM_OCTETS).hex()}@{message_id_domain}>"
    head = [fold("Date", [format_date(clock.now())])]
    head.append(fold("From", address_list_tokens([email.from_])))
    if email.reply_to:
        head.append(fold("Reply-To", address_list_tokens(email.reply_to)))
    if email.to:
        head.append(fold("To", address_list_tokens(email.to)))
    if email.cc:
        head.append(fold("Cc", address_list_tokens(email.cc)))
    head.append(fold("Subject", unstructured_tokens(email.subject)))
    head.append(fold("Message-ID", [message_id]))
    head.append("MIME-Version: 1.0\r\n")
    extra = tuple(more_headers(message_id)) if more_headers is not None else ()
    for name, value in (*email.headers, *extra):
        tokens = structured_tokens(value) if is_structured(name) else unstructured_tokens(value)
        head.append(fold(name, tokens))
    root = _tree(email)
    data = "".join(head).encode("utf-8") + _render(root, random_bytes)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"  # a single-part body always ends its last line
    if len(data) > max_message_bytes:
        raise InvalidMessageError([too_large(len(data), max_message_bytes)])
    eight_bit = not data.isascii()
    return ComposedMessage(
        data=data,
        message_id=message_id,
        rcpt_to=rcpt_to(email.to, email.cc, email.bcc),
        needs_smtputf8=email.needs_smtputf8,
        needs_8bitmime=eight_bit,
    )


def _tree(email: ValidEmail) -> _Part:
    inline = [a for a in email.attachments if a.is_inline]
    regular = [a for a in email.attachments if not a.is_inline]
    html: _Part | None = None
    if email.html is not None:
        html = _text_leaf("html", email.html)
        if inline:
            html = _Multipart("related", (html, *(_attachment(a) for a in inline)))
    text = _text_leaf("plain", email.text) if email.text is not None else None
    if text is not None and html is not None:
        body: _Part = _Multipart("alternative", (text, html))
    else:
        body = text or html  # type: ignore[assignment]
    assert body is not None, "validation guarantees a body"
    if regular:
        return _Multipart("mixed", (body, *(_attachment(a) for a in regular)))
    return body


def _text_leaf(subtype: str, text: str) -> _Leaf:
    encoding, body = encode_text(text)
    headers = fold("Content-Type", param_tokens(f"text/{subtype}", [("charset", "utf-8")]))
    headers += f"Content-Transfer-Encoding: {encoding.value}\r\n"
    return _Leaf(headers, body)


def _attachment(attachment: Attachment) -> _Leaf:
    name = [("name", attachment.filename)]
    headers = fold("Content-Type", param_tokens(attachment.content_type.lower(), name))
    disposition = "inline" if attachment.is_inline else "attachment"
    filename = [("filename", attachment.filename)]
    headers += fold("Content-Disposition", param_tokens(disposition, filename))
    if attachment.content_id is not None:
        headers += fold("Content-ID", [f"<{attachment.content_id}>"])
    headers += f"Content-Transfer-Encoding: {TransferEncoding.BASE64.value}\r\n"
    return _Leaf(headers, encode_base64(attachment.content))


def _render(part: _Part, random_bytes: RandomBytes) -> bytes:
    """The part's header lines, a blank line and its body, all CRLF-terminated."""
    if isinstance(part, _Leaf):
        return part.headers.encode("ascii") + b"\r\n" + part.body
    children = [_render(child, random_bytes) for child in part.parts]
    boundary = _boundary(children, random_bytes)
    headers = fold(
        "Content-Type", param_tokens(f"multipart/{part.subtype}", [("boundary", boundary)])
    )
    delimiter = b"--" + boundary.encode("ascii")
    # RFC 2046 §5.1.1: the CRLF before a delimiter belongs to it, so a part keeps its own end.
    body = b"".join(delimiter + b"\r\n" + child + b"\r\n" for child in children)
    return headers.encode("ascii") + b"\r\n" + body + delimiter + b"--\r\n"


def _boundary(children: Sequence[bytes], random_bytes: RandomBytes) -> str:
    """A boundary that occurs in no child (RFC 2046 §5.1.1 MUST)."""
    for _ in range(MAX_BOUNDARY_TRIES):
        boundary = "=_" + random_bytes(RANDOM_OCTETS).hex()
        if not any(boundary.encode("ascii") in child for child in children):
            return boundary
    raise AssertionError("no unique MIME boundary found; the random source is broken")
