"""Reports that come back by mail: delivery status notifications, complaints, auto-replies.

Pure (no I/O): bytes of a received message in, a :class:`Report` out.

- ``model``: the report's kinds and values.
- ``mime``: bounded MIME parsing and lenient decoding (hostile input).
- ``fields``: the field-block syntax of DSNs and ARF, RFC 3463 status codes.
- ``dsn``: RFC 3464 delivery-status parts.
- ``arf``: RFC 5965 feedback reports.
- ``autoreply``: RFC 3834 auto-replies, recognised to be ignored.
- ``heuristics``: non-standard bounces read from their prose.
- ``original``: the original message's headers as quoted.
- ``read``: :func:`read_report`, the order of recognition.
"""

from postillon.reports.model import Action, DsnRecipient, OriginalHeaders, Report, ReportKind
from postillon.reports.read import read_report, subject_of

__all__ = [
    "Action",
    "DsnRecipient",
    "OriginalHeaders",
    "Report",
    "ReportKind",
    "read_report",
    "subject_of",
]
