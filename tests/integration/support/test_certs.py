"""The test PKI: a valid certificate verifies; expired, wrong-name and self-signed ones fail."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl

import pytest
from cryptography import x509

from tests.support.certs import CertKind, TestPki

HOST = "127.0.0.40"
TLS_TIMEOUT_S = 10.0


async def _handshake(pki: TestPki, kind: CertKind, server_hostname: str) -> str:
    """TLS handshake against a server presenting ``kind``; returns the TLS version."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(
        serve, HOST, 0, ssl=pki.server_context(server_hostname, kind)
    )
    port = server.sockets[0].getsockname()[1]
    try:
        async with asyncio.timeout(TLS_TIMEOUT_S):
            _, writer = await asyncio.open_connection(
                HOST, port, ssl=pki.client_context(), server_hostname=server_hostname
            )
        version = writer.get_extra_info("ssl_object").version()
        writer.close()
        return str(version)
    finally:
        server.close()
        await server.wait_closed()


async def test_valid_certificate_verifies(pki: TestPki) -> None:
    assert (await _handshake(pki, "valid", "mx.test")).startswith("TLSv1.")


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        pytest.param("expired", "certificate has expired", id="expired"),
        pytest.param("wrong_name", "Hostname mismatch", id="wrong-name"),
        pytest.param("self_signed", "self-signed certificate", id="self-signed"),
    ],
)
async def test_bad_certificate_fails_verification(
    pki: TestPki, kind: CertKind, reason: str
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=reason):
        await _handshake(pki, kind, "mx.test")


def test_issue_writes_chain_and_key_for_every_name(pki: TestPki) -> None:
    files = pki.issue("a.test", "b.test", "127.0.0.40")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_path, files.key_path)
    leaf = x509.load_pem_x509_certificates(files.cert_path.read_bytes())[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["a.test", "b.test"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.40")]
    assert pki.ca_pem_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
