"""The ``Retry-After`` response header (RFC 9110 §10.2.3), parsed (pure).

Owns turning ``Retry-After: 120`` or ``Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`` into seconds
from now, never negative. It must not decide how much of the wait to honour (``retry.py``).
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

# A header longer than this is not a delay or an HTTP-date (the IMF-fixdate is 29 characters).
MAX_RETRY_AFTER_CHARS = 64


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from ``now`` (aware), or None if the header is absent or malformed.

    RFC 9110 §10.2.3: ``Retry-After = HTTP-date / delay-seconds``; a date in the past means 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > MAX_RETRY_AFTER_CHARS:
        return None
    if text.isascii() and text.isdigit():  # delay-seconds = 1*DIGIT
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 §5.6.7: HTTP-dates are always GMT; "-0000" parses as naive.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
