"""The records of webhook storage: endpoints, claimed deliveries, the delivery log.

Owns plain frozen dataclasses the webhook tables are read into and written from. Secrets are
sealed bytes here (the webhooks package seals and opens them); event filters are the JSON
form (``"*"`` or a list of type names). It must not hold queries nor import the webhooks package
(storage sits below it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postillon.storage.records import JsonObject


class DeliveryState(enum.StrEnum):
    """Where one event stands for one endpoint."""

    PENDING = "pending"  # due at next_attempt_at (or being sent under a lease)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # given up (retries exhausted, payload refused, endpoint disabled)


@dataclass(frozen=True)
class EndpointRecord:
    """One registered endpoint as stored (``sealed_*`` are AES-GCM blobs, never plain keys)."""

    id: str
    account_id: str
    url: str
    event_filter: str | list[str]
    enabled: bool
    disabled_reason: str | None
    sealed_secret: bytes = field(repr=False)
    sealed_previous_secret: bytes | None = field(repr=False)
    previous_until: datetime | None
    failing_since: datetime | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EndpointChanges:
    """A partial update; None leaves a field as it is."""

    url: str | None = None
    event_filter: str | list[str] | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class ClaimedDelivery:
    """A due (endpoint, event) pair leased to one dispatcher, with what sending it needs."""

    endpoint: EndpointRecord
    event_id: str
    event_type: str
    event_created_at: datetime
    payload: JsonObject
    attempts: int  # attempts made before this one


@dataclass(frozen=True)
class AttemptLogEntry:
    """One attempt in the delivery log."""

    id: int
    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    status: int | None
    verdict: str
    latency_ms: int
    response_snippet: str
    error: str | None


@dataclass(frozen=True)
class DeliveryAttempt:
    """What the dispatcher records after one attempt (one commit).

    ``state`` is the delivery's new state; ``next_attempt_at`` is set for a retry. ``disable``
    carries the reason when the endpoint is to be disabled. ``succeeded`` drives the endpoint's
    health (cleared on success, counted on failure).
    """

    endpoint_id: str
    event_id: str
    event_type: str
    owner: str
    attempt: int
    attempted_at: datetime
    status: int | None
    verdict: str
    latency_ms: int
    response_snippet: str
    error: str | None
    state: DeliveryState
    succeeded: bool
    next_attempt_at: datetime | None = None
    disable: str | None = None


def endpoint_from_row(row: Any) -> EndpointRecord:
    """An :class:`EndpointRecord` from a ``webhook_endpoints`` row."""
    return EndpointRecord(
        id=row.id,
        account_id=row.account_id,
        url=row.url,
        event_filter=row.event_filter,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        sealed_secret=row.sealed_secret,
        sealed_previous_secret=row.sealed_previous_secret,
        previous_until=row.previous_until,
        failing_since=row.failing_since,
        consecutive_failures=row.consecutive_failures,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
