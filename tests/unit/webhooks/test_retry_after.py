"""Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, relative to the attempt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.webhooks.retry_after import parse_retry_after

NOW = datetime(2026, 10, 21, 7, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("120", 120.0, id="seconds"),
        pytest.param(" 0 ", 0.0, id="zero-with-spaces"),
        pytest.param("Wed, 21 Oct 2026 07:28:00 GMT", 1680.0, id="imf-fixdate"),
        pytest.param("Wednesday, 21-Oct-26 07:28:00 GMT", 1680.0, id="rfc850-date"),
        pytest.param("Wed Oct 21 07:28:00 2026", 1680.0, id="asctime-date"),
        pytest.param("Tue, 20 Oct 2026 07:28:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("-5", None, id="negative"),
        pytest.param("1.5", None, id="fraction"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("\u0661\u0662", None, id="non-ascii-digits"),
        pytest.param("9" * 65, None, id="too-long"),
    ],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@given(st.text(max_size=80))
def test_never_raises_and_never_negative(value: str) -> None:
    parsed = parse_retry_after(value, NOW)
    assert parsed is None or parsed >= 0
