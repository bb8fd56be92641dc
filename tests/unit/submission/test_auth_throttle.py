"""Failed AUTH per address: blocked after the limit, free again once failures age out."""

from __future__ import annotations

from postillon.clock import FakeClock
from postillon.submission.auth_throttle import AuthThrottle


def test_blocks_after_the_limit_and_recovers_after_the_window() -> None:
    clock = FakeClock()
    throttle = AuthThrottle(clock, max_failures=3, window_s=60)
    for _ in range(2):
        throttle.failed("192.0.2.1")
    assert not throttle.is_blocked("192.0.2.1")
    throttle.failed("192.0.2.1")
    assert throttle.is_blocked("192.0.2.1")
    assert not throttle.is_blocked("192.0.2.2")
    clock.advance(61)
    assert not throttle.is_blocked("192.0.2.1")
