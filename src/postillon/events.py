"""Event types: the one list of the ``type`` strings an event can carry (a public contract).

Owns the names only: storage writes them into the outbox (a recipient's status change, a
complaint, an unsubscribe), services write the domain ones, webhooks filter and send them, the
API and the dashboard offer them to subscribe to. It sits in the core layer so that every one
of those can import it. It must not build payloads or know where an event goes.
"""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    """Every event a customer can subscribe to (hierarchical, full-stop delimited, as the
    Standard Webhooks spec's "Event types" recommends)."""

    # A recipient reached a status (queue/status.py maps each status to its event).
    EMAIL_QUEUED = "email.queued"
    EMAIL_DELIVERED = "email.delivered"
    EMAIL_DEFERRED = "email.deferred"
    EMAIL_BOUNCED = "email.bounced"
    EMAIL_EXPIRED = "email.expired"
    EMAIL_SUPPRESSED = "email.suppressed"
    EMAIL_CANCELLED = "email.cancelled"
    # Reported by mail after delivery (the return path): a delayed DSN, an ARF complaint; and
    # a recipient's one-click unsubscribe (RFC 8058).
    EMAIL_DELAYED = "email.delayed"
    EMAIL_COMPLAINED = "email.complained"
    EMAIL_UNSUBSCRIBED = "email.unsubscribed"
    # A sender domain's verification changed.
    DOMAIN_VERIFIED = "domain.verified"
    DOMAIN_DNS_FAILED = "domain.dns_failed"


# Names that were once offered and are produced by nothing: an endpoint stored with one keeps
# working (the name matches no event) instead of failing to parse. ``email.failed`` was
# listed for a recipient status no code path records.
RETIRED_EVENT_TYPES = frozenset({"email.failed"})
