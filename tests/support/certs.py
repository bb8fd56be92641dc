"""A throwaway PKI for tests: one trustme CA, leaf certificates in files, TLS contexts.

Owns: issuing test certificates (valid, expired, wrong name, self-signed) into a directory and
building server and client ``ssl.SSLContext`` objects from them. It must not touch the system
trust store or any path outside the directory it is given.
"""

from __future__ import annotations

import datetime as dt
import itertools
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CertKind = Literal["valid", "expired", "wrong_name", "self_signed"]

# The name a "wrong_name" certificate is issued for: .invalid can never be a real host (RFC 2606).
WRONG_NAME = "wrong.invalid"
# Validity of an expired certificate: ended a day ago, so no clock skew makes it valid again.
EXPIRED_ENDED_AGO = dt.timedelta(days=1)
EXPIRED_LIFETIME = dt.timedelta(days=30)
# Validity of a self-signed certificate: long enough to outlive any test session.
SELF_SIGNED_LIFETIME = dt.timedelta(days=365)


@dataclass(frozen=True)
class CertFiles:
    """A PEM certificate chain and its private key on disk."""

    cert_path: Path
    key_path: Path


class TestPki:
    """A test CA whose files live under ``directory``; issues leaf certificates on demand.

    ``ca_pem_path`` is the CA bundle a client trusts. ``client_context()`` trusts only this CA.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA(organization_name="postillon tests")
        self.ca_pem_path = directory / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_pem_path))
        self._serial = itertools.count(1)
        self._issued: dict[tuple[str, str], CertFiles] = {}

    def _paths(self, label: str) -> CertFiles:
        n = next(self._serial)
        safe = "".join(c if c.isalnum() or c in "-." else "_" for c in label)[:60]
        return CertFiles(
            cert_path=self.directory / f"{n:03d}-{safe}.crt",
            key_path=self.directory / f"{n:03d}-{safe}.key",
        )

    def issue(self, *hostnames: str, expired: bool = False) -> CertFiles:
        """Issue a leaf certificate from our CA for ``hostnames`` (DNS names or IPs).

        With ``expired=True`` its validity ended a day ago. Returns the chain and key files.
        """
        if not hostnames:
            raise ValueError("issue() needs at least one hostname")
        not_before: dt.datetime | None = None
        not_after: dt.datetime | None = None
        if expired:
            now = dt.datetime.now(dt.UTC)
            not_after = now - EXPIRED_ENDED_AGO
            not_before = not_after - EXPIRED_LIFETIME
        leaf = self.ca.issue_cert(*hostnames, not_before=not_before, not_after=not_after)
        files = self._paths(("expired-" if expired else "") + hostnames[0])
        leaf.private_key_pem.write_to_path(str(files.key_path))
        files.cert_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        return files

    def self_signed(self, hostname: str) -> CertFiles:
        """A certificate for ``hostname`` signed by its own key, not by our CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + SELF_SIGNED_LIFETIME)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        files = self._paths("selfsigned-" + hostname)
        files.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files.key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return files

    def cert_files(self, hostname: str, kind: CertKind = "valid") -> CertFiles:
        """The certificate files of ``kind`` for ``hostname`` (issued once, then reused)."""
        key = (hostname, kind)
        files = self._issued.get(key)
        if files is None:
            if kind == "valid":
                files = self.issue(hostname)
            elif kind == "expired":
                files = self.issue(hostname, expired=True)
            elif kind == "wrong_name":
                files = self.issue(WRONG_NAME)
            elif kind == "self_signed":
                files = self.self_signed(hostname)
            else:
                raise ValueError(f"unknown certificate kind {kind!r}")
            self._issued[key] = files
        return files

    def server_context(self, hostname: str, kind: CertKind = "valid") -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate of ``kind`` for ``hostname``.

        ``wrong_name`` is a valid chain from our CA for ``wrong.invalid``.
        """
        files = self.cert_files(hostname, kind)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(files.cert_path), str(files.key_path))
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client-side TLS context trusting only our CA, with hostname checking on."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_pem_path))
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx
