"""Charts drawn on the server as inline SVG: stacked bars over time buckets, no JavaScript.

Owns the scale (a "nice" top value), the bars' geometry and the markup of one chart: a
``<figure>`` with a caption, a legend with each series' total, an SVG with ``role="img"``,
``<title>`` and ``<desc>`` (what it shows, the totals, the tallest bar), axis labels in HTML
(so they stay legible at any width while the bars stretch), and the same numbers as a table in
a ``<details>`` for screen readers and for exact values. Colours come from CSS classes
``chart-<series key>``; every text is escaped here.
Pure (no I/O). Must not compute statistics (services/stats.py reads them) nor format dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

# SVG user units per bucket, and the bar's share of it (the rest is the gap between bars).
SLOT_WIDTH = 10
BAR_WIDTH = 7
# SVG user units from the baseline to the top of the scale.
PLOT_HEIGHT = 100
# Mantissas of the scale's top value: 1, 2, 5, 10, 20, 50 ... reads at a glance.
_NICE = (1, 2, 5)
_SAFE_KEY = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Series:
    """One stacked series: ``key`` names its CSS class, ``label`` is what people read."""

    key: str
    label: str
    values: tuple[int, ...]

    def __post_init__(self) -> None:
        if not _SAFE_KEY.fullmatch(self.key):
            raise ValueError(f"a series key is lower-case letters, digits and -, not {self.key!r}")
        if any(value < 0 for value in self.values):
            raise ValueError(f"series {self.key!r} has a negative value")

    @property
    def total(self) -> int:
        """The sum over every bucket."""
        return sum(self.values)


@dataclass(frozen=True)
class StackedBars:
    """A chart of ``series`` stacked per bucket, bottom first.

    ``labels`` names each bucket in full (table rows, bar tooltips); ``ticks`` has one entry
    per bucket, the text under it on the axis or "" for none. ``description`` opens the SVG's
    ``<desc>``; ``chart_id`` prefixes every id in the markup (unique on the page).
    """

    chart_id: str
    title: str
    description: str
    labels: tuple[str, ...]
    ticks: tuple[str, ...]
    series: tuple[Series, ...]

    def __post_init__(self) -> None:
        if not _SAFE_KEY.fullmatch(self.chart_id):
            raise ValueError(
                f"a chart id is lower-case letters, digits and -, not {self.chart_id!r}"
            )
        if not self.labels or not self.series:
            raise ValueError("a chart needs at least one bucket and one series")
        if len(self.ticks) != len(self.labels):
            raise ValueError("one tick (or '') per bucket")
        if any(len(s.values) != len(self.labels) for s in self.series):
            raise ValueError("every series has one value per bucket")

    @property
    def stack_heights(self) -> tuple[int, ...]:
        """Each bucket's total over every series."""
        return tuple(sum(column) for column in zip(*(s.values for s in self.series), strict=True))


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is >= ``value`` (1 for 0 or less)."""
    power = 1
    while True:  # bounded: power grows tenfold each turn until it passes any int
        for mantissa in _NICE:
            if mantissa * power >= value:
                return mantissa * power
        power *= 10


@dataclass(frozen=True)
class Bar:
    """One rectangle, in SVG user units (y grows downwards)."""

    series: Series
    bucket: int
    x: float
    y: float
    height: float


def bars(chart: StackedBars, top: int) -> list[Bar]:
    """The rectangles of ``chart`` on a scale from 0 to ``top`` (empty segments left out)."""
    drawn: list[Bar] = []
    for bucket in range(len(chart.labels)):
        base = 0
        for series in chart.series:
            value = series.values[bucket]
            if value:
                height = value * PLOT_HEIGHT / top
                y = PLOT_HEIGHT - (base + value) * PLOT_HEIGHT / top
                x = bucket * SLOT_WIDTH + (SLOT_WIDTH - BAR_WIDTH) / 2
                drawn.append(Bar(series, bucket, x, y, height))
            base += value
    return drawn


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _summary(chart: StackedBars) -> str:
    totals = ", ".join(f"{s.label} {s.total}" for s in chart.series)
    heights = chart.stack_heights
    tallest = max(heights)
    if tallest == 0:
        return f"{chart.description} Nothing to show: every count is 0."
    where = chart.labels[heights.index(tallest)]
    return f"{chart.description} Totals: {totals}. Tallest bar: {tallest}, at {where}."


def _svg(chart: StackedBars, top: int) -> Markup:
    cid, width = chart.chart_id, len(chart.labels) * SLOT_WIDTH
    grid = Markup("").join(
        Markup(
            '<line x1="0" x2="{w}" y1="{y}" y2="{y}" vector-effect="non-scaling-stroke"/>'
        ).format(w=width, y=y)
        for y in (0, PLOT_HEIGHT // 2, PLOT_HEIGHT)
    )
    rects = Markup("").join(
        Markup(
            '<rect class="chart-{key}" x="{x}" y="{y}" width="{w}" height="{h}">'
            "<title>{tip}</title></rect>"
        ).format(
            key=bar.series.key,
            x=_num(bar.x),
            y=_num(bar.y),
            w=BAR_WIDTH,
            h=_num(bar.height),
            tip=f"{chart.labels[bar.bucket]}: {bar.series.values[bar.bucket]}"
            f" {bar.series.label.lower()}",
        )
        for bar in bars(chart, top)
    )
    return Markup(
        '<svg role="img" aria-labelledby="{cid}-t {cid}-d" viewBox="0 0 {w} {h}"'
        ' preserveAspectRatio="none" focusable="false">'
        '<title id="{cid}-t">{title}</title><desc id="{cid}-d">{desc}</desc>'
        '<g class="chart-grid">{grid}</g>{rects}</svg>'
    ).format(
        cid=cid,
        w=width,
        h=PLOT_HEIGHT,
        title=chart.title,
        desc=_summary(chart),
        grid=grid,
        rects=rects,
    )


def _table(chart: StackedBars) -> Markup:
    cell = Markup("<td>{}</td>")
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(s.label) for s in chart.series)
    rows = Markup("").join(
        Markup('<tr><th scope="row">{label}</th>{cells}</tr>').format(
            label=label,
            cells=Markup("").join(cell.format(s.values[n]) for s in chart.series),
        )
        for n, label in enumerate(chart.labels)
    )
    totals = Markup("").join(cell.format(s.total) for s in chart.series)
    return Markup(
        '<details class="chart-data"><summary>The numbers as a table</summary>'
        '<div class="scroll"><table><caption>{title}</caption>'
        '<thead><tr><th scope="col">Time (UTC)</th>{head}</tr></thead>'
        "<tbody>{rows}</tbody>"
        '<tfoot><tr><th scope="row">Total</th>{totals}</tr></tfoot></table></div></details>'
    ).format(title=chart.title, head=head, rows=rows, totals=totals)


def render(chart: StackedBars) -> Markup:
    """The whole figure of ``chart`` as safe HTML (every text in it escaped)."""
    top = nice_ceiling(max(chart.stack_heights))
    legend = Markup("").join(
        Markup(
            '<li><span class="swatch chart-{key}" aria-hidden="true"></span>'
            "{label} <strong>{total}</strong></li>"
        ).format(key=s.key, label=s.label, total=s.total)
        for s in chart.series
    )
    span = Markup("<span>{}</span>")
    y_labels = (str(top), str(top // 2) if top % 2 == 0 else "", "0")
    return Markup(
        '<figure class="chart" id="{cid}" aria-labelledby="{cid}-caption">'
        '<figcaption id="{cid}-caption">{title}</figcaption>'
        '<ul class="chart-legend">{legend}</ul>'
        '<div class="chart-plot"><div class="chart-y" aria-hidden="true">{y_axis}</div>'
        "{svg}</div>"
        '<div class="chart-x" aria-hidden="true">{x_axis}</div>{table}</figure>'
    ).format(
        cid=chart.chart_id,
        title=chart.title,
        legend=legend,
        y_axis=Markup("").join(span.format(label) for label in y_labels),
        svg=_svg(chart, top),
        x_axis=Markup("").join(span.format(tick) for tick in chart.ticks),
        table=_table(chart),
    )
