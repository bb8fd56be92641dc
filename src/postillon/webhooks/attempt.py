"""One delivery attempt of one event to one endpoint: sign, send, decide.

Owns gluing the pure parts to the sender: the signing timestamp is the attempt's (each retry is
signed afresh, the webhook-id stays the event's id, per the spec's "Webhook metadata"), the
secrets are those the endpoint's ring has in force at that moment (both during a rotation), and
the verdict comes from the :class:`~postillon.webhooks.retry.RetryPolicy`.
It must not read or write the store: the caller records the result, the decision and the
endpoint's new health (and disables the endpoint when told to), then schedules the retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from postillon.clock import Clock
from postillon.webhooks.events import WebhookEvent
from postillon.webhooks.filters import EventFilter
from postillon.webhooks.result import DeliveryResult
from postillon.webhooks.retry import Decision, EndpointHealth, Random, RetryPolicy
from postillon.webhooks.secret import SecretRing
from postillon.webhooks.sender import WebhookSender
from postillon.webhooks.signing import unix_seconds, webhook_headers


@dataclass(frozen=True)
class Endpoint:
    """What an attempt needs to know about a registered endpoint."""

    id: str
    url: str
    secrets: SecretRing
    event_filter: EventFilter = field(default_factory=EventFilter)
    enabled: bool = True

    def wants(self, event: WebhookEvent) -> bool:
        """True if this endpoint is enabled and its filter takes ``event``'s type."""
        return self.enabled and self.event_filter.matches(event.type)


@dataclass(frozen=True)
class AttemptOutcome:
    """What happened (for the delivery log) and what to do next."""

    result: DeliveryResult
    decision: Decision


async def attempt_delivery(
    sender: WebhookSender,
    endpoint: Endpoint,
    event: WebhookEvent,
    *,
    attempt: int,
    health: EndpointHealth,
    policy: RetryPolicy,
    clock: Clock,
    random: Random,
) -> AttemptOutcome:
    """Sign ``event`` for ``endpoint`` now, send it, and judge attempt number ``attempt``.

    Sends even to a disabled endpoint or an unmatched type (a replay or a test event may); the
    caller filters with :meth:`Endpoint.wants`.
    """
    now = clock.now()
    body = event.body()
    headers = webhook_headers(
        endpoint.secrets.signing_secrets(now), event.id, unix_seconds(now), body
    )
    result = await sender.send(endpoint.url, body, headers)
    return AttemptOutcome(result, policy.decide(attempt, result, health, random))
