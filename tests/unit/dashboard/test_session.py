"""Session cookies and CSRF tokens: signed claims (a key digest or a user id, and the issue
time) that cannot be forged without the secret, altered, or used after their lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.dashboard.session import (
    CLOCK_SKEW,
    SESSION_LIFETIME,
    SessionClaim,
    SessionKind,
    SessionSigner,
)

AT = datetime(2026, 12, 4, 8, 0, 0, 123456, tzinfo=UTC)
KEY = SessionClaim(SessionKind.KEY, "ab" * 32, AT)
USER = SessionClaim(SessionKind.USER, "01JDUSER0000000000000000AB", AT)
SIGNER = SessionSigner(b"k" * 32)


@pytest.mark.parametrize("claim", [KEY, USER], ids=["key", "user"])
def test_a_signed_cookie_gives_back_its_claim(claim: SessionClaim) -> None:
    assert SIGNER.claim_from(SIGNER.cookie_for(claim), AT) == claim


def test_another_secret_does_not_accept_the_cookie() -> None:
    assert SessionSigner(b"j" * 32).claim_from(SIGNER.cookie_for(KEY), AT) is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: c.replace("ab" * 32, "cd" * 32),  # another key's digest
        lambda c: "u" + c[1:],  # the key's digest passed off as a user id
        lambda c: c.replace(".1", ".2", 1),  # a later issue time
    ],
    ids=["subject", "kind", "issue-time"],
)
def test_an_altered_cookie_is_refused(forge: object) -> None:
    cookie = SIGNER.cookie_for(KEY)
    altered = forge(cookie)  # type: ignore[operator]
    assert altered != cookie
    assert SIGNER.claim_from(altered, AT) is None


def test_a_cookie_expires_after_the_session_lifetime() -> None:
    cookie = SIGNER.cookie_for(USER)
    assert SIGNER.claim_from(cookie, AT + SESSION_LIFETIME - timedelta(seconds=1)) == USER
    assert SIGNER.claim_from(cookie, AT + SESSION_LIFETIME) is None


def test_a_cookie_from_the_future_is_accepted_only_within_the_clock_skew() -> None:
    cookie = SIGNER.cookie_for(USER)
    assert SIGNER.claim_from(cookie, AT - CLOCK_SKEW) == USER
    assert SIGNER.claim_from(cookie, AT - CLOCK_SKEW - timedelta(seconds=1)) is None


def test_a_key_claim_must_carry_a_sha256_digest() -> None:
    not_a_digest = SessionClaim(SessionKind.KEY, "abc", AT)
    assert SIGNER.claim_from(SIGNER.cookie_for(not_a_digest), AT) is None


@given(st.text(max_size=160))
def test_arbitrary_cookies_are_refused(cookie: str) -> None:
    assert SIGNER.claim_from(cookie, AT) is None


def test_the_csrf_token_is_per_session() -> None:
    token = SIGNER.csrf_token(KEY)
    assert SIGNER.csrf_ok(KEY, token)
    assert not SIGNER.csrf_ok(USER, token)
    assert not SIGNER.csrf_ok(SessionClaim(KEY.kind, KEY.subject, AT + timedelta(hours=1)), token)
    assert not SIGNER.csrf_ok(KEY, "")
