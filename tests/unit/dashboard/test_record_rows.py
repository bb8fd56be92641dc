"""The rows of a domain's records table: expected value beside what DNS held, the status in
words (the check's own words first), the record's purpose named."""

from __future__ import annotations

import pytest

from postillon.dashboard.record_rows import STATUS_TEXT, record_row, record_rows
from postillon.services.domain_views import RecordView


def _record(
    status: str, found: tuple[str, ...] = (), problem: str | None = None, purpose: str = "spf"
) -> RecordView:
    return RecordView(
        purpose=purpose,
        type="TXT",
        name="pstbounces.shop.test",
        value="v=spf1 ip4:127.0.0.230 -all",
        value_strings=("v=spf1 ip4:127.0.0.230 -all",),
        status=status,
        found=found,
        problem=problem,
    )


@pytest.mark.parametrize(
    ("record", "explanation", "is_checked"),
    [
        pytest.param(_record("pending"), STATUS_TEXT["pending"], False, id="pending"),
        pytest.param(
            _record("verified", ("v=spf1 ip4:127.0.0.230 -all",)),
            "DNS holds the expected value.",
            True,
            id="verified",
        ),
        pytest.param(_record("missing"), "DNS has no such record.", True, id="missing"),
        pytest.param(
            _record("mismatch", ("v=spf1 -all",), "127.0.0.230 is not authorized"),
            "127.0.0.230 is not authorized",
            True,
            id="mismatch-with-the-checks-words",
        ),
        pytest.param(_record("dns_error"), STATUS_TEXT["dns_error"], True, id="dns-error"),
    ],
)
def test_the_status_is_explained(record: RecordView, explanation: str, is_checked: bool) -> None:
    row = record_row(record)
    assert row.explanation == explanation
    assert row.is_checked is is_checked
    assert row.expected == record.value
    assert row.found == record.found


def test_purposes_are_named_and_order_is_kept() -> None:
    rows = record_rows([_record("pending", purpose="dkim"), _record("pending", purpose="dmarc")])
    assert [row.purpose for row in rows] == ["DKIM key", "DMARC policy"]


def test_an_unknown_purpose_or_status_is_shown_as_is() -> None:
    row = record_row(_record("weird", purpose="bimi"))
    assert (row.purpose, row.explanation) == ("bimi", "weird")
