"""RFC 3464 delivery status notifications: multipart/report; report-type=delivery-status.

Owns reading the machine-readable part (message/delivery-status, or RFC 6533's
message/global-delivery-status): the per-message fields (Reporting-MTA) and, per recipient,
Final-Recipient, Original-Recipient, Action, Status, Remote-MTA and Diagnostic-Code
(RFC 3464 §2.2, §2.3). The report's kind follows the recipients' actions: any ``failed`` makes
it a bounce, else any ``delayed`` a delay, else a success notice.
It must not guess from prose (see :mod:`.heuristics`) nor do I/O.
"""

from __future__ import annotations

from email.message import Message

from postillon.reports import fields, mime
from postillon.reports.model import Action, DsnRecipient, ReportKind

# Recipients read from one DSN: an MTA reports at most the recipients of one transaction
# (Postfix and our own limit: 100 per transaction); more is not a report we sent for.
MAX_RECIPIENTS = 100
# The diagnostic kept per recipient: a reply of a few lines.
MAX_DIAGNOSTIC_CHARS = 1000

STATUS_TYPES = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "text/delivery-status"}
)

# RFC 3464 §2.3.4: a status of class 5 is a permanent failure, 4 a persistent transient one;
# used when an MTA leaves Action out or writes something else there.
_BY_STATUS_CLASS = {"5": Action.FAILED, "4": Action.DELAYED, "2": Action.DELIVERED}


def status_part(message: Message) -> Message | None:
    """The first delivery-status part, or None."""
    for part in mime.walk(message):
        if mime.content_type(part) in STATUS_TYPES:
            return part
    return None


def _action(block: fields.Block, status: str | None) -> Action | None:
    word = (block.get("action") or "").split("(")[0].strip().lower()
    try:
        return Action(word)
    except ValueError:
        return _BY_STATUS_CLASS.get(status[0]) if status else None


def recipients(part: Message) -> tuple[str | None, tuple[DsnRecipient, ...], list[str]]:
    """The Reporting-MTA, the recipients of a delivery-status part and the problems found
    (a block without a Final-Recipient, an unknown action), in order."""
    found = fields.blocks(mime.raw_text_of(part))
    problems: list[str] = []
    reporting_mta = None
    if found and "final-recipient" not in found[0]:
        reporting_mta = fields.typed_value(found[0].get("reporting-mta"))
        found = found[1:]
    result: list[DsnRecipient] = []
    for block in found:
        if len(result) >= MAX_RECIPIENTS:
            problems.append(f"more than {MAX_RECIPIENTS} recipients; the rest were not read")
            break
        address = fields.address_value(block.get("final-recipient")) or fields.address_value(
            block.get("original-recipient")
        )
        if address is None:
            problems.append("a recipient block without a Final-Recipient address")
            continue
        diagnostic = fields.typed_value(block.get("diagnostic-code")) or ""
        status = fields.status_code(block.get("status")) or fields.status_code(diagnostic)
        action = _action(block, status)
        if action is None:
            problems.append(f"recipient {address}: no usable Action or Status")
            continue
        result.append(
            DsnRecipient(
                address=address,
                action=action,
                status=status,
                diagnostic=diagnostic[:MAX_DIAGNOSTIC_CHARS],
                original_recipient=fields.address_value(block.get("original-recipient")),
                remote_mta=fields.typed_value(block.get("remote-mta")),
            )
        )
    return reporting_mta, tuple(result), problems


def kind_of(found: tuple[DsnRecipient, ...]) -> ReportKind:
    """Bounce if any recipient failed, else delay if any is delayed, else delivered; a DSN
    with no readable recipient is UNKNOWN."""
    actions = {r.action for r in found}
    if Action.FAILED in actions:
        return ReportKind.BOUNCE
    if Action.DELAYED in actions:
        return ReportKind.DELAY
    return ReportKind.DELIVERED if found else ReportKind.UNKNOWN
