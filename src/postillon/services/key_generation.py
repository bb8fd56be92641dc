"""DKIM key generation for sender domains: off the event loop, bounded, limited per account.

An RSA-2048 key takes ~90 ms of CPU; generated on the event loop it stalls every delivery and
request of the node. Here keys are made in worker threads, at most
:data:`KEYGEN_CONCURRENCY` at once, and each account may have at most
:data:`KEYS_PER_ACCOUNT_PER_HOUR` made in an hour, whichever door it comes through (API,
dashboard, CLI): adding domains or rotating keys in a loop cannot monopolise the CPU.
Must not store keys (the domain service does) or know about HTTP.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import timedelta

from postillon.clock import Clock
from postillon.dkim import SigningKey
from postillon.errors import TemporaryError

# Key generations running at once on this node: one per core of a small machine.
KEYGEN_CONCURRENCY = 2
# Per account: far above what adding domains by hand needs, far below a loop's appetite.
KEYS_PER_ACCOUNT_PER_HOUR = 30
KEYGEN_WINDOW = timedelta(hours=1)
# Accounts whose recent generations are remembered (least recently used forgotten first).
MAX_TRACKED_ACCOUNTS = 10_000


class KeyGenerationLimitError(TemporaryError):
    """The account made as many keys as it may this hour; ``retry_after_s`` says when more."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(
            f"this account made {KEYS_PER_ACCOUNT_PER_HOUR} DKIM keys in the last hour (new"
            f" domains and rotations); try again in {max(1, int(retry_after_s))} s"
        )
        self.retry_after_s = retry_after_s


class KeyGenerator:
    """Makes keys with ``factory`` in threads, bounded and limited per account."""

    def __init__(self, factory: Callable[[], SigningKey], clock: Clock) -> None:
        self._factory = factory
        self._clock = clock
        self._slots = asyncio.Semaphore(KEYGEN_CONCURRENCY)
        self._recent: OrderedDict[str, deque[float]] = OrderedDict()

    async def generate(self, account_id: str) -> SigningKey:
        """A new key for ``account_id``; raises KeyGenerationLimitError past the hourly cap."""
        self._charge(account_id)
        async with self._slots:
            return await asyncio.to_thread(self._factory)

    def _charge(self, account_id: str) -> None:
        now = self._clock.monotonic()
        window = KEYGEN_WINDOW.total_seconds()
        times = self._recent.pop(account_id, deque())
        while times and now - times[0] >= window:
            times.popleft()
        self._recent[account_id] = times
        while len(self._recent) > MAX_TRACKED_ACCOUNTS:
            self._recent.popitem(last=False)
        if len(times) >= KEYS_PER_ACCOUNT_PER_HOUR:
            raise KeyGenerationLimitError(window - (now - times[0]))
        times.append(now)
