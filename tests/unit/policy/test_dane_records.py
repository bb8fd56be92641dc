"""TLSA usability (RFC 7672 §3.1.3) and DANE-EE matching on cryptography, without a network."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from postillon.dns.records import TlsaRecord
from postillon.policy.dane import authenticate, classify

NOW = dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("record", "usable"),
    [
        (TlsaRecord(3, 1, 1, b"\x00" * 32), True),
        (TlsaRecord(2, 0, 2, b"\x00" * 64), True),
        (TlsaRecord(3, 0, 0, b"\x30\x00"), True),
        (TlsaRecord(0, 1, 1, b"\x00" * 32), False),  # PKIX-TA
        (TlsaRecord(1, 1, 1, b"\x00" * 32), False),  # PKIX-EE
        (TlsaRecord(3, 2, 1, b"\x00" * 32), False),  # no such selector
        (TlsaRecord(3, 1, 3, b"\x00" * 32), False),  # no such matching type
        (TlsaRecord(3, 1, 1, b"\x00" * 31), False),  # SHA-256 digest of the wrong length
    ],
)
def test_only_dane_ta_and_dane_ee_with_known_parameters_are_usable(
    record: TlsaRecord, usable: bool
) -> None:
    result = classify([record])
    assert (record in result.usable, record in result.unusable) == (usable, not usable)


def _leaf(*names: str, expired: bool = False) -> x509.Certificate:
    ca = trustme.CA()
    ended = NOW - dt.timedelta(days=1)
    cert = ca.issue_cert(
        *names,
        not_before=ended - dt.timedelta(days=30) if expired else None,
        not_after=ended if expired else None,
    )
    return x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes())


def _spki_sha512(cert: x509.Certificate) -> bytes:
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha512(spki).digest()


def test_dane_ee_matches_the_leaf_key_whatever_its_name_and_dates() -> None:
    leaf = _leaf("somewhere.else.test", expired=True)
    der = leaf.public_bytes(serialization.Encoding.DER)
    result = authenticate([der], [TlsaRecord(3, 1, 2, _spki_sha512(leaf))], ["mx.test"], NOW)
    assert (result.label, result.failure) == ("3 1 2", None)
    full = authenticate([der], [TlsaRecord(3, 0, 0, der)], ["mx.test"], NOW)
    assert full.label == "3 0 0"


def test_a_chain_matching_no_record_fails_with_the_usages_it_tried() -> None:
    other, leaf = _leaf("mx.test"), _leaf("mx.test")
    der = leaf.public_bytes(serialization.Encoding.DER)
    result = authenticate([der], [TlsaRecord(3, 1, 2, _spki_sha512(other))], ["mx.test"], NOW)
    assert result.matched is None
    assert result.failure == "the certificate chain matches no TLSA record (DANE-EE)"
    assert authenticate([], [TlsaRecord(3, 1, 2, b"")], ["mx.test"], NOW).failure == (
        "the server sent no certificate"
    )
