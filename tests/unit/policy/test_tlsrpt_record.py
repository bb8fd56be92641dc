"""RFC 8460: the _smtp._tls record, result types from verifier words, the report object."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from postillon.policy.tlsrpt import ResultType, certificate_result, parse_record
from postillon.services.tlsrpt_report import ReportMeta, build_report, file_name
from postillon.storage.records import TlsRptSession
from postillon.storage.tlsrpt_sql import TlsRptCount

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "support" / "schemas" / "tlsrpt-rfc8460.json").read_text()
)


@pytest.mark.parametrize(
    ("texts", "uris"),
    [
        (["v=TLSRPTv1; rua=mailto:a@b.test"], ("mailto:a@b.test",)),
        (
            ["v=TLSRPTv1;rua=https://r.test/x, mailto:a@b.test"],
            ("https://r.test/x", "mailto:a@b.test"),
        ),
        (["v=TLSRPTv1; rua=http://r.test/x"], ()),  # only mailto and https
        (["v=spf1 -all"], ()),
        (["v=TLSRPTv1; rua=mailto:a@b.test", "v=TLSRPTv1; rua=mailto:c@d.test"], ()),
    ],
)
def test_the_record_gives_its_usable_report_uris(texts: list[str], uris: tuple[str, ...]) -> None:
    assert parse_record(texts) == uris


@pytest.mark.parametrize(
    ("reason", "result"),
    [
        ("certificate has expired", ResultType.CERTIFICATE_EXPIRED),
        ("Hostname mismatch, certificate is not valid for 'mx.test'", "certificate-host-mismatch"),
        ("no trusted issuer (self-signed or unknown CA)", ResultType.CERTIFICATE_NOT_TRUSTED),
        ("something else", ResultType.VALIDATION_FAILURE),
    ],
)
def test_certificate_failures_map_to_rfc_8460_result_types(reason: str, result: str) -> None:
    assert certificate_result(reason) == result


def test_a_report_with_every_policy_type_validates_against_the_schema() -> None:
    meta = ReportMeta("Org", "mailto:p@s.test", "s.test", date(2026, 12, 4), "d.test")
    sts = ("version: STSv1", "mode: testing", "mx: mx.d.test", "max_age: 86400")
    counts = [
        TlsRptCount(TlsRptSession("2026-12-04", "d.test", "sts", sts, "mx.d.test"), 5),
        TlsRptCount(
            TlsRptSession(
                "2026-12-04", "d.test", "sts", sts, "mx.d.test", "certificate-expired", "192.0.2.1"
            ),
            2,
        ),
        TlsRptCount(TlsRptSession("2026-12-04", "d.test", "no-policy-found", (), "mx2.d.test"), 1),
        TlsRptCount(TlsRptSession("2026-12-04", "other.test", "no-policy-found", (), "mx"), 9),
    ]
    report = build_report(meta, counts)
    jsonschema.validate(report, SCHEMA)
    first, second = report["policies"]
    assert first["summary"] == {
        "total-successful-session-count": 5,
        "total-failure-session-count": 2,
    }
    assert first["policy"]["policy-string"] == list(sts)
    assert "policy-string" not in second["policy"]
    assert report["date-range"] == {
        "start-datetime": "2026-12-04T00:00:00Z",
        "end-datetime": "2026-12-04T23:59:59Z",
    }
    assert file_name(meta) == "s.test!d.test!1796342400!1796428800.json.gz"
