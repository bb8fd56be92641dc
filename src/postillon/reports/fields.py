"""The field blocks of a delivery-status or feedback-report body, and the values in them.

Owns the syntax both report formats share: blocks of ``Name: value`` fields separated by blank
lines (RFC 3464 §2.1, RFC 5965 §3.1), continuation lines folded in, names compared in any case;
``type; value`` fields (``rfc822; bob@example.net``, ``smtp; 550 5.1.1 ...``, RFC 3464 §2.3.2
and §2.3.6); and RFC 3463 status codes. It must not decide what a report means.
"""

from __future__ import annotations

import re

# Field blocks kept: one per-message block plus one per recipient; a DSN for more recipients
# than this is cut (MAX_RECIPIENTS in dsn.py is smaller still).
MAX_BLOCKS = 1000
# One field value, after unfolding: a Diagnostic-Code carries a multi-line reply at most.
MAX_VALUE_CHARS = 2000

Block = dict[str, str]

# RFC 3463 §2: class "." subject "." detail, subject and detail 1 to 3 digits; not part of a
# longer dotted number (an IPv4 address "10.2.3.4" holds no status).
_STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")


def blocks(text: str) -> list[Block]:
    """The field blocks of ``text``; field names lower case, a repeated field keeps its first
    value, lines that are not fields are skipped."""
    result: list[Block] = []
    current: Block = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                result.append(current)
                if len(result) >= MAX_BLOCKS:
                    return result
            current, last = {}, None
            continue
        if line[0] in " \t" and last is not None:
            current[last] = (current[last] + " " + line.strip())[:MAX_VALUE_CHARS]
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or " " in name.strip():
            last = None
            continue
        key = name.strip().lower()
        last = key if key not in current else None
        if last is not None:
            current[key] = value.strip()[:MAX_VALUE_CHARS]
    if current:
        result.append(current)
    return result


def typed_value(value: str | None) -> str | None:
    """The value of a ``type; value`` field (the type dropped), or the whole text when it has
    no type; None for None or an empty value."""
    if value is None:
        return None
    kind, semicolon, rest = value.partition(";")
    text = (rest if semicolon and " " not in kind.strip() else value).strip()
    return text or None


def address_value(value: str | None) -> str | None:
    """The address of a Final-Recipient / Original-Recipient / Original-Rcpt-To field, without
    angle brackets; None when it holds no ``@``."""
    text = typed_value(value)
    if text is None:
        return None
    text = text.strip().strip("<>").strip()
    return text if "@" in text and " " not in text else None


def status_code(text: str | None) -> str | None:
    """The first RFC 3463 status code in ``text`` (``5.1.1``), leading zeros dropped."""
    if not text:
        return None
    match = _STATUS.search(text)
    if match is None:
        return None
    return f"{match.group(1)}.{int(match.group(2))}.{int(match.group(3))}"
