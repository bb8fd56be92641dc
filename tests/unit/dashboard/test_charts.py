"""The overview's charts: the scale, the stacked bars' geometry, and the markup (an SVG image
with a title and a description, a legend, axis labels, the numbers as a table), escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from postillon.dashboard.charts import (
    PLOT_HEIGHT,
    Series,
    StackedBars,
    bars,
    nice_ceiling,
    render,
)

SVG = "{http://www.w3.org/2000/svg}"


def _chart(
    *series: Series, title: str = "Attempts per hour", labels: tuple[str, ...] = ("a", "b", "c")
) -> StackedBars:
    return StackedBars(
        chart_id="chart-test",
        title=title,
        description="Attempts.",
        labels=labels,
        ticks=tuple(label if n % 2 == 0 else "" for n, label in enumerate(labels)),
        series=series or (Series("delivered", "Delivered", (1, 0, 3)),),
    )


def _parsed(chart: StackedBars) -> ET.Element:
    # The markup is well-formed (every element closed): parse it as XML to walk it.
    return ET.fromstring(str(render(chart)).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


@pytest.mark.parametrize(
    ("value", "top"),
    [
        pytest.param(0, 1, id="zero"),
        pytest.param(1, 1, id="one"),
        pytest.param(3, 5, id="to-five"),
        pytest.param(5, 5, id="five"),
        pytest.param(7, 10, id="to-ten"),
        pytest.param(11, 20, id="to-twenty"),
        pytest.param(200, 200, id="two-hundred"),
        pytest.param(201, 500, id="to-five-hundred"),
    ],
)
def test_the_scale_tops_out_at_a_round_number(value: int, top: int) -> None:
    assert nice_ceiling(value) == top


def test_bars_stack_bottom_up_and_leave_out_empty_segments() -> None:
    chart = _chart(
        Series("delivered", "Delivered", (2, 0, 1)),
        Series("bounced", "Bounced", (2, 0, 0)),
    )

    drawn = bars(chart, top=4)

    assert [(b.series.key, b.bucket, b.y, b.height) for b in drawn] == [
        ("delivered", 0, PLOT_HEIGHT / 2, PLOT_HEIGHT / 2),
        ("bounced", 0, 0, PLOT_HEIGHT / 2),
        ("delivered", 2, PLOT_HEIGHT * 3 / 4, PLOT_HEIGHT / 4),
    ]
    assert drawn[0].x < drawn[2].x


def test_the_svg_is_an_image_named_by_its_title_and_description() -> None:
    chart = _chart(
        Series("delivered", "Delivered", (1, 0, 3)),
        Series("bounced", "Bounced", (0, 0, 2)),
    )

    root = _parsed(chart)

    assert root.tag == "figure"
    assert root.get("aria-labelledby") == "chart-test-caption"
    svg = root.find(f".//{SVG}svg")
    assert svg is not None
    assert svg.get("role") == "img"
    title_id, desc_id = (svg.get("aria-labelledby") or "").split()
    assert svg.find(f"{SVG}title[@id='{title_id}']") is not None
    desc = svg.find(f"{SVG}desc[@id='{desc_id}']")
    assert desc is not None
    assert desc.text == ("Attempts. Totals: Delivered 4, Bounced 2. Tallest bar: 5, at c.")
    rects = svg.findall(f".//{SVG}rect")
    assert [(r.get("class"), r.findtext(f"{SVG}title")) for r in rects] == [
        ("chart-delivered", "a: 1 delivered"),
        ("chart-delivered", "c: 3 delivered"),
        ("chart-bounced", "c: 2 bounced"),
    ]
    legend = ["".join(li.itertext()) for li in root.iterfind(".//ul[@class='chart-legend']/li")]
    assert legend == ["Delivered 4", "Bounced 2"]
    y_axis = [span.text for span in root.iterfind(".//div[@class='chart-y']/span")]
    assert y_axis == ["5", None, "0"]
    x_axis = [span.text for span in root.iterfind(".//div[@class='chart-x']/span")]
    assert x_axis == ["a", None, "c"]


def test_the_numbers_are_also_a_table_with_headers_and_totals() -> None:
    chart = _chart(
        Series("delivered", "Delivered", (1, 0, 3)),
        Series("bounced", "Bounced", (0, 0, 2)),
    )

    table = _parsed(chart).find(".//details/div/table")

    assert table is not None
    assert table.findtext("caption") == "Attempts per hour"
    assert [th.get("scope") for th in table.iterfind("thead/tr/th")] == ["col"] * 3
    rows = [[cell.text for cell in tr] for tr in table.iterfind("tbody/tr")]
    assert rows == [["a", "1", "0"], ["b", "0", "0"], ["c", "3", "2"]]
    assert all(tr[0].get("scope") == "row" for tr in table.iterfind("tbody/tr"))
    assert [cell.text for cell in table.iterfind("tfoot/tr/*")] == ["Total", "4", "2"]


def test_an_empty_chart_draws_no_bar_and_says_so() -> None:
    root = _parsed(_chart(Series("sent", "Sent", (0, 0, 0))))

    assert root.findall(f".//{SVG}rect") == []
    assert root.findtext(f".//{SVG}desc") == "Attempts. Nothing to show: every count is 0."


def test_text_is_escaped() -> None:
    hostile = '<script>alert(1)</script> & "quotes"'
    chart = _chart(Series("sent", hostile, (1, 0, 0)), title=hostile, labels=(hostile, "b", "c"))

    markup = str(render(chart))

    assert "<script>" not in markup
    root = _parsed(chart)
    assert root.findtext("figcaption") == hostile
    assert root.findtext(f".//{SVG}title") == hostile


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        pytest.param(lambda: Series("Bad Key", "x", (1,)), "series key", id="key"),
        pytest.param(lambda: Series("sent", "x", (-1,)), "negative", id="negative"),
        pytest.param(
            lambda: _chart(Series("sent", "Sent", (1, 2))), "one value per bucket", id="lengths"
        ),
        pytest.param(
            lambda: StackedBars("c", "t", "d", ("a",), ("a", "b"), (Series("s", "S", (1,)),)),
            "one tick",
            id="ticks",
        ),
        pytest.param(
            lambda: StackedBars("c", "t", "d", (), (), (Series("s", "S", ()),)),
            "at least one bucket",
            id="empty",
        ),
        pytest.param(
            lambda: StackedBars('c" onload="x', "t", "d", ("a",), ("a",), ()),
            "chart id",
            id="chart-id",
        ),
    ],
)
def test_malformed_charts_are_refused(build: Callable[[], object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        build()
