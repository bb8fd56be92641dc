"""What a report that came back by mail says, as frozen values.

Owns the vocabulary shared by the report readers: the kind of report (a bounce, a delay, a
complaint, an auto-reply to ignore ...), one recipient's lines of a delivery status notification
(RFC 3464 §2.3), the headers of the original message that the report quotes, and the report as a
whole. It must not parse anything (see :mod:`.dsn`, :mod:`.arf`, :mod:`.heuristics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ReportKind(StrEnum):
    """What a received report means for the recipient it names."""

    BOUNCE = "bounce"  # permanent failure (RFC 3464 Action: failed)
    DELAY = "delay"  # still trying (Action: delayed)
    DELIVERED = "delivered"  # a success DSN (Action: delivered / relayed / expanded): no effect
    COMPLAINT = "complaint"  # an ARF feedback report (RFC 5965)
    AUTO_REPLY = "auto_reply"  # out-of-office and other RFC 3834 responses: ignored
    UNKNOWN = "unknown"  # nothing recognisable: kept for a person to read


class Action(StrEnum):
    """RFC 3464 §2.3.3 Action field values."""

    FAILED = "failed"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    RELAYED = "relayed"
    EXPANDED = "expanded"


@dataclass(frozen=True)
class DsnRecipient:
    """One recipient's fields of a DSN (RFC 3464 §2.3), or what a plain-text bounce said of it.

    ``address`` is the Final-Recipient's address (lower-cased domain kept as given), or the
    address found in a non-standard bounce's text; ``status`` the RFC 3463 code (``5.1.1``);
    ``diagnostic`` the remote server's reply text, bounded.
    """

    address: str
    action: Action
    status: str | None = None
    diagnostic: str = ""
    original_recipient: str | None = None
    remote_mta: str | None = None

    @property
    def smtp_code(self) -> int | None:
        """The three-digit reply code at the start of the diagnostic, when there is one."""
        head = self.diagnostic[:3]
        return int(head) if head.isdigit() and head[0] in "245" else None


@dataclass(frozen=True)
class OriginalHeaders:
    """The headers of the message the report is about, as the report quotes them (a
    message/rfc822 or text/rfc822-headers part, RFC 3462 §2 / RFC 5965 §2)."""

    message_id: str | None = None
    from_: str | None = None
    to: str | None = None
    subject: str | None = None
    return_path: str | None = None


@dataclass(frozen=True)
class Report:
    """A received report, read.

    ``shape`` names how it was read: ``rfc3464``, ``arf``, ``rfc3834``, or the non-standard
    bounce shape recognised (``postfix``, ``exim``, ``qmail`` ...), or ``none``.
    ``feedback_type`` is the ARF Feedback-Type (``abuse``, ``fraud``, ``not-spam`` ...);
    ``complained_addresses`` the ARF Original-Rcpt-To addresses (often redacted, then empty).
    ``problems`` lists what was malformed or cut (the report is still kept).
    """

    kind: ReportKind
    shape: str
    recipients: tuple[DsnRecipient, ...] = ()
    original: OriginalHeaders = field(default_factory=OriginalHeaders)
    feedback_type: str | None = None
    complained_addresses: tuple[str, ...] = ()
    reporting_mta: str | None = None
    subject: str = ""
    problems: tuple[str, ...] = ()
