"""The pure parts of the dashboard: session cookies and CSRF tokens (signed, unforgeable
without the secret) and the TLS badge of an attempt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.dashboard.session import SessionSigner
from postillon.dashboard.views import tls_badge
from postillon.storage.records import AttemptRecord

DIGEST = "ab" * 32
SIGNER = SessionSigner(b"k" * 32)
AT = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def test_a_signed_cookie_gives_back_its_digest() -> None:
    assert SIGNER.digest_from(SIGNER.cookie_for(DIGEST)) == DIGEST


def test_another_secret_does_not_accept_the_cookie() -> None:
    assert SessionSigner(b"j" * 32).digest_from(SIGNER.cookie_for(DIGEST)) is None


def test_a_cookie_signed_for_one_digest_does_not_carry_another() -> None:
    _, _, tag = SIGNER.cookie_for(DIGEST).partition(".")
    assert SIGNER.digest_from(f"{'cd' * 32}.{tag}") is None


@given(st.text(max_size=120))
def test_arbitrary_cookies_are_refused(cookie: str) -> None:
    assert SIGNER.digest_from(cookie) is None


def test_the_csrf_token_is_per_session() -> None:
    token = SIGNER.csrf_token(DIGEST)
    assert SIGNER.csrf_ok(DIGEST, token)
    assert not SIGNER.csrf_ok("cd" * 32, token)
    assert not SIGNER.csrf_ok(DIGEST, "")


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
    ],
)
def test_tls_badge(attempt: AttemptRecord, kind: str, label: str, detail: str) -> None:
    badge = tls_badge(attempt)
    assert (badge.kind, badge.label, badge.detail) == (kind, label, detail)
