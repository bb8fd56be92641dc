"""Shared DKIM test fixtures: one RSA and one Ed25519 key per session (RSA generation is slow)."""

from __future__ import annotations

import pytest

from postillon.dkim.keys import SigningKey, generate_ed25519_key, generate_rsa_key


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return generate_rsa_key()


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return generate_ed25519_key()
