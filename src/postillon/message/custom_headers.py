"""Which extra header fields a caller may set, and what their values may hold.

Owns the policy: ``X-*`` fields (except our reserved ``X-Postillon-*``) and the list below;
everything else is refused, with a reason for the well-known fields postillon or the receiver
sets itself. Must not format or fold fields (see :mod:`postillon.message.header_text`).

SECURITY: CR, LF and NUL in a name or value would start a new header field (header injection);
they are refused before anything else is looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from postillon.message.address import contains_injection, has_control_chars
from postillon.message.errors import ValidationProblem

# Fields a caller may set besides X-*; their values are structured, so ASCII only.
STRUCTURED_ALLOWED = frozenset(
    {
        "in-reply-to",  # RFC 5322 §3.6.4 threading
        "references",
        "list-unsubscribe",  # RFC 2369 §3.2, RFC 8058
        "list-unsubscribe-post",
        "list-id",  # RFC 2919
        "list-help",
        "list-subscribe",
        "list-post",
        "list-owner",
        "list-archive",
        "auto-submitted",  # RFC 3834 §5
    }
)
# Unstructured fields a caller may set; non-ASCII becomes RFC 2047 encoded words.
UNSTRUCTURED_ALLOWED = frozenset({"keywords", "comments"})
RESERVED_PREFIX = "x-postillon-"

_USE_FIELD = "set it with the {} field, not in headers"
_OURS = "set by postillon"
_RECEIVERS = "added by relays and receivers, never by the sender"
# Well-known fields with the reason a caller may not set them.
FORBIDDEN = {
    "from": _USE_FIELD.format("from"),
    "to": _USE_FIELD.format("to"),
    "cc": _USE_FIELD.format("cc"),
    "bcc": _USE_FIELD.format("bcc"),
    "reply-to": _USE_FIELD.format("reply_to"),
    "subject": _USE_FIELD.format("subject"),
    "sender": _OURS,
    "date": _OURS,
    "message-id": _OURS,
    "mime-version": _OURS,
    "content-type": _OURS + " from text, html and attachments",
    "content-transfer-encoding": _OURS,
    "content-disposition": _OURS,
    "content-id": _OURS + "; use attachments[].content_id",
    "dkim-signature": _OURS + " (signed with the domain's key)",
    "return-path": _RECEIVERS,
    "received": _RECEIVERS,
    "authentication-results": _RECEIVERS,
    "arc-seal": _RECEIVERS,
    "arc-message-signature": _RECEIVERS,
    "arc-authentication-results": _RECEIVERS,
    "delivered-to": _RECEIVERS,
}

# RFC 5322 §3.6.8 field-name = 1*ftext, ftext = %d33-57 / %d59-126.
_FIELD_NAME = re.compile(r"[!-9;-~]+")
# "Name: " must leave room for a value on the first line (RFC 5322 §2.1.1, 78 recommended).
MAX_FIELD_NAME_CHARS = 76
# Values longer than this are not headers but payloads; the API should not carry them.
MAX_VALUE_CHARS = 4000
# A run without whitespace cannot be folded; it must fit one 998-octet line after "Name: ".
MAX_UNFOLDABLE_RUN = 900
# RFC 8058 §3.1: the only value List-Unsubscribe-Post may have.
ONE_CLICK_VALUE = "List-Unsubscribe=One-Click"


def check_headers(headers: Iterable[tuple[str, str]]) -> list[ValidationProblem]:
    """Every problem with the caller's extra headers, each naming ``headers.<Name>``."""
    problems: list[ValidationProblem] = []
    seen: set[str] = set()
    for name, value in headers:
        where = f"headers.{name}" if not contains_injection(name) else "headers"
        problem = _check_one(name, value)
        if problem is None and name.lower() in seen:
            problem = "is set twice (field names are case-insensitive)"
        if problem is not None:
            problems.append(ValidationProblem(where, problem))
        seen.add(name.lower())
    if "list-unsubscribe-post" in seen and "list-unsubscribe" not in seen:
        problems.append(
            ValidationProblem(
                "headers.List-Unsubscribe-Post", "needs a List-Unsubscribe field (RFC 8058 §3.1)"
            )
        )
    return problems


def is_structured(name: str) -> bool:
    """True for allowed fields whose value is structured (kept as ASCII, never encoded)."""
    return name.lower() in STRUCTURED_ALLOWED


def _check_one(name: str, value: str) -> str | None:
    if contains_injection(name):
        return f"field name {name!r} contains CR, LF or NUL (header injection)"
    if contains_injection(value):
        return "value contains CR, LF or NUL (header injection)"
    if not _FIELD_NAME.fullmatch(name) or len(name) > MAX_FIELD_NAME_CHARS:
        return "is not a valid field name (printable ASCII without ':' or spaces, 1-76 chars)"
    lower = name.lower()
    if lower in FORBIDDEN:
        return f"may not be set: {FORBIDDEN[lower]}"
    if lower.startswith(RESERVED_PREFIX):
        return "X-Postillon-* fields are reserved for postillon"
    allowed = lower.startswith("x-") or lower in STRUCTURED_ALLOWED | UNSTRUCTURED_ALLOWED
    if not allowed:
        return "is not an allowed field; allowed are X-*, " + ", ".join(
            sorted(STRUCTURED_ALLOWED | UNSTRUCTURED_ALLOWED)
        )
    return _check_value(lower, value)


def _check_value(lower_name: str, value: str) -> str | None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "value is not valid Unicode (lone surrogate)"
    if len(value) > MAX_VALUE_CHARS:
        return f"value is longer than {MAX_VALUE_CHARS} characters"
    if has_control_chars(value):
        return "value has control characters"
    if lower_name in STRUCTURED_ALLOWED:
        if not value.isascii():
            return "value must be ASCII (a structured field)"
        if any(len(run) > MAX_UNFOLDABLE_RUN for run in value.split()):
            return f"value has a word longer than {MAX_UNFOLDABLE_RUN} characters"
    if lower_name == "list-unsubscribe-post" and value.strip() != ONE_CLICK_VALUE:
        return f"must be {ONE_CLICK_VALUE!r} (RFC 8058 §3.1)"
    return None
