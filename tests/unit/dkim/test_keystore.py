"""Private keys sealed with AES-GCM, bound to domain and selector; the master key file."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from postillon.dkim.errors import MasterKeyError, SealedKeyError
from postillon.dkim.keystore import MasterKey, open_private_key, seal_private_key
from postillon.dkim.master_key import load_or_create_master_key, master_key_from_text

MASTER = MasterKey(bytes(range(32)))
PEM = b"-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"


def _counter() -> Iterator[bytes]:
    n = 0
    while True:
        n += 1
        yield n.to_bytes(12, "big")


def test_round_trip_and_fresh_nonces() -> None:
    nonces = _counter()
    first = seal_private_key(MASTER, "example.com", "s1", PEM, lambda n: next(nonces)[:n])
    second = seal_private_key(MASTER, "example.com", "s1", PEM, lambda n: next(nonces)[:n])
    assert first != second
    assert PEM not in first
    assert open_private_key(MASTER, "example.com", "s1", first) == PEM
    assert open_private_key(MASTER, "EXAMPLE.com.", "s1", second) == PEM


SEALED = seal_private_key(MASTER, "example.com", "s1", PEM, os.urandom)
# The tag's last byte with one bit flipped: always a change, whatever the random nonce gave.
TAMPERED = SEALED[:-1] + bytes([SEALED[-1] ^ 1])


@pytest.mark.parametrize(
    ("master", "domain", "selector", "sealed"),
    [
        pytest.param(MASTER, "example.org", "s1", SEALED, id="other-domain"),
        pytest.param(MASTER, "example.com", "s2", SEALED, id="other-selector"),
        pytest.param(MasterKey(b"\x01" * 32), "example.com", "s1", SEALED, id="other-master"),
        pytest.param(MASTER, "example.com", "s1", TAMPERED, id="tampered-tag"),
        pytest.param(MASTER, "example.com", "s1", b"\x02" + SEALED[1:], id="unknown-version"),
        pytest.param(MASTER, "example.com", "s1", SEALED[:20], id="truncated"),
    ],
)
def test_wrong_binding_or_key_does_not_open(
    master: MasterKey, domain: str, selector: str, sealed: bytes
) -> None:
    with pytest.raises(SealedKeyError):
        open_private_key(master, domain, selector, sealed)


def test_master_key_material_is_32_octets_and_hidden() -> None:
    with pytest.raises(MasterKeyError):
        MasterKey(b"short")
    assert "material" not in repr(MASTER)


def test_key_file_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    old = os.umask(0)  # even with a permissive umask the file must be 0600
    try:
        created = load_or_create_master_key(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_master_key(path) == created
    sealed = seal_private_key(created, "example.com", "s", PEM, os.urandom)
    assert open_private_key(load_or_create_master_key(path), "example.com", "s", sealed) == PEM


def test_key_file_uses_injected_randomness(tmp_path: Path) -> None:
    key = load_or_create_master_key(tmp_path / "k", lambda n: b"\x07" * n)
    assert key == MasterKey(b"\x07" * 32)


@pytest.mark.parametrize(
    ("content", "mode"),
    [
        pytest.param(None, 0o644, id="world-readable"),
        pytest.param(None, 0o640, id="group-readable"),
        pytest.param(b"not base64!!\n", 0o600, id="not-base64"),
        pytest.param(b"c2hvcnQ=\n", 0o600, id="too-short"),
        pytest.param(b"A" * 1000, 0o600, id="too-large"),
    ],
)
def test_key_file_refused(tmp_path: Path, content: bytes | None, mode: int) -> None:
    path = tmp_path / "master.key"
    load_or_create_master_key(path)
    if content is not None:
        path.write_bytes(content)
    path.chmod(mode)
    with pytest.raises(MasterKeyError, match=str(path)):
        load_or_create_master_key(path)


def test_key_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError):
        load_or_create_master_key(tmp_path)


def test_master_key_from_config_text() -> None:
    text = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    assert master_key_from_text(text, "dkim.master_key") == MASTER
    with pytest.raises(MasterKeyError, match=r"dkim\.master_key"):
        master_key_from_text("AAEC", "dkim.master_key")
