"""The webhook dispatcher: outbox events out to the customers' endpoints, at least once.

Owns the dispatch cycle of one node, in two leased steps so several nodes share the work and
each attempt is made by one of them:

1. **Fan-out.** Claim outbox events (``Store.claim_events``, leased), and in one commit queue one
   delivery per enabled endpoint of the event's account whose filter takes its type, and mark
   the events dispatched. A node that dies before that commit leaves the lease to run out.
2. **Send.** Claim due deliveries (leased), send each (Standard Webhooks headers, signed with
   every secret of the endpoint's ring in force, to the address the SSRF guard vetted), then in
   one commit: log the attempt, set the delivery's state from the
   :class:`~postillon.webhooks.retry.RetryPolicy` verdict (delivered, retry at a time that honours
   Retry-After, failed), update the endpoint's health, and disable it on 410 or prolonged failure
   with the reason. A node that dies mid-send leaves the lease to run out: the attempt is made
   again (at-least-once; the receiver dedupes on ``webhook-id``).

**Causal order per recipient, per endpoint.** Every delivery carries its event's outbox ``seq``
and its recipient id; the claim returns only the oldest pending delivery of each (endpoint,
recipient), so event N+1 waits while event N is in flight or waiting for its retry, and goes out
once N was delivered or given up (storage/webhook_deliveries_sql.py, ``due_query``).

Time comes from the injected clock; ``run(stop)`` for the node, ``run_until_idle()`` for tests.
It must not decide retries (retry.py), sign (signing.py) or speak HTTP (sender.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random as _random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from postillon.clock import Clock
from postillon.events import EventType
from postillon.storage.protocol import Store
from postillon.storage.webhook_deliveries_sql import SqlWebhookDeliveries
from postillon.storage.webhook_records import ClaimedDelivery, DeliveryAttempt, DeliveryState
from postillon.webhooks.attempt import attempt_delivery
from postillon.webhooks.endpoints import endpoint_of, health_of, wants
from postillon.webhooks.errors import WebhookError
from postillon.webhooks.events import WebhookEvent
from postillon.webhooks.retry import RetryPolicy, Verdict
from postillon.webhooks.secret_box import SecretBox
from postillon.webhooks.sender import REQUEST_TIMEOUT_S, WebhookSender

log = structlog.get_logger("postillon.webhooks")

_STATE = {
    Verdict.DELIVERED: DeliveryState.DELIVERED,
    Verdict.RETRY: DeliveryState.PENDING,
    Verdict.FAILED: DeliveryState.FAILED,
    Verdict.DISABLE_ENDPOINT: DeliveryState.FAILED,
}


@dataclass(frozen=True)
class DispatcherLimits:
    """How much one node takes on at once."""

    # Outbox events per fan-out transaction: one short commit each.
    events_per_claim: int = 200
    # Sends in flight: webhooks wait on slow receivers (up to 15 s each), not on CPU.
    max_parallel_sends: int = 32
    # A lease outlives one send (15 s) and its commit with a wide margin, so a slow send never
    # loses its lease to a second node while it is still running.
    lease_s: float = 4 * REQUEST_TIMEOUT_S
    # How often an idle node looks for due retries and new events.
    poll_interval_s: float = 1.0
    # On stop, sends still running get this long (one request timeout) before they are cut.
    drain_timeout_s: float = REQUEST_TIMEOUT_S


class WebhookDispatcher:
    """One node's dispatch loop over the shared store."""

    def __init__(
        self,
        *,
        store: Store,
        deliveries: SqlWebhookDeliveries,
        sender: WebhookSender,
        box: SecretBox,
        clock: Clock,
        owner: str,
        policy: RetryPolicy | None = None,
        rng: _random.Random | None = None,
        limits: DispatcherLimits | None = None,
    ) -> None:
        self._store = store
        self._deliveries = deliveries
        self._sender = sender
        self._box = box
        self._clock = clock
        self.owner = owner
        self._policy = policy or RetryPolicy()
        self._rng = rng or _random.Random()
        self._limits = limits or DispatcherLimits()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self.attempts_made = 0

    def wake(self) -> None:
        """Look for work now (after an enqueue, a replay, an endpoint enabled)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until ``stop`` is set, then let running sends finish (or cut them)."""
        try:
            while not stop.is_set():
                try:
                    busy = await self._fan_out() + await self._claim()
                except Exception:  # the database is down: log, wait, try again
                    log.exception("webhooks.cycle_failed")
                    busy = 0
                if not busy:
                    await self._idle(stop)
        finally:
            await self._drain()

    async def run_until_idle(self, *, max_rounds: int = 1000) -> None:
        """Dispatch whatever is due now and wait for it (tests and one-shot runs)."""
        for _ in range(max_rounds):
            fanned = await self._fan_out()
            claimed = await self._claim()
            if not fanned and not claimed and not self._running:
                return
            if self._running:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)

    async def _fan_out(self) -> int:
        """Claim one batch of outbox events and queue their deliveries; how many events."""
        batch = await self._store.claim_events(
            self.owner, self._clock.now(), self._limits.lease_s, self._limits.events_per_claim
        )
        if batch:
            await self._deliveries.fan_out(batch, wants, self._clock.now())
        return len(batch)

    async def _claim(self) -> int:
        free = self._limits.max_parallel_sends - len(self._running)
        if free <= 0:
            return 0
        claimed = await self._deliveries.claim_due(
            self.owner, self._clock.now(), self._limits.lease_s, free
        )
        for delivery in claimed:
            task = asyncio.create_task(self._send(delivery), name=f"webhook-{delivery.event_id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(claimed)

    async def _idle(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters: set[asyncio.Future[Any]] = {
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
        }
        waiters.update(self._running)
        _, pending = await asyncio.wait(
            waiters, timeout=self._limits.poll_interval_s, return_when=asyncio.FIRST_COMPLETED
        )
        for future in pending:
            if future not in self._running:
                future.cancel()

    async def _send(self, delivery: ClaimedDelivery) -> None:
        try:
            attempt = await self._attempt(delivery)
            await self._deliveries.record(attempt, self._clock.now())
        except Exception:
            # Not recorded: the lease runs out and the attempt is made again (at-least-once).
            log.exception("webhooks.send_failed", event_id=delivery.event_id)
            return
        self.attempts_made += 1
        log.info(
            "webhooks.attempt",
            endpoint_id=attempt.endpoint_id,
            event_id=attempt.event_id,
            attempt=attempt.attempt,
            status=attempt.status,
            verdict=attempt.verdict,
        )

    async def _attempt(self, delivery: ClaimedDelivery) -> DeliveryAttempt:
        record = delivery.endpoint
        number = delivery.attempts + 1
        now = self._clock.now()
        try:
            endpoint = endpoint_of(record, self._box)
            event = WebhookEvent(
                delivery.event_id,
                EventType(delivery.event_type),
                delivery.event_created_at,
                delivery.payload,
            )
        except (WebhookError, ValueError) as exc:
            # Nothing a retry can fix: a secret that no longer opens disables the endpoint (an
            # operator must act), an event that cannot be built fails alone.
            disable = str(exc) if isinstance(exc, WebhookError) else None
            return self._unsendable(delivery, number, now, str(exc), disable)
        outcome = await attempt_delivery(
            self._sender,
            endpoint,
            event,
            attempt=number,
            health=health_of(record),
            policy=self._policy,
            clock=self._clock,
            random=self._rng.random,
        )
        result, decision = outcome.result, outcome.decision
        is_disable = decision.verdict is Verdict.DISABLE_ENDPOINT
        return DeliveryAttempt(
            endpoint_id=record.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            owner=self.owner,
            attempt=number,
            attempted_at=result.attempted_at,
            status=result.status,
            verdict=decision.verdict.value,
            latency_ms=result.latency_ms,
            response_snippet=result.snippet,
            error=None if result.is_success else decision.reason,
            state=_STATE[decision.verdict],
            succeeded=result.is_success,
            next_attempt_at=decision.next_attempt_at,
            disable=decision.reason if is_disable else None,
        )

    def _unsendable(
        self,
        delivery: ClaimedDelivery,
        number: int,
        now: datetime,
        error: str,
        disable: str | None,
    ) -> DeliveryAttempt:
        verdict = Verdict.DISABLE_ENDPOINT if disable is not None else Verdict.FAILED
        return DeliveryAttempt(
            endpoint_id=delivery.endpoint.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            owner=self.owner,
            attempt=number,
            attempted_at=now,
            status=None,
            verdict=verdict.value,
            latency_ms=0,
            response_snippet="",
            error=error,
            state=DeliveryState.FAILED,
            succeeded=False,
            disable=disable,
        )

    async def _drain(self) -> None:
        if not self._running:
            return
        _, pending = await asyncio.wait(self._running, timeout=self._limits.drain_timeout_s)
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            log.warning("webhooks.drain_cut", sends=len(pending))
