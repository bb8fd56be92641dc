"""Sign-in throttling: failed sign-ins counted per key (a client address, an email, a key
prefix) over a sliding window; a key with too many is refused until its oldest counted failure
leaves the window, even with the right password.

The counts live in memory on each node: N nodes behind one load balancer allow up to N times
the attempts, and a restart forgets them. The number of keys tracked is bounded (the least
recently failed go first), so a flood of made-up emails cannot exhaust memory. Pure: the clock
is injected; must not do I/O or know about HTTP.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from postillon.clock import Clock

# Keys remembered at once (a few MB at most); beyond this the least recently failed is dropped.
MAX_TRACKED_KEYS = 50_000


class SignInLimiter:
    """Allows ``attempts`` failures per key within ``window_s`` seconds."""

    def __init__(
        self, attempts: int, window_s: float, clock: Clock, max_keys: int = MAX_TRACKED_KEYS
    ) -> None:
        if attempts < 1 or window_s <= 0 or max_keys < 1:
            raise ValueError("attempts, window_s and max_keys must be positive")
        self._attempts = attempts
        self._window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        # key -> monotonic times of its last ``attempts`` failures, oldest first.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after_s(self, *keys: str) -> float | None:
        """Seconds until every one of ``keys`` may try again; None when none is limited."""
        now = self._clock.monotonic()
        waits = []
        for key in keys:
            times = self._live(key, now)
            if times is not None and len(times) >= self._attempts:
                waits.append(times[0] + self._window_s - now)
        return max(waits) if waits else None

    def record_failure(self, *keys: str) -> None:
        """Count one failed sign-in against each of ``keys``."""
        now = self._clock.monotonic()
        for key in keys:
            times = self._live(key, now) or deque(maxlen=self._attempts)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def tracked(self) -> int:
        """How many keys have failures on record (for tests and metrics)."""
        return len(self._failures)

    def _live(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
