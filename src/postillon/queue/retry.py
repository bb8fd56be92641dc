"""The retry schedule: when a deferred recipient is tried again, and when it expires instead.

Pure math from the attempt count and the message's age, in the manner of KumoMTA
(``crates/kumod/src/queue/config.rs``): the delay after the n-th failed attempt is
``min(cap, base * 2**(n-1))``, multiplied by a random factor in ``[1 - jitter, 1 + jitter]`` so
recipients deferred together (one outage, one rate limit) do not come back together. The
schedule never reads the clock or the database; the caller passes ``now`` and the randomness.

Once the message is older than the maximum queue lifetime the recipient expires (reported like
a bounce). A retry that would fall after the deadline is moved onto it, so the last attempt
happens at the end of the lifetime instead of hours before it.

Why the defaults (postillon.config.RetrySettings):

- base 300 s: Postfix's ``minimal_backoff_time`` (300 s). Greylisting servers typically ask for
  1-5 minutes; KumoMTA's 20 minute first retry makes greylisted mail wait longer than needed.
- cap 4 h: Postfix's ``maximal_backoff_time`` is 4000 s; KumoMTA keeps doubling 20 min (20, 40,
  80 ... min) with no cap by default. Four hours bounds how long a recovered destination waits
  for us, while ~35 attempts in 5 days stay cheap.
- jitter 0.2: enough to spread a burst of deferrals over minutes, small enough that the
  schedule stays predictable for operators.
- lifetime 5 days: Postfix's ``maximal_queue_lifetime``; KumoMTA's 7 days holds mail longer than
  most senders want transactional mail to arrive late (RFC 5321 §4.5.4.1 asks for "at least 4-5
  days").

It must not do I/O or read the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from postillon.config.settings import RetrySettings

# 2**64 times any positive base is far beyond any cap: stop doubling there to avoid overflow.
_MAX_DOUBLINGS = 64

Random = Callable[[], float]
"""Injected randomness: returns a float in [0, 1) (``random.Random().random`` does)."""


@dataclass(frozen=True)
class RetryDecision:
    """When to try again (``next_attempt_at``), or None when the recipient has expired."""

    next_attempt_at: datetime | None

    @property
    def is_expired(self) -> bool:
        """True when the message outlived the maximum queue lifetime."""
        return self.next_attempt_at is None


def backoff_s(attempts: int, settings: RetrySettings) -> float:
    """The delay before the next try after ``attempts`` failed ones, before jitter.

    Raises ValueError if ``attempts`` < 1 (a deferral follows at least one attempt).
    """
    if attempts < 1:
        raise ValueError("backoff is defined after at least one attempt")
    doublings = min(attempts - 1, _MAX_DOUBLINGS)
    return min(settings.cap_s, settings.base_s * 2.0**doublings)


def jittered_s(delay_s: float, jitter: float, random: Random) -> float:
    """``delay_s`` times a factor drawn uniformly from ``[1 - jitter, 1 + jitter]``."""
    return delay_s * (1.0 + jitter * (2.0 * random() - 1.0))


def expires_at(created_at: datetime, settings: RetrySettings) -> datetime:
    """The moment a message created at ``created_at`` leaves the queue undelivered."""
    return created_at + timedelta(seconds=settings.max_lifetime_s)


def next_attempt(
    *,
    created_at: datetime,
    attempts: int,
    now: datetime,
    settings: RetrySettings,
    random: Random,
) -> RetryDecision:
    """Schedule the next try of a recipient that just failed temporarily (``attempts`` >= 1).

    Returns the next attempt time, no later than the end of the message's lifetime, or an
    expired decision once ``now`` has reached it.
    """
    deadline = expires_at(created_at, settings)
    if now >= deadline:
        return RetryDecision(None)
    delay_s = jittered_s(backoff_s(attempts, settings), settings.jitter, random)
    return RetryDecision(min(now + timedelta(seconds=delay_s), deadline))
