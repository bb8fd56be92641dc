"""TLS for SMTP: the modes, the client contexts, and :class:`TlsInfo`, what each connection reports.

Owns building client ``ssl.SSLContext`` objects for the STARTTLS modes and judging a peer's
certificate. ``VERIFIED`` lets OpenSSL verify the chain and the MX host name during the handshake
(system CAs plus an optional extra CA file) and fails without it. ``DANE`` requires STARTTLS,
accepts the handshake whatever the certificate, and hands the chain the server sent to the
connection's :data:`Authenticator` (the TLSA check, RFC 7672), which alone decides.
``OPPORTUNISTIC`` accepts any certificate, yet still verifies it afterwards with ``cryptography``'s
X.509 verifier (same trust anchors, same name) only to *report* whether it would have passed and why
not. Must not do network I/O.
"""

from __future__ import annotations

import functools
import re
import ssl
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
ANY_EKU = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
# _ssl's constant for DER output of Certificate.public_bytes (ssl does not re-export it).
_ENCODING_DER = 2


class TlsMode(StrEnum):
    """How a connection uses STARTTLS."""

    DISABLED = "disabled"  # never STARTTLS (the plaintext retry after a failed handshake)
    OPPORTUNISTIC = "opportunistic"  # STARTTLS when offered, any certificate
    VERIFIED = "verified"  # STARTTLS required, certificate must verify for the MX host
    DANE = "dane"  # STARTTLS required, the certificate is judged by the authenticator alone


@dataclass(frozen=True)
class PeerCheck:
    """An authenticator's verdict: ``detail`` names what matched (e.g. "TLSA 3 1 1"), or why
    nothing did."""

    ok: bool
    detail: str


Authenticator = Callable[[Sequence[bytes], datetime], PeerCheck]
"""Judges the chain a server sent (DER, leaf first) at a time; used in DANE mode. None in DANE
mode means "TLS required, any certificate" (RFC 7672 §2.2: TLSA records, none usable)."""


@dataclass(frozen=True)
class TlsInfo:
    """What TLS a connection used. ``reason`` says why TLS was not used, or not verified."""

    used: bool
    version: str | None = None
    cipher: str | None = None
    verified: bool = False
    reason: str | None = None
    dane_tlsa: str | None = None  # usage selector matching of the TLSA record that matched

    def __str__(self) -> str:
        if not self.used:
            return f"no TLS ({self.reason or 'not offered'})"
        state = "verified" if self.verified else f"not verified: {self.reason}"
        if self.dane_tlsa:
            state = f"DANE TLSA {self.dane_tlsa}"
        return f"{self.version} {self.cipher} ({state})"


def client_context(mode: TlsMode, ca_file: Path | None = None) -> ssl.SSLContext:
    """The client context for ``mode`` (not for DISABLED): verifying, or accepting anything."""
    if mode is TlsMode.VERIFIED:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if ca_file is not None:
            context.load_verify_locations(cafile=str(ca_file))
        return context
    if mode in (TlsMode.OPPORTUNISTIC, TlsMode.DANE):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        # Opportunistic TLS (RFC 7435): an unverified channel beats plaintext. Under DANE the
        # TLSA records judge the chain after the handshake (RFC 7672 §3), not the CA store.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    raise ValueError(f"no TLS context for mode {mode}")


def _check_server_auth(
    policy: verification.Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None
) -> None:
    if eku is not None and not {SERVER_AUTH, ANY_EKU} & set(eku):
        raise ValueError("certificate is not for TLS servers (extended key usage)")


# The Web PKI leaf profile, relaxed where OpenSSL (which the VERIFIED mode uses) is relaxed:
# it does not care whether subjectAltName or extendedKeyUsage are marked critical, nor whether
# an authorityKeyIdentifier is present.
_EE_POLICY = (
    verification.ExtensionPolicy.webpki_defaults_ee()
    .require_present(x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None)
    .may_be_present(x509.AuthorityKeyIdentifier, verification.Criticality.AGNOSTIC, None)
    .may_be_present(x509.ExtendedKeyUsage, verification.Criticality.AGNOSTIC, _check_server_auth)
)


def _load_pems(path: Path) -> list[x509.Certificate]:
    certs = []
    for block in _PEM_BLOCK.findall(path.read_bytes()):
        # One odd system certificate (cryptography warns on some legacy roots) is skipped; it
        # must neither disable reporting nor turn into an error under warnings-as-errors.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                certs.append(x509.load_pem_x509_certificate(block))
            except (ValueError, Warning):
                continue
    return certs


@functools.lru_cache(maxsize=8)
def _trust_store(ca_file: Path | None) -> verification.Store:
    paths = ssl.get_default_verify_paths()
    certs: list[x509.Certificate] = []
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            certs += _load_pems(Path(candidate))
            break
    if ca_file is not None:
        certs += _load_pems(ca_file)
    return verification.Store(certs)


def peer_chain_der(ssl_object: ssl.SSLObject) -> list[bytes]:
    """The certificates the peer sent, leaf first, as DER (just the leaf if the chain is hidden)."""
    # The full unverified chain is public only from Python 3.13; 3.11/3.12 have it privately.
    inner = getattr(ssl_object, "_sslobj", None)
    get_chain = getattr(inner, "get_unverified_chain", None)
    if get_chain is not None:
        chain = get_chain() or []
        return [cert.public_bytes(_ENCODING_DER) for cert in chain]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def verification_failure(
    chain_der: list[bytes], server_name: str, ca_file: Path | None, now: datetime
) -> str | None:
    """Why ``chain_der`` does not verify for ``server_name`` at ``now``; None if it does."""
    if not chain_der:
        return "the server sent no certificate"
    try:
        leaf, *intermediates = (x509.load_der_x509_certificate(der) for der in chain_der)
    except ValueError as error:
        return f"unreadable certificate: {error}"
    subject: x509.DNSName | x509.IPAddress
    try:
        subject = x509.IPAddress(ip_address(server_name))
    except ValueError:
        subject = x509.DNSName(server_name)
    try:
        verifier = (
            verification.PolicyBuilder()
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(), ee_policy=_EE_POLICY
            )
            .store(_trust_store(ca_file))
            .time(now)
            .build_server_verifier(subject)
        )
        verifier.verify(leaf, intermediates)
    except (verification.VerificationError, ValueError) as error:
        return _reason(str(error) or type(error).__name__)
    return None


def _reason(message: str) -> str:
    # Keep the reason, drop the repr of the certificate cryptography appends.
    message = message.split(" (encountered processing", maxsplit=1)[0]
    if "no interior errors" in message:
        # cryptography found no issuer at all: OpenSSL says "unable to get local issuer".
        return "no trusted issuer (self-signed or unknown CA)"
    return message
