"""A bounded cache whose entries expire after their DNS TTL, on an injected clock.

Owns: expiry (RFC 1035 §3.2.1 TTL; negative answers per RFC 2308 §5, with the TTL the caller
computed) and the size bound (least recently used entries go first). It must not do lookups or
read the real clock: time comes from :class:`postillon.clock.Clock`'s monotonic seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from postillon.clock import Clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Maps keys to values until their TTL runs out; holds at most ``max_entries``."""

    def __init__(self, clock: Clock, max_entries: int) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The value stored for ``key`` if it has not expired, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self._clock.monotonic() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, ttl_s: float) -> None:
        """Store ``value`` for ``ttl_s`` seconds; a TTL of 0 or less stores nothing."""
        if ttl_s <= 0 or self._max_entries == 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._clock.monotonic() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
