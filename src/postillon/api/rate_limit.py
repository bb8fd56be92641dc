"""The per-key rate limits the API charges; they live in services (the SMTP submission door
charges the same buckets), re-exported here for the API's modules."""

from __future__ import annotations

from postillon.services.rate_limit import (
    DEFAULT_BURST,
    DEFAULT_RATE_PER_S,
    MAX_BUCKETS,
    Decision,
    RateLimit,
    RateLimiter,
)

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_RATE_PER_S",
    "MAX_BUCKETS",
    "Decision",
    "RateLimit",
    "RateLimiter",
]
