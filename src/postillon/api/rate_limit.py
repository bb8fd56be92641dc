"""The per-key rate limits the API charges: the token buckets of
:mod:`postillon.services.rate_limit` (the SMTP submission door charges the same buckets), named
here by a digest of the key, re-exported for the API's modules. Must not hold logic of its own."""

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
