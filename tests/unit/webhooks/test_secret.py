"""whsec_ secrets: injected generation, strict parsing, redaction, rotation overlap."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.errors import PermanentError
from postillon.webhooks.errors import InvalidSecretError
from postillon.webhooks.secret import (
    DEFAULT_SECRET_BYTES,
    ROTATION_OVERLAP,
    SecretRing,
    WebhookSecret,
    generate_secret,
    parse_secret,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def fixed_bytes(n: int) -> bytes:
    return bytes([7]) * n


def test_generation_uses_the_injected_randomness() -> None:
    secret = generate_secret(fixed_bytes)
    assert secret.key == bytes([7]) * DEFAULT_SECRET_BYTES
    assert str(secret) == "whsec_" + base64.b64encode(bytes([7]) * 32).decode()


def test_generation_refuses_sizes_outside_the_spec() -> None:
    for size in (23, 65):
        with pytest.raises(InvalidSecretError, match="24-64 bytes"):
            generate_secret(fixed_bytes, size)


def test_a_short_random_source_is_caught() -> None:
    with pytest.raises(InvalidSecretError, match="gave 3 bytes"):
        generate_secret(lambda n: b"abc")


def test_repr_never_shows_the_key() -> None:
    secret = generate_secret(fixed_bytes)
    assert "whsec" not in repr(secret)
    assert str(secret.key) not in repr(secret)


@given(st.binary(min_size=24, max_size=64))
def test_text_form_round_trips(key: bytes) -> None:
    secret = WebhookSecret(key)
    assert parse_secret(str(secret)) == secret


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id="no-prefix"),
        pytest.param("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id="asymmetric-prefix"),
        pytest.param("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!aSw", id="not-base64"),
        pytest.param("whsec_" + base64.b64encode(b"x" * 23).decode(), id="23-bytes"),
        pytest.param("whsec_" + base64.b64encode(b"x" * 65).decode(), id="65-bytes"),
        pytest.param("whsec_", id="empty"),
    ],
)
def test_malformed_secrets_are_refused(text: str) -> None:
    with pytest.raises(InvalidSecretError) as caught:
        parse_secret(text)
    assert isinstance(caught.value, PermanentError)


def test_rotation_signs_with_both_until_the_overlap_ends() -> None:
    old, new = WebhookSecret(b"o" * 32), WebhookSecret(b"n" * 32)
    ring = SecretRing(old).rotate(new, T0)
    assert ring.signing_secrets(T0) == (new, old)
    assert ring.signing_secrets(T0 + ROTATION_OVERLAP - timedelta(seconds=1)) == (new, old)
    assert ring.signing_secrets(T0 + ROTATION_OVERLAP) == (new,)


def test_a_second_rotation_drops_the_oldest_secret() -> None:
    a, b, c = (WebhookSecret(bytes([i]) * 32) for i in (1, 2, 3))
    ring = SecretRing(a).rotate(b, T0).rotate(c, T0 + timedelta(hours=1))
    assert ring.signing_secrets(T0 + timedelta(hours=2)) == (c, b)


def test_a_previous_secret_needs_its_end() -> None:
    with pytest.raises(InvalidSecretError):
        SecretRing(WebhookSecret(b"n" * 32), previous=WebhookSecret(b"o" * 32))
