"""The API's per-key rate limits: the token buckets of :mod:`postillon.services.rate_limit`,
named here by a digest of the key. Kept so the API's modules and tests import them from the
API. Must not hold logic of its own."""

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
