"""The rows of a domain's records table: what to publish beside what DNS holds, and the status
explained in words.

Pure (no I/O): turns the domain service's :class:`RecordView` into :class:`RecordRow`. Must
not decide a record's status (the domain service's check did).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from postillon.services.domain_views import NOT_CHECKED, RecordView

# What each record is for, as the page names it.
PURPOSE_LABELS = {
    "dkim": "DKIM key",
    "spf": "SPF (sending addresses)",
    "return_path": "Bounces (return path)",
    "dmarc": "DMARC policy",
}
# What a status means when the check said nothing more.
STATUS_TEXT = {
    NOT_CHECKED: "Not checked yet: publish the record, then press Verify now.",
    "verified": "DNS holds the expected value.",
    "missing": "DNS has no such record.",
    "mismatch": "DNS holds another value than the expected one.",
    "dns_error": "The DNS lookup failed; try again shortly.",
}


@dataclass(frozen=True)
class RecordRow:
    """One row: ``expected`` is the value to publish, ``found`` what DNS held at the last
    check, ``explanation`` what the status means (the check's own words when it gave any)."""

    purpose: str
    type: str
    name: str
    expected: str
    found: tuple[str, ...]
    status: str
    explanation: str
    required: bool
    is_checked: bool


def record_row(record: RecordView) -> RecordRow:
    """The row for ``record``."""
    default = STATUS_TEXT.get(record.status, record.status)
    return RecordRow(
        purpose=PURPOSE_LABELS.get(record.purpose, record.purpose),
        type=record.type,
        name=record.name,
        expected=record.value,
        found=record.found,
        status=record.status,
        explanation=record.problem or default,
        required=record.required,
        is_checked=record.status != NOT_CHECKED,
    )


def record_rows(records: Iterable[RecordView]) -> list[RecordRow]:
    """The rows for ``records``, in the order given (the order to publish them in)."""
    return [record_row(record) for record in records]
