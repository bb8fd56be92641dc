"""The recipient status model: every status a recipient can be in and the moves between them.

Owns the one transition table (like h11's ``_state.py``): the store refuses any move that is not
listed here, so a late or duplicate outcome (a lease that expired while the SMTP session still
ran, a second node's answer) can never turn a delivered recipient back into a deferred one.
It must not do I/O, read the clock or know about SMTP replies (see :mod:`.outcome`).
"""

from __future__ import annotations

from enum import StrEnum

from postillon.events import EventType


class RecipientStatus(StrEnum):
    """Where one recipient of one message stands."""

    QUEUED = "queued"  # accepted, never tried (or scheduled for later)
    DEFERRED = "deferred"  # tried, failed temporarily, waiting for its next attempt
    DELIVERED = "delivered"  # the remote MX took responsibility (2xx to the final dot)
    BOUNCED = "bounced"  # permanently refused (5xx, NXDOMAIN, null MX ...)
    EXPIRED = "expired"  # deferred until the maximum queue lifetime ran out
    SUPPRESSED = "suppressed"  # on the account's suppression list: never attempted
    FAILED = "failed"  # reserved: a recipient that could not be attempted; nothing records it
    CANCELLED = "cancelled"  # the sender cancelled it while it waited: never sent, kept for history

    @property
    def is_active(self) -> bool:
        """True while the recipient still waits for an attempt (it can be claimed)."""
        return self in ACTIVE_STATUSES

    @property
    def is_final(self) -> bool:
        """True once nothing more will ever happen to the recipient."""
        return self not in ACTIVE_STATUSES


ACTIVE_STATUSES = frozenset({RecipientStatus.QUEUED, RecipientStatus.DEFERRED})

_FINAL = frozenset(
    {
        RecipientStatus.DELIVERED,
        RecipientStatus.BOUNCED,
        RecipientStatus.EXPIRED,
        RecipientStatus.SUPPRESSED,
        RecipientStatus.CANCELLED,
    }
)

# Rule: every allowed move is in this table; a final status has no way out.
# QUEUED -> SUPPRESSED covers an address suppressed between enqueue and the first attempt;
# DEFERRED -> DEFERRED is every further temporary failure. QUEUED/DEFERRED -> CANCELLED is the
# sender's cancel (the store applies it only to recipients no worker holds a lease on); as a final
# status it also refuses a late outcome from a worker whose lease ran out meanwhile.
TRANSITIONS: dict[RecipientStatus, frozenset[RecipientStatus]] = {
    RecipientStatus.QUEUED: frozenset({RecipientStatus.DEFERRED, *_FINAL}),
    RecipientStatus.DEFERRED: frozenset({RecipientStatus.DEFERRED, *_FINAL}),
    **{status: frozenset() for status in _FINAL},
    # Kept for the API's and the CLI's status filters, but no code path records it, so no
    # move leads there (and it has no event).
    RecipientStatus.FAILED: frozenset(),
}

# The status a new recipient can start in: suppressed ones are recorded at enqueue, never sent.
INITIAL_STATUSES = frozenset({RecipientStatus.QUEUED, RecipientStatus.SUPPRESSED})


def can_transition(current: RecipientStatus, new: RecipientStatus) -> bool:
    """Whether a recipient in ``current`` may move to ``new``."""
    return new in TRANSITIONS[current]


# Rule: a report that comes back by mail later (an RFC 3464 DSN from a hop after the MX that
# answered 250) is the one way out of a final status: DELIVERED becomes BOUNCED, recorded as
# asynchronous. Nothing else a report says moves a recipient.
LATE_TRANSITIONS: dict[RecipientStatus, frozenset[RecipientStatus]] = {
    RecipientStatus.DELIVERED: frozenset({RecipientStatus.BOUNCED}),
}


def can_transition_late(current: RecipientStatus, new: RecipientStatus) -> bool:
    """Whether a report received by mail may move a recipient from ``current`` to ``new``:
    a late bounce of a delivered recipient, or any move the live table allows."""
    return new in LATE_TRANSITIONS.get(current, frozenset()) or can_transition(current, new)


# The event announcing that a recipient reached a status: one for every status a recipient
# can start in or move to (tests hold the table to the transitions).
STATUS_EVENTS: dict[RecipientStatus, EventType] = {
    RecipientStatus.QUEUED: EventType.EMAIL_QUEUED,
    RecipientStatus.DEFERRED: EventType.EMAIL_DEFERRED,
    RecipientStatus.DELIVERED: EventType.EMAIL_DELIVERED,
    RecipientStatus.BOUNCED: EventType.EMAIL_BOUNCED,
    RecipientStatus.EXPIRED: EventType.EMAIL_EXPIRED,
    RecipientStatus.SUPPRESSED: EventType.EMAIL_SUPPRESSED,
    RecipientStatus.CANCELLED: EventType.EMAIL_CANCELLED,
}


def event_type_for(status: RecipientStatus) -> EventType:
    """The outbox event type announcing that a recipient reached ``status`` (``email.<status>``).
    Raises KeyError for a status no recipient can reach (``failed``)."""
    return STATUS_EVENTS[status]
