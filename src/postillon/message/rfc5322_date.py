"""The RFC 5322 §3.3 date-time, written without the locale (strftime's %a/%b are localised).

Owns :func:`format_date`. Must not read the clock; the caller passes the time.
"""

from __future__ import annotations

from datetime import UTC, datetime

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(moment: datetime) -> str:
    """``moment`` (timezone-aware) as ``Sun, 29 Nov 2026 04:03:18 +0000``, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("a Date header needs a timezone-aware time")
    utc = moment.astimezone(UTC)
    return (
        f"{_DAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} +0000"
    )
