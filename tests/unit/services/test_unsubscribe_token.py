"""Unsubscribe tokens: read back, refused when altered, made under another key, or malformed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postillon.services.unsubscribe_token import UnsubscribeTarget, UnsubscribeTokens

TOKENS = UnsubscribeTokens.derive(b"\x01" * 32)
TARGET = UnsubscribeTarget("01JACCOUNT", "ada@example.test", "<abc@shop.example>")


def test_round_trip_and_url_safe() -> None:
    token = TOKENS.make(TARGET)
    assert TOKENS.read(token) == TARGET
    assert all(c.isalnum() or c in "-_." for c in token)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="no-tag"),
        pytest.param("a.b.c", id="two-dots"),
        pytest.param("!!!.???", id="not-base64"),
        pytest.param("x" * 5000 + ".y", id="too-long"),
    ],
)
def test_malformed_tokens_read_as_none(token: str) -> None:
    assert TOKENS.read(token) is None


def test_another_key_or_payload_does_not_verify() -> None:
    token = TOKENS.make(TARGET)
    assert UnsubscribeTokens.derive(b"\x02" * 32).read(token) is None
    other = TOKENS.make(UnsubscribeTarget("01JACCOUNT", "eve@example.test", "<abc@shop.example>"))
    body, _, _ = other.partition(".")
    _, _, tag = token.partition(".")
    assert TOKENS.read(f"{body}.{tag}") is None


def test_key_is_not_in_repr() -> None:
    assert repr(TOKENS) == "UnsubscribeTokens()"


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=7))
def test_a_bit_flip_never_names_another_target(index: int, bit: int) -> None:
    # Base64's spare low bits in a last character decode to the same octets (same target);
    # every other flip breaks the tag.
    token = TOKENS.make(TARGET)
    raw = bytearray(token.encode())
    raw[index % len(raw)] ^= 1 << bit
    assert TOKENS.read(raw.decode("latin-1")) in (None, TARGET)
