"""Rate limits: one token bucket per name (an API key digest, shared by the HTTP API and SMTP
submission; a dashboard account), on an injected monotonic clock.

A bucket holds up to ``burst`` tokens and gains ``rate_per_s`` tokens a second; a request takes
one. An empty bucket answers how long until the next token, which the API sends as
``Retry-After``. Pure: no I/O, no real clock; a lock is not needed because the event loop runs
one ``take`` at a time. Must not know about HTTP, SMTP or keys beyond an opaque name.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from postillon.clock import Clock

# Defaults until [api] has keys for them: a steady 10 requests a second per key with bursts
# of 50, enough for an application sending one message per request, while a runaway loop
# hits the wall within seconds (batch sends exist for bulk).
DEFAULT_RATE_PER_S = 10.0
DEFAULT_BURST = 50
# Buckets remembered at once: one per key in use; the least recently used is forgotten first
# (a forgotten bucket starts full, which is what an idle key's bucket would be anyway).
MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class RateLimit:
    """How fast one key may call: ``rate_per_s`` sustained, ``burst`` at once."""

    rate_per_s: float = DEFAULT_RATE_PER_S
    burst: int = DEFAULT_BURST

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs rate_per_s > 0 and burst >= 1")


@dataclass(frozen=True)
class Decision:
    """Whether a request may go ahead; if not, the seconds until it may (``retry_after_s``)."""

    allowed: bool
    retry_after_s: float = 0.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key name (the API uses a digest of the key, never the key)."""

    def __init__(self, limit: RateLimit, clock: Clock, *, max_buckets: int = MAX_BUCKETS) -> None:
        self._limit = limit
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def limit(self) -> RateLimit:
        """The limit every bucket follows."""
        return self._limit

    def take(self, key: str) -> Decision:
        """Take one token from ``key``'s bucket, or say how long until one is there."""
        now = self._clock.monotonic()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(tokens=float(self._limit.burst), updated=now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(
            float(self._limit.burst), bucket.tokens + elapsed * self._limit.rate_per_s
        )
        bucket.updated = now
        self._buckets[key] = bucket
        while len(self._buckets) > self._max_buckets:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Decision(allowed=True)
        return Decision(allowed=False, retry_after_s=(1.0 - bucket.tokens) / self._limit.rate_per_s)
