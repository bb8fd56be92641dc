"""Sortable ids: later milliseconds sort later as text; 26 Crockford base32 characters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.storage.ids import ID_LENGTH, new_id

moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)


@given(moment=moments, gap_ms=st.integers(min_value=1, max_value=10**9), seed=st.binary())
def test_a_later_millisecond_sorts_later_whatever_the_randomness(
    moment: datetime, gap_ms: int, seed: bytes
) -> None:
    later = moment + timedelta(milliseconds=gap_ms)

    first = new_id(moment, lambda n: (seed * n)[:n].ljust(n, b"\xff"))
    second = new_id(later, bytes)

    assert first < second
    assert len(first) == len(second) == ID_LENGTH
    assert set(first + second) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_times_before_the_epoch_are_refused() -> None:
    with pytest.raises(ValueError, match="range"):
        new_id(datetime(1969, 12, 31, tzinfo=UTC))
