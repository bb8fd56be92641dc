"""TtlCache: expiry on the injected clock and the size bound."""

from __future__ import annotations

import pytest

from postillon.clock import FakeClock
from postillon.dns.cache import TtlCache


def test_entry_lives_exactly_its_ttl() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(clock, 10)
    cache.put("a", 1, 300)
    clock.advance(299.9)
    assert cache.get("a") == 1
    clock.advance(0.1)
    assert cache.get("a") is None
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("ttl_s", "max_entries"),
    [
        pytest.param(0, 10, id="ttl-zero"),
        pytest.param(-5, 10, id="ttl-negative"),
        pytest.param(300, 0, id="cache-disabled"),
    ],
)
def test_nothing_stored(ttl_s: float, max_entries: int) -> None:
    cache: TtlCache[str, int] = TtlCache(FakeClock(), max_entries)
    cache.put("a", 1, ttl_s)
    assert cache.get("a") is None


def test_put_with_zero_ttl_removes_older_value() -> None:
    cache: TtlCache[str, int] = TtlCache(FakeClock(), 10)
    cache.put("a", 1, 300)
    cache.put("a", 2, 0)
    assert cache.get("a") is None


def test_least_recently_used_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache(FakeClock(), 2)
    cache.put("a", 1, 300)
    cache.put("b", 2, 300)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3, 300)
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3


def test_negative_bound_rejected() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        TtlCache[str, int](FakeClock(), -1)
