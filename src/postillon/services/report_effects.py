"""What a report received by mail does to the message its return path names.

Owns matching a read report to the message's recipients and the effects that follow:
a failed recipient of a DSN or prose bounce -> BOUNCED (late: even after DELIVERED), its bounce
class as for a bounce during delivery (queue.bounce), suppressed with reason ``bounce`` when
the class says the address is dead, ``email.bounced`` with ``async: true`` and the parsed
diagnostic; a delayed one -> ``email.delayed``; an ARF complaint -> ``email.complained`` and
suppression with reason ``complaint``; anything else (auto-replies, success notices, unknown
text) -> nothing. A report's address matches a recipient by Final-Recipient, then
Original-Recipient (compared in any case); a report naming one address that matches none,
about a message with a single recipient, is that recipient's (forwarding changes the final
address, and the return path already names the message). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from postillon.events import EventType
from postillon.queue.bounce import classify_bounce
from postillon.queue.status import RecipientStatus
from postillon.reports import Action, DsnRecipient, Report, ReportKind
from postillon.storage import suppression_list
from postillon.storage.reports_sql import (
    MessageRecipient,
    ReportEffect,
    ReturnPathMessage,
    complaint_effect,
)

# The ARF original's To header is read for at most this many addresses.
MAX_TO_ADDRESSES = 50


def _key(address: str | None) -> str:
    return (address or "").strip().strip("<>").lower()


def _base(message: ReturnPathMessage, recipient: MessageRecipient) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "recipient": recipient.address,
        "recipient_id": recipient.id,
        "tags": list(message.tags),
        "metadata": dict(message.metadata),
        "async": True,
    }


def _match(
    message: ReturnPathMessage, addresses: Sequence[str | None], *, sole: bool
) -> MessageRecipient | None:
    by_key = {_key(r.address): r for r in message.recipients}
    for address in addresses:
        found = by_key.get(_key(address))
        if found is not None:
            return found
    if sole and len(message.recipients) == 1:
        return message.recipients[0]
    return None


def _bounce(
    message: ReturnPathMessage, target: MessageRecipient, line: DsnRecipient, report: Report
) -> ReportEffect:
    bounce_class = classify_bounce(line.status, line.diagnostic)
    payload = {
        **_base(message, target),
        "bounce_class": bounce_class.value,
        "reply": {"code": line.smtp_code, "enhanced_code": line.status, "text": line.diagnostic},
        "final_recipient": line.address,
        "remote_mta": line.remote_mta,
        "reporting_mta": report.reporting_mta,
    }
    return ReportEffect(
        recipient_id=target.id,
        address=target.address,
        event_type=EventType.EMAIL_BOUNCED,
        payload=payload,
        new_status=RecipientStatus.BOUNCED,
        bounce_class=bounce_class.value,
        reply_code=line.smtp_code,
        enhanced_code=line.status,
        # As a reply is kept: the code in its own column, the text after it.
        reply_text=line.diagnostic[3:].strip(" -") if line.smtp_code else line.diagnostic,
        suppress_reason=suppression_list.BOUNCE if bounce_class.suppresses else None,
        suppress_detail=line.diagnostic or line.status,
    )


def _delay(
    message: ReturnPathMessage, target: MessageRecipient, line: DsnRecipient, report: Report
) -> ReportEffect:
    payload = {
        **_base(message, target),
        "reply": {"code": line.smtp_code, "enhanced_code": line.status, "text": line.diagnostic},
        "final_recipient": line.address,
        "reporting_mta": report.reporting_mta,
    }
    return ReportEffect(
        recipient_id=target.id,
        address=target.address,
        event_type=EventType.EMAIL_DELAYED,
        payload=payload,
    )


def _to_addresses(header: str | None) -> list[str]:
    if not header:
        return []
    found = []
    for piece in header.split(",")[:MAX_TO_ADDRESSES]:
        text = piece.strip()
        if "<" in text and ">" in text:
            text = text[text.index("<") + 1 : text.index(">")]
        if "@" in text:
            found.append(text)
    return found


def effects_for(report: Report, message: ReturnPathMessage) -> list[ReportEffect]:
    """The effects of ``report`` on ``message``'s recipients (one per recipient at most)."""
    effects: dict[str, ReportEffect] = {}
    if report.kind is ReportKind.COMPLAINT:
        addresses = [*report.complained_addresses, *_to_addresses(report.original.to)]
        target = _match(message, addresses, sole=True)
        if target is not None:
            effects[target.id] = complaint_effect(
                recipient_id=target.id,
                address=target.address,
                payload={**_base(message, target), "reporting_domain": report.reporting_mta},
                feedback_type=report.feedback_type or "other",
            )
        return list(effects.values())
    if report.kind not in (ReportKind.BOUNCE, ReportKind.DELAY):
        return []
    lines = [r for r in report.recipients if r.action in (Action.FAILED, Action.DELAYED)]
    for line in lines:
        target = _match(message, [line.address, line.original_recipient], sole=len(lines) == 1)
        if target is None or target.id in effects:
            continue
        make = _bounce if line.action is Action.FAILED else _delay
        effects[target.id] = make(message, target, line, report)
    return list(effects.values())


def summary_of(report: Report) -> dict[str, Any]:
    """What was read from a report, as kept beside it (JSON)."""
    return {
        "subject": report.subject,
        "feedback_type": report.feedback_type,
        "complained_addresses": list(report.complained_addresses),
        "reporting_mta": report.reporting_mta,
        "recipients": [
            {
                "address": r.address,
                "action": r.action.value,
                "status": r.status,
                "diagnostic": r.diagnostic,
                "remote_mta": r.remote_mta,
            }
            for r in report.recipients
        ],
        "original_message_id": report.original.message_id,
        "problems": list(report.problems),
    }
