"""Stored check results apply only to the record they were made for."""

from __future__ import annotations

import pytest

from postillon.config.settings import DeliverySettings
from postillon.domains import CheckStatus, DnsRecordSpec, RecordCheck, required_records
from postillon.services.domain_views import results_json, views_from_results

KEY_RECORD = "v=DKIM1; k=rsa; p=MIIBIjANBgkq"
SELECTOR = "pst20261129-aaaaaaaa"


def specs(*addresses: str) -> tuple[DnsRecordSpec, ...]:
    delivery = DeliverySettings(helo_name="mta.example.net", source_addresses=addresses)
    return required_records("shop.example", SELECTOR, KEY_RECORD, delivery)


def test_results_round_trip_through_storage_form() -> None:
    checks = [
        RecordCheck(spec, CheckStatus.MISSING, ("x",), f"{spec.purpose} missing")
        for spec in specs("192.0.2.7")
    ]

    views = views_from_results(specs("192.0.2.7"), results_json(checks))

    assert [(v.status, v.found, v.problem) for v in views] == [
        ("missing", ("x",), f"{c.spec.purpose} missing") for c in checks
    ]
    assert [v.required for v in views] == [True, True, False, False]


@pytest.mark.parametrize(
    ("purpose", "expected"),
    [
        pytest.param("spf", "pending", id="spf-value-changed"),
        pytest.param("dkim", "verified", id="dkim-unchanged"),
    ],
)
def test_a_result_for_another_value_is_not_shown(purpose: str, expected: str) -> None:
    old = [RecordCheck(spec, CheckStatus.VERIFIED) for spec in specs("192.0.2.7")]

    # Our sending addresses changed: the SPF record to publish is another one now.
    views = views_from_results(specs("192.0.2.7", "192.0.2.9"), results_json(old))

    assert next(v.status for v in views if v.purpose == purpose) == expected
