"""When to try a webhook again, when to give up, and when to disable the endpoint (pure).

Owns the at-least-once rules. The schedule is the Standard Webhooks spec's example ("Deliverability
and reliability"), ten attempts over 3 days 3.5 hours:

    attempt   1     2     3      4       5     6     7      8      9      10
    delay     0     5 s   5 min  30 min  2 h   5 h   10 h   14 h   20 h   24 h

Fast early retries catch a deploy or a blip; the long tail covers a receiver down over a weekend
night. Each delay gets up to +10 % random jitter (the spec recommends jitter; only added, so no
retry comes earlier than the table). A ``Retry-After`` from the receiver is honoured when it asks
for longer than the table, capped at :data:`MAX_RETRY_AFTER`, so a receiver cannot park an event
beyond the schedule's own longest gap.

Which outcomes are retried (the spec: anything but 2xx is a failure):
- 2xx: delivered.
- 410 Gone: the endpoint is disabled at once (the spec: the receiver "is no longer interested").
- 413, 415, 422: the receiver refused *this payload*; the same bytes get the same answer, so the
  event fails without retries (the endpoint stays enabled). See :data:`NOT_RETRIED_STATUSES`.
- Everything else is retried: 5xx, 429, 408, timeouts, connection, DNS and TLS errors, and also
  3xx and the other 4xx (400/401/403/404): those are nearly always a receiver misconfiguration (a
  route not deployed, a secret not rotated yet) that its owner fixes within the schedule.
- Prolonged failure: when an attempt fails and the endpoint has had no success for
  :data:`DISABLE_AFTER` (3 days, one whole schedule) across at least :data:`DISABLE_MIN_FAILURES`
  consecutive failed attempts, the endpoint is disabled with the reason recorded.
It must not do I/O or read the clock: ``now`` and randomness are passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from postillon.webhooks.result import DeliveryResult

# The spec's example schedule: the wait before attempts 2..10 (attempt 1 is immediate).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
# Jitter is added, never subtracted: up to this fraction of the delay.
JITTER_FRACTION = 0.1
# A receiver's Retry-After is honoured up to the schedule's longest gap.
MAX_RETRY_AFTER = timedelta(hours=24)
# No success for this long (about one whole schedule) disables the endpoint...
DISABLE_AFTER = timedelta(days=3)
# ...but only after this many consecutive failed attempts, so two failures days apart on a quiet
# endpoint do not disable it.
DISABLE_MIN_FAILURES = len(RETRY_DELAYS) + 1
# Payload-specific refusals: Content Too Large, Unsupported Media Type, Unprocessable Content.
NOT_RETRIED_STATUSES = frozenset({413, 415, 422})
GONE = 410

Random = Callable[[], float]
"""Injected randomness: a float in [0, 1) (e.g. ``random.Random(seed).random``)."""


class Verdict(enum.StrEnum):
    """What to do after an attempt."""

    DELIVERED = "delivered"  # done
    RETRY = "retry"  # try again at ``next_attempt_at``
    FAILED = "failed"  # give up on this event; the endpoint stays enabled
    DISABLE_ENDPOINT = "disable_endpoint"  # give up and disable the endpoint (reason recorded)


@dataclass(frozen=True)
class EndpointHealth:
    """Consecutive failures of an endpoint since its last success (the store keeps this)."""

    failing_since: datetime | None = None
    consecutive_failures: int = 0

    def after(self, result: DeliveryResult) -> EndpointHealth:
        """The health once ``result`` is recorded: a success clears it."""
        if result.is_success:
            return EndpointHealth()
        since = self.failing_since or result.attempted_at
        return EndpointHealth(since, self.consecutive_failures + 1)


@dataclass(frozen=True)
class Decision:
    """The verdict, when to retry (only for RETRY), why, and the endpoint's new health."""

    verdict: Verdict
    reason: str
    health: EndpointHealth
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """The rules above, with the limits as fields so tests and operators can shorten them."""

    delays: tuple[timedelta, ...] = RETRY_DELAYS
    jitter_fraction: float = JITTER_FRACTION
    max_retry_after: timedelta = MAX_RETRY_AFTER
    disable_after: timedelta = DISABLE_AFTER
    disable_min_failures: int = DISABLE_MIN_FAILURES

    @property
    def max_attempts(self) -> int:
        """Attempts per event: the first plus one per delay."""
        return len(self.delays) + 1

    def total_span(self) -> timedelta:
        """From the first attempt to the last, without jitter or Retry-After."""
        return sum(self.delays, timedelta())

    def decide(
        self, attempt: int, result: DeliveryResult, health: EndpointHealth, random: Random
    ) -> Decision:
        """Judge attempt number ``attempt`` (1-based) of an event, made at ``result.attempted_at``.

        ``health`` is the endpoint's health before this attempt.
        """
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        now = result.attempted_at
        new_health = health.after(result)
        if result.is_success:
            return Decision(Verdict.DELIVERED, f"HTTP {result.status}", new_health)
        if result.status == GONE:
            return Decision(Verdict.DISABLE_ENDPOINT, "the endpoint answered 410 Gone", new_health)
        since = new_health.failing_since
        if (
            since is not None
            and now - since >= self.disable_after
            and new_health.consecutive_failures >= self.disable_min_failures
        ):
            reason = (
                f"{new_health.consecutive_failures} consecutive attempts failed since "
                f"{since.isoformat()} (last: {result.summary()})"
            )
            return Decision(Verdict.DISABLE_ENDPOINT, reason, new_health)
        if result.status in NOT_RETRIED_STATUSES:
            return Decision(
                Verdict.FAILED, f"HTTP {result.status} refuses this payload", new_health
            )
        if attempt >= self.max_attempts:
            reason = f"gave up after {attempt} attempts (last: {result.summary()})"
            return Decision(Verdict.FAILED, reason, new_health)
        delay = self.delay_before(attempt + 1, result.retry_after_s, random)
        return Decision(Verdict.RETRY, result.summary(), new_health, now + delay)

    def delay_before(self, attempt: int, retry_after_s: float | None, random: Random) -> timedelta:
        """The wait before attempt ``attempt`` (2..max): jittered table, or longer Retry-After."""
        base = self.delays[attempt - 2]
        delay = base * (1.0 + self.jitter_fraction * random())
        if retry_after_s is not None:
            asked = min(timedelta(seconds=max(0.0, retry_after_s)), self.max_retry_after)
            delay = max(delay, asked)
        return delay
