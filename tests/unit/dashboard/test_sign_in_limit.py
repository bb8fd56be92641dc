"""Sign-in throttling: failures per key over a sliding window, bounded memory."""

from __future__ import annotations

import pytest

from postillon.clock import FakeClock
from postillon.dashboard.sign_in_limit import SignInLimiter


def test_a_key_is_limited_after_the_allowed_failures_until_the_oldest_leaves() -> None:
    clock = FakeClock()
    limiter = SignInLimiter(3, 60.0, clock)
    for _ in range(2):
        limiter.record_failure("ip:1")
        clock.advance(10)
    assert limiter.retry_after_s("ip:1") is None
    limiter.record_failure("ip:1")  # failures at 0, 10 and 20 s

    assert limiter.retry_after_s("ip:1") == pytest.approx(40.0)
    clock.advance(39.5)
    assert limiter.retry_after_s("ip:1") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.retry_after_s("ip:1") is None


def test_the_longest_wait_of_several_keys_counts_and_other_keys_are_free() -> None:
    clock = FakeClock()
    limiter = SignInLimiter(1, 100.0, clock)
    limiter.record_failure("ip:1", "email:a@x.test")
    clock.advance(30)
    limiter.record_failure("email:b@x.test")

    assert limiter.retry_after_s("ip:1", "email:b@x.test") == pytest.approx(100.0)
    assert limiter.retry_after_s("ip:2", "email:c@x.test") is None


def test_memory_is_bounded_by_dropping_the_least_recently_failed() -> None:
    clock = FakeClock()
    limiter = SignInLimiter(1, 900.0, clock, max_keys=100)
    for n in range(1000):
        limiter.record_failure(f"email:{n}@x.test")

    assert limiter.tracked() == 100
    assert limiter.retry_after_s("email:0@x.test") is None
    assert limiter.retry_after_s("email:999@x.test") is not None


def test_expired_keys_are_forgotten() -> None:
    clock = FakeClock()
    limiter = SignInLimiter(2, 10.0, clock)
    limiter.record_failure("ip:1")
    clock.advance(10)

    assert limiter.retry_after_s("ip:1") is None
    assert limiter.tracked() == 0


@pytest.mark.parametrize(("attempts", "window_s"), [(0, 1.0), (1, 0.0)])
def test_nonsense_limits_are_refused(attempts: int, window_s: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        SignInLimiter(attempts, window_s, FakeClock())
