"""The TLS badge of an attempt, as the message page shows it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.dashboard.views import tls_badge
from postillon.storage.records import AttemptRecord

AT = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempt", "kind", "label", "detail"),
    [
        pytest.param(
            AttemptRecord(AT, 5, tls_used=False), "none", "no TLS", "no TLS session", id="clear"
        ),
        pytest.param(
            AttemptRecord(
                AT, 5, tls_used=True, tls_version="TLSv1.3", tls_cipher="X", tls_verified=True
            ),
            "verified",
            "TLS verified",
            "TLSv1.3 · X",
            id="verified",
        ),
        pytest.param(
            AttemptRecord(
                AT,
                5,
                tls_used=True,
                tls_version="TLSv1.2",
                tls_cipher="Y",
                tls_verified=False,
                tls_reason="self-signed",
            ),
            "unverified",
            "TLS not verified",
            "TLSv1.2 · Y · self-signed",
            id="unverified-with-reason",
        ),
        pytest.param(
            AttemptRecord(AT, 5, tls_used=True),
            "unverified",
            "TLS not verified",
            "certificate not checked",
            id="unverified-unknown",
        ),
        pytest.param(
            AttemptRecord(
                AT,
                5,
                tls_used=True,
                tls_version="TLSv1.3",
                tls_cipher="Z",
                tls_verified=True,
                tls_policy="dane",
                dane_tlsa="3 1 1",
            ),
            "verified",
            "DANE TLSA 3 1 1",
            "TLSv1.3 · Z · authenticated by DNSSEC",
            id="dane",
        ),
    ],
)
def test_tls_badge(attempt: AttemptRecord, kind: str, label: str, detail: str) -> None:
    badge = tls_badge(attempt)
    assert (badge.kind, badge.label, badge.detail) == (kind, label, detail)
