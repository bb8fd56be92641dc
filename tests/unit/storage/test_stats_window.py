"""The overview's time windows: buckets aligned on the epoch (days at UTC midnight), the last
one holding "now", and the shapes refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postillon.storage.stats_sql import MAX_BUCKETS, Window

NOW = datetime(2026, 11, 29, 4, 17, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("bucket", "count", "start", "end"),
    [
        pytest.param(
            HOUR,
            24,
            datetime(2026, 11, 28, 5, tzinfo=UTC),
            datetime(2026, 11, 29, 5, tzinfo=UTC),
            id="24-hours",
        ),
        pytest.param(
            DAY,
            7,
            datetime(2026, 11, 23, tzinfo=UTC),
            datetime(2026, 11, 30, tzinfo=UTC),
            id="7-days",
        ),
        pytest.param(
            DAY,
            30,
            datetime(2026, 10, 31, tzinfo=UTC),
            datetime(2026, 11, 30, tzinfo=UTC),
            id="30-days",
        ),
    ],
)
def test_a_covering_window_ends_with_the_bucket_holding_now(
    bucket: timedelta, count: int, start: datetime, end: datetime
) -> None:
    window = Window.covering(NOW, bucket, count)

    assert (window.start, window.end) == (start, end)
    assert len(window.starts) == count
    assert window.starts[-1] <= NOW < window.end


def test_now_on_a_bucket_edge_opens_a_new_bucket() -> None:
    edge = datetime(2026, 11, 29, 5, tzinfo=UTC)

    assert Window.covering(edge, HOUR, 24).starts[-1] == edge


@pytest.mark.parametrize(
    ("bucket", "count", "start", "problem"),
    [
        pytest.param(timedelta(milliseconds=500), 4, NOW, "whole number", id="sub-second"),
        pytest.param(timedelta(seconds=1.5), 4, NOW, "whole number", id="fractional"),
        pytest.param(HOUR, 0, NOW, "buckets", id="no-buckets"),
        pytest.param(HOUR, MAX_BUCKETS + 1, NOW, "buckets", id="too-many"),
        pytest.param(HOUR, 4, NOW.replace(tzinfo=None), "aware", id="naive"),
    ],
)
def test_malformed_windows_are_refused(
    bucket: timedelta, count: int, start: datetime, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        Window(start=start, bucket=bucket, count=count)


def test_a_covering_window_refuses_a_zero_bucket() -> None:
    with pytest.raises(ValueError, match="at least one second"):
        Window.covering(NOW, timedelta(0), 24)
