"""Reading one received report: bytes in, a :class:`~postillon.reports.model.Report` out.

Owns the order of recognition: an ARF feedback report (RFC 5965), then an RFC 3464 DSN, then
an auto-reply (RFC 3834; recognised before prose bounces so an out-of-office notice is never a
bounce, after DSNs because MTAs mark their DSNs ``Auto-Submitted`` too), then a non-standard
bounce read from its text, else UNKNOWN. Never raises: hostile or broken input gives an
UNKNOWN report naming the problem. It must not do I/O or decide effects on recipients.
"""

from __future__ import annotations

import re
from email.message import Message

from postillon.reports import arf, autoreply, dsn, heuristics, mime, original
from postillon.reports.model import OriginalHeaders, Report, ReportKind

_TAGS = re.compile(r"<[^>]{0,2000}>")
_HTML_TYPES = frozenset({"text/html"})


def _human_text(message: Message) -> str:
    """The report's own text parts joined (not those of a quoted original message); HTML only
    when there is no plain text, with its tags dropped."""
    plain: list[str] = []
    html: list[str] = []
    stack = [message]
    seen = 0
    while stack and seen < mime.MAX_PARTS:
        part = stack.pop()
        seen += 1
        kind = mime.content_type(part)
        if kind.startswith("message/") and part is not message:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
        elif kind == "text/plain":
            plain.append(mime.text_of(part))
        elif kind in _HTML_TYPES:
            html.append(_TAGS.sub(" ", mime.text_of(part)))
    return "\n".join(plain or html)[: mime.MAX_TEXT_CHARS]


def read_report(data: bytes) -> Report:
    """Read a report received by mail (the DATA of one transaction)."""
    try:
        message, cut = mime.parse(data)
    except mime.TooDeepError as exc:
        return Report(kind=ReportKind.UNKNOWN, shape="none", problems=(str(exc),))
    problems = [f"only the first {mime.MAX_PARSED_BYTES} octets were read"] if cut else []
    subject = mime.header(message, "Subject") or ""
    quoted = original.from_parts(message)
    feedback = arf.feedback_part(message)
    if feedback is not None:
        feedback_type, rcpts, domain, found = arf.read(feedback)
        kind = ReportKind.COMPLAINT if feedback_type in arf.COMPLAINT_TYPES else ReportKind.UNKNOWN
        return Report(
            kind=kind,
            shape="arf",
            original=quoted or OriginalHeaders(),
            feedback_type=feedback_type,
            complained_addresses=rcpts,
            reporting_mta=domain,
            subject=subject,
            problems=(*problems, *found),
        )
    status = dsn.status_part(message)
    if status is not None:
        reporting_mta, recipients, found = dsn.recipients(status)
        return Report(
            kind=dsn.kind_of(recipients),
            shape="rfc3464",
            recipients=recipients,
            original=quoted or OriginalHeaders(),
            reporting_mta=reporting_mta,
            subject=subject,
            problems=(*problems, *found),
        )
    text = _human_text(message)
    from_header = mime.header(message, "From") or ""
    is_daemon = heuristics.looks_like_bounce(from_header, subject, "")
    if autoreply.is_auto_reply(message) and not is_daemon:
        return Report(kind=ReportKind.AUTO_REPLY, shape="rfc3834", subject=subject)
    if is_daemon or heuristics.looks_like_bounce(from_header, subject, text):
        marker = original.marker_index(text)
        own_text = text if marker is None else text[:marker]
        quoted = quoted or (original.from_text(text[marker:]) if marker is not None else None)
        still_trying = heuristics.is_still_trying(subject, own_text)
        recipients = heuristics.recipients(own_text, still_trying=still_trying)
        if not recipients:
            problems.append("a bounce that names no recipient address")
        kind = dsn.kind_of(recipients) if recipients else ReportKind.BOUNCE
        if not recipients and still_trying:
            kind = ReportKind.DELAY
        return Report(
            kind=kind,
            shape=heuristics.shape_of(own_text) or "generic",
            recipients=recipients,
            original=quoted or OriginalHeaders(),
            subject=subject,
            problems=tuple(problems),
        )
    return Report(
        kind=ReportKind.UNKNOWN,
        shape="none",
        original=quoted or OriginalHeaders(),
        subject=subject,
        problems=tuple(problems),
    )


def subject_of(data: bytes) -> str:
    """The decoded Subject of a received message ("" when absent or unreadable)."""
    try:
        message, _ = mime.parse(data)
    except mime.TooDeepError:
        return ""
    return mime.header(message, "Subject") or ""
