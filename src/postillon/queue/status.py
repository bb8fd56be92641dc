"""The recipient status model: every status a recipient can be in and the moves between them.

Owns the one transition table (like h11's ``_state.py``): the store refuses any move that is not
listed here, so a late or duplicate outcome (a lease that expired while the SMTP session still
ran, a second node's answer) can never turn a delivered recipient back into a deferred one.
It must not do I/O, read the clock or know about SMTP replies (see :mod:`.outcome`).
"""

from __future__ import annotations

from enum import StrEnum


class RecipientStatus(StrEnum):
    """Where one recipient of one message stands."""

    QUEUED = "queued"  # accepted, never tried (or scheduled for later)
    DEFERRED = "deferred"  # tried, failed temporarily, waiting for its next attempt
    DELIVERED = "delivered"  # the remote MX took responsibility (2xx to the final dot)
    BOUNCED = "bounced"  # permanently refused (5xx, NXDOMAIN, null MX ...)
    EXPIRED = "expired"  # deferred until the maximum queue lifetime ran out
    SUPPRESSED = "suppressed"  # on the account's suppression list: never attempted
    FAILED = "failed"  # could not be attempted at all (broken data, account gone)
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
        RecipientStatus.FAILED,
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


def event_type_for(status: RecipientStatus) -> str:
    """The outbox event type announcing that a recipient reached ``status`` (``email.<status>``)."""
    return f"email.{status.value}"
