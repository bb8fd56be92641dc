"""Key generation, PEM round trip, TXT records and their 255-octet strings, selectors."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from postillon.clock import FakeClock
from postillon.dkim.errors import KeyFormatError
from postillon.dkim.keys import (
    MAX_TXT_STRING_OCTETS,
    KeyType,
    SigningKey,
    generate_rsa_key,
    load_private_key,
    record_name,
    split_txt,
)
from postillon.dkim.selector import dated_selector
from postillon.dkim.signer import DkimSigner, sign_message


def test_rsa_key_is_2048_bits_and_its_record_verifies(rsa_key: SigningKey) -> None:
    private = rsa_key.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    assert rsa_key.key_type is KeyType.RSA
    record = rsa_key.txt_record()
    assert record.startswith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
    strings = split_txt(record)
    assert len(strings) == 2
    assert all(len(s.encode()) <= MAX_TXT_STRING_OCTETS for s in strings)
    assert "".join(strings) == record

    # dkimpy reads the record joined from its strings, as a resolver hands it over.
    signer = DkimSigner("example.com", "s1", rsa_key, FakeClock(datetime.now(UTC)))
    signed = sign_message(b"From: a@example.com\r\n\r\nhi\r\n", [signer])

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.example.com."
        return "".join(strings).encode()

    assert dkim.verify(signed, dnsfunc=dns)


def test_ed25519_record_is_the_raw_key(ed_key: SigningKey) -> None:
    assert ed_key.key_type is KeyType.ED25519
    record = ed_key.txt_record()
    assert re.fullmatch(r"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=", record)
    assert split_txt(record) == (record,)


@pytest.mark.parametrize(
    ("value", "lengths"),
    [
        pytest.param("", [0], id="empty"),
        pytest.param("a" * 255, [255], id="exactly-one"),
        pytest.param("a" * 256, [255, 1], id="one-over"),
        pytest.param("a" * 600, [255, 255, 90], id="three"),
    ],
)
def test_split_txt(value: str, lengths: list[int]) -> None:
    parts = split_txt(value)
    assert [len(p) for p in parts] == lengths
    assert "".join(parts) == value


@pytest.mark.parametrize("fixture", ["rsa_key", "ed_key"])
def test_pem_round_trip(fixture: str, request: pytest.FixtureRequest) -> None:
    key: SigningKey = request.getfixturevalue(fixture)
    loaded = load_private_key(key.private_pem())
    assert loaded.key_type is key.key_type
    assert loaded.txt_record() == key.txt_record()


def _pem(private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.mark.parametrize(
    "pem",
    [
        pytest.param(b"not a key", id="garbage"),
        pytest.param(_pem(rsa.generate_private_key(65537, 1024)), id="rsa-1024"),
        pytest.param(_pem(ec.generate_private_key(ec.SECP256R1())), id="ecdsa"),
    ],
)
def test_load_refuses_unusable_keys(pem: bytes) -> None:
    with pytest.raises(KeyFormatError):
        load_private_key(pem)


def test_small_rsa_keys_are_not_generated() -> None:
    with pytest.raises(KeyFormatError):
        generate_rsa_key(1024)


def test_record_name() -> None:
    assert (
        record_name("pst20261129-abc", "Example.COM.") == "pst20261129-abc._domainkey.example.com"
    )


def test_dated_selector() -> None:
    selector = dated_selector(date(2026, 11, 29), lambda n: b"\x00" * n)
    assert selector == "pst20261129-aaaaaaaa"
    other = dated_selector(date(2026, 11, 29), lambda n: b"\xff" * n)
    assert other == "pst20261129-77777777"
    assert re.fullmatch(r"[a-z0-9-]{1,63}", selector)
