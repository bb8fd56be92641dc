"""Token buckets on a fake clock: burst, refusal with the wait, refill, independence, bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.api.rate_limit import RateLimit, RateLimiter
from postillon.clock import FakeClock


def test_a_burst_then_a_refusal_saying_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate_per_s=2.0, burst=3), clock)
    assert [limiter.take("k").allowed for _ in range(3)] == [True, True, True]
    refused = limiter.take("k")
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(0.5)
    clock.advance(0.25)
    assert limiter.take("k").retry_after_s == pytest.approx(0.25)
    clock.advance(0.25)
    assert limiter.take("k").allowed


def test_refill_stops_at_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate_per_s=1.0, burst=2), clock)
    limiter.take("k")
    clock.advance(3600)
    assert [limiter.take("k").allowed for _ in range(3)] == [True, True, False]


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(RateLimit(rate_per_s=1.0, burst=1), FakeClock())
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    assert limiter.take("b").allowed


def test_the_least_recently_used_bucket_is_forgotten_full() -> None:
    limiter = RateLimiter(RateLimit(rate_per_s=1.0, burst=1), FakeClock(), max_buckets=2)
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # forgets "a"
    assert limiter.take("a").allowed
    assert not limiter.take("c").allowed


@pytest.mark.parametrize(
    ("rate", "burst"),
    [pytest.param(0.0, 1, id="no-rate"), pytest.param(1.0, 0, id="no-burst")],
)
def test_a_limit_that_allows_nothing_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit(rate_per_s=rate, burst=burst)


@given(
    rate=st.floats(min_value=0.1, max_value=100.0),
    burst=st.integers(min_value=1, max_value=50),
    steps=st.lists(st.floats(min_value=0.0, max_value=5.0), max_size=60),
)
def test_never_more_than_the_burst_plus_what_time_refilled(
    rate: float, burst: int, steps: list[float]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate_per_s=rate, burst=burst), clock)
    allowed = 0
    for step in steps:
        clock.advance(step)
        allowed += limiter.take("k").allowed
    assert allowed <= burst + rate * sum(steps) + 1e-6
