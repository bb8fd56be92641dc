"""What the overview page shows, from the statistics: the ranges people pick (24 hours by the
hour, 7 and 30 days by the day), the two charts, shares as percentages and waiting times.

Pure (no I/O, no clock: "now" is passed in). Must not query anything (services/stats.py
counts) nor draw (charts.py does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from postillon.dashboard.charts import Series, StackedBars
from postillon.services.stats import Overview, Window


@dataclass(frozen=True)
class Range:
    """A choice on the range selector: ``key`` is its ``?range=`` value."""

    key: str
    label: str  # the selector's link text
    span: str  # in a sentence: "in the last 24 hours"
    bucket: timedelta
    count: int
    tick_every: int  # a label under every n-th bar
    per: str  # "hour" or "day"

    def window(self, now: datetime) -> Window:
        """The buckets of this range up to the one holding ``now``."""
        return Window.covering(now, self.bucket, self.count)

    def label_of(self, start: datetime) -> str:
        """A bucket's full name, for the table and the bar's tooltip."""
        if self.bucket < timedelta(days=1):
            end = start + self.bucket
            return f"{start:%d %b %H:%M}–{end:%H:%M}"
        return f"{start:%a %d %b}"

    def tick_of(self, start: datetime, *, with_month: bool) -> str:
        """A bucket's short name under the axis: ``04:00`` by the hour; by the day ``29``, or
        ``29 Nov`` ``with_month``."""
        if self.bucket < timedelta(days=1):
            return f"{start:%H:%M}"
        return f"{start.day} {start:%b}" if with_month else str(start.day)


RANGES: dict[str, Range] = {
    r.key: r
    for r in (
        Range("24h", "24 hours", "in the last 24 hours", timedelta(hours=1), 24, 6, "hour"),
        Range("7d", "7 days", "in the last 7 days", timedelta(days=1), 7, 1, "day"),
        Range("30d", "30 days", "in the last 30 days", timedelta(days=1), 30, 7, "day"),
    )
}
DEFAULT_RANGE = RANGES["24h"]


def pick_range(raw: str | None) -> tuple[Range, str | None]:
    """The range named ``raw`` (default 24 hours), and a notice when ``raw`` names none."""
    if raw is None or raw == "":
        return DEFAULT_RANGE, None
    found = RANGES.get(raw)
    if found is not None:
        return found, None
    keys = ", ".join(RANGES)
    shown = raw if len(raw) <= 20 else raw[:20] + "…"
    return DEFAULT_RANGE, (
        f"There is no range “{shown}” (choose one of {keys}): "
        f"showing the last {DEFAULT_RANGE.label}."
    )


def _ticks(choice: Range, window: Window) -> tuple[str, ...]:
    # Count from the newest bar back, so the bar holding "now" always has its label; name the
    # month on the first label and where it changes (short labels fit a phone's width).
    last, month, ticks = window.count - 1, None, []
    for n, start in enumerate(window.starts):
        if (last - n) % choice.tick_every:
            ticks.append("")
            continue
        ticks.append(choice.tick_of(start, with_month=start.month != month))
        month = start.month
    return tuple(ticks)


def charts(overview: Overview, choice: Range) -> tuple[StackedBars, StackedBars]:
    """The recipients accepted (sent or suppressed) and the attempts (delivered, deferred or
    bounced) per bucket of ``overview``."""
    window, buckets = overview.window, overview.buckets
    labels = tuple(choice.label_of(start) for start in window.starts)
    ticks = _ticks(choice, window)
    end = f"{window.end:%d %b %H:%M} UTC"
    accepted = StackedBars(
        chart_id="chart-accepted",
        title=f"Recipients accepted per {choice.per}",
        description=(
            f"Recipients of messages accepted per {choice.per}, {choice.span} (to {end}),"
            " stacked: sent for delivery, then suppressed (on the suppression list, not sent)."
        ),
        labels=labels,
        ticks=ticks,
        series=(
            Series("sent", "Sent", tuple(b.sent for b in buckets)),
            Series("suppressed", "Suppressed", tuple(b.suppressed for b in buckets)),
        ),
    )
    attempted = StackedBars(
        chart_id="chart-attempts",
        title=f"Delivery attempts per {choice.per}",
        description=(
            f"Delivery attempts per {choice.per}, {choice.span} (to {end}), stacked:"
            " delivered, deferred (to be tried again), bounced (refused for good or expired)."
        ),
        labels=labels,
        ticks=ticks,
        series=(
            Series("delivered", "Delivered", tuple(b.delivered for b in buckets)),
            Series("deferred", "Deferred", tuple(b.deferred for b in buckets)),
            Series("bounced", "Bounced", tuple(b.bounced for b in buckets)),
        ),
    )
    return accepted, attempted


def percent(share: float | None) -> str:
    """A share as ``50%`` or ``66.7%``; an em dash for None (nothing to divide)."""
    if share is None:
        return "—"
    value = round(share * 100, 1)
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def waited(since: datetime, now: datetime) -> str:
    """How long since ``since``, in its two largest units: ``45 s``, ``3 min``, ``2 h 5 min``,
    ``3 d 4 h``."""
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"
