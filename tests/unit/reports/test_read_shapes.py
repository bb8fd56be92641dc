"""Every bounce, complaint and auto-reply shape in shapes.py reads as what it is."""

from __future__ import annotations

import pytest

from postillon.reports import ReportKind, read_report
from tests.unit.reports.shapes import CASES, Case


@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in CASES.items()])
def test_shape_reads_as_expected(case: Case) -> None:
    report = read_report(case.data)
    assert report.kind == ReportKind(case.kind), report
    assert report.shape == case.shape, report
    if case.address is None:
        assert report.recipients == ()
        return
    addresses = [r.address.lower() for r in report.recipients]
    assert addresses == [case.address], report
    [recipient] = report.recipients
    assert recipient.action == case.action
    assert recipient.status == case.status
    assert case.diagnostic_has in recipient.diagnostic, recipient
