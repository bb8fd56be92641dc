"""What the overview shows from the statistics: the range picked from the query string, the
charts' buckets, labels and ticks, shares as percentages and waiting times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postillon.dashboard.overview_views import RANGES, charts, percent, pick_range, waited
from postillon.services.stats import Counts, Overview, QueueNow

NOW = datetime(2026, 11, 29, 4, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "key", "has_notice"),
    [
        pytest.param(None, "24h", False, id="absent"),
        pytest.param("", "24h", False, id="empty"),
        pytest.param("7d", "7d", False, id="week"),
        pytest.param("30d", "30d", False, id="month"),
        pytest.param("1y", "24h", True, id="unknown"),
        pytest.param("7D", "24h", True, id="case-matters"),
    ],
)
def test_the_range_comes_from_the_query_string(raw: str | None, key: str, has_notice: bool) -> None:
    choice, notice = pick_range(raw)

    assert choice.key == key
    assert (notice is not None) == has_notice


def test_an_unknown_range_is_named_in_the_notice_and_cut_short() -> None:
    _, short = pick_range("1y")
    _, long = pick_range("x" * 500)

    assert (
        short == "There is no range “1y” (choose one of 24h, 7d, 30d): showing the last 24 hours."
    )
    assert long is not None
    assert "x" * 20 + "…" in long
    assert "x" * 21 not in long


@pytest.mark.parametrize(
    ("key", "first_label", "last_label", "ticks"),
    [
        pytest.param(
            "24h",
            "28 Nov 05:00–06:00",
            "29 Nov 04:00–05:00",
            ["10:00", "16:00", "22:00", "04:00"],
            id="hourly",
        ),
        pytest.param(
            "7d", "Mon 23 Nov", "Sun 29 Nov", ["23 Nov", *map(str, range(24, 30))], id="7d"
        ),
        pytest.param(
            "30d",
            "Sat 31 Oct",
            "Sun 29 Nov",
            ["1 Nov", "8", "15", "22", "29"],
            id="30d",
        ),
    ],
)
def test_charts_have_a_bar_per_bucket_and_label_the_newest(
    key: str, first_label: str, last_label: str, ticks: list[str]
) -> None:
    choice = RANGES[key]
    window = choice.window(NOW)
    buckets = [Counts() for _ in range(window.count)]
    buckets[-1] = Counts(sent=3, suppressed=1, delivered=2, deferred=1, bounced=1)
    overview = Overview(window, tuple(buckets), QueueNow(0, 0, None), NOW)

    accepted, attempted = charts(overview, choice)

    assert accepted.labels == attempted.labels
    assert (accepted.labels[0], accepted.labels[-1]) == (first_label, last_label)
    assert [tick for tick in accepted.ticks if tick] == ticks
    assert [(s.key, s.values[-1]) for s in accepted.series] == [("sent", 3), ("suppressed", 1)]
    assert [(s.key, s.total) for s in attempted.series] == [
        ("delivered", 2),
        ("deferred", 1),
        ("bounced", 1),
    ]
    assert f"per {choice.per}" in accepted.title


@pytest.mark.parametrize(
    ("share", "text"),
    [
        pytest.param(None, "—", id="none"),
        pytest.param(0.0, "0%", id="zero"),
        pytest.param(0.5, "50%", id="half"),
        pytest.param(2 / 3, "66.7%", id="two-thirds"),
        pytest.param(0.9996, "100%", id="rounds-up"),
        pytest.param(1.0, "100%", id="all"),
    ],
)
def test_shares_read_as_percentages(share: float | None, text: str) -> None:
    assert percent(share) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        pytest.param(timedelta(seconds=-5), "0 s", id="clock-skew"),
        pytest.param(timedelta(seconds=45), "45 s", id="seconds"),
        pytest.param(timedelta(minutes=3, seconds=59), "3 min", id="minutes"),
        pytest.param(timedelta(hours=2), "2 h", id="hours"),
        pytest.param(timedelta(hours=2, minutes=5), "2 h 5 min", id="hours-minutes"),
        pytest.param(timedelta(days=3), "3 d", id="days"),
        pytest.param(timedelta(days=3, hours=4, minutes=9), "3 d 4 h", id="days-hours"),
    ],
)
def test_waiting_times_read_in_their_two_largest_units(delta: timedelta, text: str) -> None:
    assert waited(NOW - delta, NOW) == text
