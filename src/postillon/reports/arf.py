"""RFC 5965 Abuse Reporting Format: feedback-loop complaints.

Owns reading a multipart/report; report-type=feedback-report: its message/feedback-report part
(Feedback-Type, User-Agent, Version, Original-Mail-From, Original-Rcpt-To, Reported-Domain,
Source-IP; RFC 5965 §3.1-3.2). Original-Rcpt-To is often redacted by the mailbox provider; the
complained-about recipient is then found from the return-path tag or the original's To header
by the caller. It must not decide what a complaint does to a recipient, nor do I/O.
"""

from __future__ import annotations

from email.message import Message

from postillon.reports import fields, mime

FEEDBACK_TYPES = frozenset({"message/feedback-report"})
# RFC 5965 §7.3 registry: abuse, fraud, other, virus; RFC 6650 §3 not-spam, RFC 6591 auth-failure.
KNOWN_FEEDBACK_TYPES = frozenset({"abuse", "fraud", "other", "virus", "not-spam", "auth-failure"})
# Feedback-types that are a person's complaint about the mail (a reason to stop sending):
# not-spam is the opposite, auth-failure is a DMARC failure report, not a person's choice.
COMPLAINT_TYPES = frozenset({"abuse", "fraud", "other", "virus"})
# Original-Rcpt-To fields read (RFC 5965 §3.2 allows it repeated, once per recipient).
MAX_RCPT_FIELDS = 100


def feedback_part(message: Message) -> Message | None:
    """The first message/feedback-report part, or None."""
    for part in mime.walk(message):
        if mime.content_type(part) in FEEDBACK_TYPES:
            return part
    return None


def read(part: Message) -> tuple[str, tuple[str, ...], str | None, list[str]]:
    """The Feedback-Type (lower case; ``other`` when missing), the Original-Rcpt-To
    addresses, the Reported-Domain and the problems found."""
    problems: list[str] = []
    text = mime.raw_text_of(part)
    found = fields.blocks(text)
    block = found[0] if found else {}
    feedback_type = (block.get("feedback-type") or "").strip().lower()
    if not feedback_type:
        problems.append("no Feedback-Type; taken as 'other'")
        feedback_type = "other"
    elif feedback_type not in KNOWN_FEEDBACK_TYPES:
        problems.append(f"unknown Feedback-Type {feedback_type!r}")
    rcpts: list[str] = []
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() == "original-rcpt-to":
            address = fields.address_value(value)
            if address is not None and address not in rcpts:
                rcpts.append(address)
            if len(rcpts) >= MAX_RCPT_FIELDS:
                break
    domain = fields.typed_value(block.get("reported-domain"))
    return feedback_type, tuple(rcpts), domain, problems
