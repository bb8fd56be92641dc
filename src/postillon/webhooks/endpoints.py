"""Registered endpoints as the rest of webhooks/ sees them: views, rings and filters.

Owns turning a stored :class:`~postillon.storage.webhook_records.EndpointRecord` into what an
attempt needs (:class:`~postillon.webhooks.attempt.Endpoint`, its sealed secrets opened into a
:class:`~postillon.webhooks.secret.SecretRing`) and into what a customer may see
(:class:`EndpointView`: everything but the secrets).
It must not do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from postillon.events import EventType
from postillon.storage.webhook_records import EndpointRecord
from postillon.webhooks.attempt import Endpoint
from postillon.webhooks.errors import InvalidFilterError
from postillon.webhooks.filters import EventFilter
from postillon.webhooks.retry import EndpointHealth
from postillon.webhooks.secret import SecretRing
from postillon.webhooks.secret_box import SecretBox


@dataclass(frozen=True)
class EndpointView:
    """An endpoint without its secrets: what the API and the dashboard show."""

    id: str
    account_id: str
    url: str
    event_filter: EventFilter
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    consecutive_failures: int
    previous_secret_until: datetime | None  # the rotation overlap's end, if one is running
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EndpointWithSecret:
    """A created (or rotated) endpoint and its new ``whsec_`` secret: shown this once only."""

    endpoint: EndpointView
    secret: str


def view_of(record: EndpointRecord, now: datetime) -> EndpointView:
    """The public view of ``record`` (an overlap that has ended is not shown)."""
    until = record.previous_until
    return EndpointView(
        id=record.id,
        account_id=record.account_id,
        url=record.url,
        event_filter=EventFilter.parse(record.event_filter),
        enabled=record.enabled,
        disabled_reason=record.disabled_reason,
        failing_since=record.failing_since,
        consecutive_failures=record.consecutive_failures,
        previous_secret_until=until if until is not None and until > now else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def ring_of(record: EndpointRecord, box: SecretBox) -> SecretRing:
    """The endpoint's secrets, opened. Raises InvalidSecretError if one does not open."""
    current = box.open(record.id, record.sealed_secret)
    if record.sealed_previous_secret is None or record.previous_until is None:
        return SecretRing(current)
    previous = box.open(record.id, record.sealed_previous_secret)
    return SecretRing(current, previous, record.previous_until)


def endpoint_of(record: EndpointRecord, box: SecretBox) -> Endpoint:
    """What an attempt needs. Raises InvalidSecretError or InvalidFilterError."""
    return Endpoint(
        id=record.id,
        url=record.url,
        secrets=ring_of(record, box),
        event_filter=EventFilter.parse(record.event_filter),
        enabled=record.enabled,
    )


def health_of(record: EndpointRecord) -> EndpointHealth:
    """The endpoint's consecutive failures, as the retry rules take them."""
    return EndpointHealth(record.failing_since, record.consecutive_failures)


def wants(record: EndpointRecord, event_type: str) -> bool:
    """True if ``record`` is enabled and its filter takes ``event_type`` (unknown: False)."""
    try:
        kind = EventType(event_type)
        event_filter = EventFilter.parse(record.event_filter)
    except (ValueError, InvalidFilterError):
        return False
    return record.enabled and event_filter.matches(kind)
