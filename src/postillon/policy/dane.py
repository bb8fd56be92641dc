"""DANE for SMTP (RFC 7672, RFC 7671): which TLSA records count, and whether a chain matches.

Owns: sorting a secure TLSA RRset into usable and unusable records (RFC 7672 §3.1.3: only
DANE-TA(2) and DANE-EE(3), selectors 0/1, matching types 0/1/2 with the right digest length),
and authenticating the certificate chain a server sent against the usable ones with
``cryptography``: DANE-EE matches the leaf alone and ignores names and dates (RFC 7672 §3.1.1);
DANE-TA matches a certificate of the chain the server sent and verifies the leaf up to it, with
names (the MX host and its secure CNAME target, RFC 7672 §3.2.2) and validity dates. Pure: it
must not look anything up nor open connections (the resolver finds the TLSA records, the
transport hands over the chain).

Where the chain comes from: Python's ``ssl`` module gives only the leaf publicly before 3.13
(``getpeercert(binary_form=True)``); 3.13 adds ``SSLObject.get_unverified_chain()`` (what the
server sent) and ``get_verified_chain()`` (what OpenSSL built, useless here since we skip
OpenSSL's verification). On 3.11/3.12 the same ``get_unverified_chain`` exists on the private
``_ssl._SSLSocket`` behind the ``SSLObject``; ``postillon.transport.tls.peer_chain_der`` uses
it and falls back to the leaf, so DANE-EE always works and DANE-TA needs the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification

# RFC 7218 §2.1 certificate usages; PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (RFC 7672
# §3.1.3).
DANE_TA = 2
DANE_EE = 3
USAGE_NAMES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
# RFC 6698 §2.1.2 selectors: the whole certificate or its SubjectPublicKeyInfo.
SELECTOR_CERT = 0
SELECTOR_SPKI = 1
# RFC 6698 §2.1.3 matching types: exact data, SHA-256, SHA-512, with the digest lengths.
DIGEST_LENGTHS = {1: 32, 2: 64}

# The leaf profile for DANE-TA: names and dates as RFC 7672 §3.2 asks, without Web PKI details
# SMTP servers often miss (SAN or EKU criticality, authorityKeyIdentifier); the CA side keeps
# the Web PKI defaults (basicConstraints, key usage) for the certificates up to the anchor.
_DANE_TA_LEAF = (
    verification.ExtensionPolicy.webpki_defaults_ee()
    .require_present(x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None)
    .may_be_present(x509.AuthorityKeyIdentifier, verification.Criticality.AGNOSTIC, None)
    .may_be_present(x509.ExtendedKeyUsage, verification.Criticality.AGNOSTIC, None)
)


class TlsaRecord(Protocol):
    """One TLSA record (RFC 6698 §2.1), as ``postillon.dns.records.TlsaRecord`` carries it."""

    @property
    def usage(self) -> int: ...
    @property
    def selector(self) -> int: ...
    @property
    def matching_type(self) -> int: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True)
class TlsaSet:
    """A secure TLSA RRset split as RFC 7672 §3.1.3 says."""

    usable: tuple[TlsaRecord, ...]
    unusable: tuple[TlsaRecord, ...]


@dataclass(frozen=True)
class DaneResult:
    """The verdict on one chain: the record that matched, or why none did."""

    matched: TlsaRecord | None
    failure: str | None = None

    @property
    def label(self) -> str | None:
        """``"3 1 1"``: usage, selector and matching type of the matched record."""
        m = self.matched
        return None if m is None else f"{m.usage} {m.selector} {m.matching_type}"


def _is_usable(record: TlsaRecord) -> bool:
    if record.usage not in (DANE_TA, DANE_EE) or record.selector not in (0, 1):
        return False
    if record.matching_type == 0:
        return bool(record.data)
    return DIGEST_LENGTHS.get(record.matching_type) == len(record.data)


def classify(records: Iterable[TlsaRecord]) -> TlsaSet:
    """Usable and unusable records, in the order given."""
    records = tuple(records)
    return TlsaSet(
        tuple(r for r in records if _is_usable(r)),
        tuple(r for r in records if not _is_usable(r)),
    )


def _selected(cert: x509.Certificate, selector: int) -> bytes:
    if selector == SELECTOR_CERT:
        return cert.public_bytes(serialization.Encoding.DER)
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def association_data(cert: x509.Certificate, selector: int, matching_type: int) -> bytes:
    """The certificate association data of ``cert`` (RFC 6698 §2.1.4)."""
    selected = _selected(cert, selector)
    if matching_type == 1:
        return hashlib.sha256(selected).digest()
    if matching_type == 2:
        return hashlib.sha512(selected).digest()
    return selected


def _matches(cert: x509.Certificate, record: TlsaRecord) -> bool:
    return association_data(cert, record.selector, record.matching_type) == record.data


def _name_failure(
    leaf: x509.Certificate,
    chain: Sequence[x509.Certificate],
    anchor: x509.Certificate,
    names: Sequence[str],
    now: datetime,
) -> str | None:
    """Why ``leaf`` does not verify up to ``anchor`` for any of ``names``; None if it does."""
    reasons: list[str] = []
    for name in names:
        subject: x509.DNSName | x509.IPAddress
        try:
            subject = x509.IPAddress(ip_address(name))
        except ValueError:
            subject = x509.DNSName(name)
        try:
            verifier = (
                verification.PolicyBuilder()
                .extension_policies(
                    ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                    ee_policy=_DANE_TA_LEAF,
                )
                .store(verification.Store([anchor]))
                .time(now)
                .build_server_verifier(subject)
            )
            verifier.verify(leaf, list(chain))
        except (verification.VerificationError, ValueError) as error:
            text = str(error).split(" (encountered processing", maxsplit=1)[0]
            reasons.append(f"{name}: {text}")
            continue
        return None
    return "; ".join(reasons) or "no reference name"


def authenticate(
    chain_der: Sequence[bytes], records: Sequence[TlsaRecord], names: Sequence[str], now: datetime
) -> DaneResult:
    """Match the chain the server sent (leaf first) against usable TLSA ``records``.

    ``names`` are the reference identifiers for DANE-TA (RFC 7672 §3.2.2); ``now`` is when the
    DANE-TA chain must be valid. DANE-EE is tried first: it needs nothing but the leaf.
    """
    if not chain_der:
        return DaneResult(None, "the server sent no certificate")
    try:
        certs = [x509.load_der_x509_certificate(der) for der in chain_der]
    except ValueError as error:
        return DaneResult(None, f"unreadable certificate: {error}")
    leaf = certs[0]
    for record in records:
        if record.usage == DANE_EE and _matches(leaf, record):
            return DaneResult(record)
    failures: list[str] = []
    for record in records:
        if record.usage != DANE_TA:
            continue
        for depth, cert in enumerate(certs[1:], start=1):
            if not _matches(cert, record):
                continue
            failure = _name_failure(leaf, certs[1:depth], cert, names, now)
            if failure is None:
                return DaneResult(record)
            failures.append(
                f"TLSA {record.usage} {record.selector} {record.matching_type}: {failure}"
            )
    if failures:
        return DaneResult(None, "DANE-TA chain did not verify (" + "; ".join(failures) + ")")
    kinds = sorted({USAGE_NAMES[r.usage] for r in records})
    return DaneResult(None, f"the certificate chain matches no TLSA record ({', '.join(kinds)})")
