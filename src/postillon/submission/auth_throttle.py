"""Failed AUTH per client address: after ``max_failures`` in ``window_s``, AUTH is refused
(454 4.7.0) without checking the credentials, until the oldest failure leaves the window.

Owns the failure times per address, in memory on each node, bounded in addresses. Must not
know about SMTP replies or keys.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from postillon.clock import Clock

# Addresses remembered at once; the least recently failing is forgotten first (a flood of
# addresses then costs bounded memory, and each forgotten address starts with a clean slate).
MAX_ADDRESSES = 10_000


class AuthThrottle:
    """Counts failed AUTH attempts per client address on the monotonic clock."""

    def __init__(self, clock: Clock, *, max_failures: int, window_s: float) -> None:
        self._clock = clock
        self._max = max_failures
        self._window_s = window_s
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def is_blocked(self, address: str) -> bool:
        """Whether ``address`` has used up its failures for now."""
        times = self._failures.get(address)
        if times is None:
            return False
        horizon = self._clock.monotonic() - self._window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[address]
            return False
        return len(times) >= self._max

    def failed(self, address: str) -> None:
        """Record one failed attempt from ``address``."""
        times = self._failures.pop(address, None) or deque(maxlen=self._max)
        times.append(self._clock.monotonic())
        self._failures[address] = times
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)
