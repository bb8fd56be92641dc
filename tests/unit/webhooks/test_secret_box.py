"""Endpoint secrets sealed at rest: they open only for their endpoint and master key."""

from __future__ import annotations

import os

import pytest

from postillon.webhooks.errors import InvalidSecretError
from postillon.webhooks.secret import WebhookSecret
from postillon.webhooks.secret_box import SecretBox

MASTER = bytes(range(32))
SECRET = WebhookSecret(b"k" * 32)


def test_a_sealed_secret_opens_for_its_endpoint() -> None:
    box = SecretBox(MASTER, os.urandom)

    sealed = box.seal("ep_1", SECRET)

    assert SECRET.key not in sealed
    assert box.open("ep_1", sealed) == SECRET


def test_two_seals_of_one_secret_differ() -> None:
    box = SecretBox(MASTER, os.urandom)

    assert box.seal("ep_1", SECRET) != box.seal("ep_1", SECRET)


@pytest.mark.parametrize(
    ("endpoint", "master", "tamper"),
    [
        pytest.param("ep_2", MASTER, False, id="other-endpoint"),
        pytest.param("ep_1", bytes(32), False, id="other-master-key"),
        pytest.param("ep_1", MASTER, True, id="altered"),
    ],
)
def test_a_sealed_secret_does_not_open_elsewhere(
    endpoint: str, master: bytes, tamper: bool
) -> None:
    sealed = bytearray(SecretBox(MASTER, os.urandom).seal("ep_1", SECRET))
    if tamper:
        sealed[-1] ^= 1

    with pytest.raises(InvalidSecretError) as raised:
        SecretBox(master, os.urandom).open(endpoint, bytes(sealed))

    assert SECRET.key.decode() not in str(raised.value)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(InvalidSecretError, match="unknown format"):
        SecretBox(MASTER, os.urandom).open("ep_1", b"\x02" + bytes(40))


def test_the_box_never_shows_its_key() -> None:
    assert repr(SecretBox(MASTER, os.urandom)) == "SecretBox(<redacted>)"


def test_a_short_master_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        SecretBox(bytes(16), os.urandom)
