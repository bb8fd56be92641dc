"""Certificate judgement for the TLS report, contexts per mode, TlsInfo text."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from postillon.transport.tls import TlsInfo, TlsMode, client_context, verification_failure
from tests.support.certs import CertKind, TestPki

NOW = datetime.now(UTC)


def chain_der(path: Path) -> list[bytes]:
    return [cert.public_bytes(Encoding.DER) for cert in x509.load_pem_x509_certificates(
        path.read_bytes()
    )]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "name", "reason"),
    [
        pytest.param("valid", "mx.test", None, id="valid"),
        pytest.param("valid", "other.test", "subjectAltName", id="other-name"),
        pytest.param("wrong_name", "mx.test", "subjectAltName", id="wrong-name"),
        pytest.param("expired", "mx.test", "not valid at validation time", id="expired"),
        pytest.param("self_signed", "mx.test", "no trusted issuer", id="self-signed"),
    ],
)
def test_verification_failure(pki: TestPki, kind: CertKind, name: str, reason: str | None) -> None:
    files = pki.cert_files("mx.test", kind)
    found = verification_failure(chain_der(files.cert_path), name, pki.ca_pem_path, NOW)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


def test_verification_needs_the_extra_ca(pki: TestPki) -> None:
    files = pki.cert_files("mx.test")
    assert verification_failure(chain_der(files.cert_path), "mx.test", None, NOW) is not None


def test_verification_uses_the_given_time(pki: TestPki) -> None:
    der = chain_der(pki.cert_files("mx.test").cert_path)
    before_issue = datetime(1999, 1, 1, tzinfo=UTC)  # trustme certificates start in 2000
    failure = verification_failure(der, "mx.test", pki.ca_pem_path, before_issue)
    assert failure is not None
    assert "validation time" in failure


def test_ip_address_names_are_matched_as_addresses(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.12")
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    der = [x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(
        Encoding.DER
    )]  # fmt: skip
    assert verification_failure(der, "127.0.0.12", ca_path, NOW) is None
    assert verification_failure(der, "127.0.0.13", ca_path, NOW) is not None


def test_no_certificate_is_a_reason() -> None:
    assert verification_failure([], "mx.test", None, NOW) == "the server sent no certificate"


def test_contexts_per_mode(pki: TestPki) -> None:
    verified = client_context(TlsMode.VERIFIED, pki.ca_pem_path)
    assert verified.verify_mode is ssl.CERT_REQUIRED
    assert verified.check_hostname
    opportunistic = client_context(TlsMode.OPPORTUNISTIC)
    assert opportunistic.verify_mode is ssl.CERT_NONE
    assert not opportunistic.check_hostname
    with pytest.raises(ValueError, match="disabled"):
        client_context(TlsMode.DISABLED)


@pytest.mark.parametrize(
    ("info", "text"),
    [
        pytest.param(TlsInfo(used=False), "no TLS (not offered)", id="none"),
        pytest.param(
            TlsInfo(used=True, version="TLSv1.3", cipher="X", verified=True),
            "TLSv1.3 X (verified)",
            id="verified",
        ),
        pytest.param(
            TlsInfo(used=True, version="TLSv1.2", cipher="Y", reason="expired"),
            "TLSv1.2 Y (not verified: expired)",
            id="unverified",
        ),
    ],
)
def test_tls_info_text(info: TlsInfo, text: str) -> None:
    assert str(info) == text
