"""The webhook endpoint use cases the HTTP routes call: register, list, change, rotate, replay.

Owns the rules around the endpoint table: a URL is vetted by the SSRF guard (resolved, every
address checked) at registration and at every change, as it is again at every send; a new
endpoint gets a fresh ``whsec_`` secret that is returned once and stored only sealed; a rotation
keeps the old secret signing for the overlap; a replay queues a stored event for one endpoint
again (the dispatcher sends it, with retries); a test event is sent at once and its result
returned (and logged), without retries.
It must not speak HTTP to the customer (api/ does) nor run the dispatch loop (dispatcher.py).
"""

from __future__ import annotations

import builtins
import secrets as _system_secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from postillon.clock import Clock
from postillon.errors import PostillonError
from postillon.events import EventType
from postillon.storage.webhook_deliveries_sql import SqlWebhookDeliveries
from postillon.storage.webhook_records import (
    AttemptLogEntry,
    DeliveryAttempt,
    DeliveryState,
    EndpointChanges,
    EndpointRecord,
)
from postillon.storage.webhooks_sql import SqlWebhookEndpoints
from postillon.webhooks.attempt import attempt_delivery
from postillon.webhooks.endpoint_errors import (
    EndpointNotFoundError,
    EventNotFoundError,
    TooManyEndpointsError,
    UnresolvableHostError,
)
from postillon.webhooks.endpoints import EndpointView, EndpointWithSecret, endpoint_of, view_of
from postillon.webhooks.events import WebhookEvent, new_event_id
from postillon.webhooks.filters import ALL_EVENTS, EventFilter
from postillon.webhooks.guard import AddressResolver, TargetGuard
from postillon.webhooks.result import DeliveryResult
from postillon.webhooks.retry import EndpointHealth, RetryPolicy
from postillon.webhooks.secret import ROTATION_OVERLAP, RandomBytes, generate_secret
from postillon.webhooks.secret_box import SecretBox
from postillon.webhooks.sender import WebhookSender

# Endpoints one account may register: each receives its own copy of every event it wants, so
# the fan-out per event is bounded (Stripe allows 16; several event types share one endpoint).
MAX_ENDPOINTS_PER_ACCOUNT = 20
# What a test event carries: the shape of a delivery event, marked as a test.
TEST_EVENT_DATA: dict[str, Any] = {
    "test": True,
    "message_id": "test",
    "recipient": "test@example.com",
    "attempt": 1,
    "tags": [],
    "metadata": {},
}


class WebhookService:
    """Endpoints of every account, over the webhook tables."""

    def __init__(
        self,
        *,
        endpoints: SqlWebhookEndpoints,
        deliveries: SqlWebhookDeliveries,
        guard: TargetGuard,
        resolver: AddressResolver,
        sender: WebhookSender,
        box: SecretBox,
        clock: Clock,
        random_bytes: RandomBytes = _system_secrets.token_bytes,
        wake_dispatcher: Callable[[], None] | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._deliveries = deliveries
        self._guard = guard
        self._resolver = resolver
        self._sender = sender
        self._box = box
        self._clock = clock
        self._random_bytes = random_bytes
        self._wake = wake_dispatcher or (lambda: None)

    async def _vet(self, url: str) -> None:
        try:
            await self._guard.resolve_and_vet(url, self._resolver)
        except PostillonError as exc:
            if exc.is_transient:
                raise UnresolvableHostError(f"cannot resolve the host of {url[:200]!r}") from exc
            raise
        except OSError as exc:
            raise UnresolvableHostError(f"cannot resolve the host of {url[:200]!r}") from exc

    async def _record(self, account_id: str, endpoint_id: str) -> EndpointRecord:
        record = await self._endpoints.get(account_id, endpoint_id)
        if record is None:
            raise EndpointNotFoundError(f"no webhook endpoint {endpoint_id!r}")
        return record

    async def create(
        self,
        account_id: str,
        url: str,
        event_filter: str | Iterable[str] = ALL_EVENTS,
        *,
        enabled: bool = True,
    ) -> EndpointWithSecret:
        """Register ``url``; returns the endpoint and its secret (shown only now).

        Raises UnsafeTargetError (refused by the SSRF guard), UnresolvableHostError (temporary),
        InvalidFilterError, TooManyEndpointsError.
        """
        parsed = EventFilter.parse(event_filter)
        await self._vet(url)
        now = self._clock.now()
        endpoint_id = self._endpoints.new_id()
        secret = generate_secret(self._random_bytes)
        record = EndpointRecord(
            id=endpoint_id,
            account_id=account_id,
            url=url,
            event_filter=parsed.as_json(),
            enabled=enabled,
            disabled_reason=None,
            sealed_secret=self._box.seal(endpoint_id, secret),
            sealed_previous_secret=None,
            previous_until=None,
            failing_since=None,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
        if not await self._endpoints.create(record, max_per_account=MAX_ENDPOINTS_PER_ACCOUNT):
            raise TooManyEndpointsError(
                f"an account may have at most {MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints;"
                " delete one, or send several event types to one endpoint"
            )
        return EndpointWithSecret(view_of(record, now), str(secret))

    async def list(self, account_id: str) -> list[EndpointView]:
        """The account's endpoints, oldest first."""
        now = self._clock.now()
        return [view_of(record, now) for record in await self._endpoints.list(account_id)]

    async def get(self, account_id: str, endpoint_id: str) -> EndpointView:
        """One endpoint. Raises EndpointNotFoundError."""
        return view_of(await self._record(account_id, endpoint_id), self._clock.now())

    async def update(
        self,
        account_id: str,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_filter: str | Iterable[str] | None = None,
        enabled: bool | None = None,
    ) -> EndpointView:
        """Change the URL (vetted again), the filter, or enable/disable it.

        Enabling a disabled endpoint clears its failure record. Raises EndpointNotFoundError,
        UnsafeTargetError, UnresolvableHostError, InvalidFilterError.
        """
        parsed = None if event_filter is None else EventFilter.parse(event_filter).as_json()
        if url is not None:
            await self._vet(url)
        changes = EndpointChanges(url=url, event_filter=parsed, enabled=enabled)
        record = await self._endpoints.update(account_id, endpoint_id, changes, self._clock.now())
        if record is None:
            raise EndpointNotFoundError(f"no webhook endpoint {endpoint_id!r}")
        if enabled:
            self._wake()
        return view_of(record, self._clock.now())

    async def delete(self, account_id: str, endpoint_id: str) -> None:
        """Delete the endpoint with its delivery state and log. Raises EndpointNotFoundError."""
        if not await self._endpoints.delete(account_id, endpoint_id):
            raise EndpointNotFoundError(f"no webhook endpoint {endpoint_id!r}")

    async def rotate_secret(
        self, account_id: str, endpoint_id: str, *, overlap: timedelta = ROTATION_OVERLAP
    ) -> EndpointWithSecret:
        """A new secret (returned once); the old one keeps signing beside it for ``overlap``.

        A second rotation inside the overlap drops the oldest secret. Raises
        EndpointNotFoundError.
        """
        await self._record(account_id, endpoint_id)
        secret = generate_secret(self._random_bytes)
        now = self._clock.now()
        sealed = self._box.seal(endpoint_id, secret)
        if not await self._endpoints.rotate(account_id, endpoint_id, sealed, now + overlap, now):
            raise EndpointNotFoundError(f"no webhook endpoint {endpoint_id!r}")
        return EndpointWithSecret(await self.get(account_id, endpoint_id), str(secret))

    async def delivery_log(
        self, account_id: str, endpoint_id: str, *, limit: int = 50, before_id: int | None = None
    ) -> builtins.list[AttemptLogEntry]:
        """The endpoint's attempts, newest first. Raises EndpointNotFoundError."""
        await self._record(account_id, endpoint_id)
        return await self._deliveries.log(endpoint_id, limit=limit, before_id=before_id)

    async def replay(self, account_id: str, endpoint_id: str, event_id: str) -> None:
        """Send the account's event ``event_id`` to the endpoint again (same webhook-id, a
        fresh retry schedule), whatever its filter. Raises EndpointNotFoundError,
        EventNotFoundError."""
        await self._record(account_id, endpoint_id)
        event = await self._deliveries.get_event(account_id, event_id)
        if event is None:
            raise EventNotFoundError(f"no event {event_id!r}")
        await self._deliveries.replay(endpoint_id, event, self._clock.now())
        self._wake()

    async def send_test(
        self,
        account_id: str,
        endpoint_id: str,
        event_type: EventType = EventType.EMAIL_DELIVERED,
    ) -> DeliveryResult:
        """Send a signed test event (``data.test`` is true) now, once; log and return the result.

        Sent even to a disabled endpoint (to check it before enabling it again); it does not
        change the endpoint's health. Raises EndpointNotFoundError.
        """
        record = await self._record(account_id, endpoint_id)
        now = self._clock.now()
        event = WebhookEvent(new_event_id(self._random_bytes), event_type, now, TEST_EVENT_DATA)
        outcome = await attempt_delivery(
            self._sender,
            endpoint_of(record, self._box),
            event,
            attempt=1,
            health=EndpointHealth(),
            policy=RetryPolicy(),
            clock=self._clock,
            random=lambda: 0.0,
        )
        result = outcome.result
        await self._deliveries.log_only(
            DeliveryAttempt(
                endpoint_id=endpoint_id,
                event_id=event.id,
                event_type=event.type.value,
                owner="",
                attempt=1,
                attempted_at=result.attempted_at,
                status=result.status,
                verdict="test",
                latency_ms=result.latency_ms,
                response_snippet=result.snippet,
                error=result.error,
                state=DeliveryState.DELIVERED if result.is_success else DeliveryState.FAILED,
                succeeded=result.is_success,
            )
        )
        return result
