"""DKIM signing keys: generation, PEM round trip, and the DNS TXT record that publishes them.

Owns the two key types postillon signs with (RSA, RFC 8301 §3.2: at least 1024 bits to verify,
2048 generated; Ed25519, RFC 8463) and the key record text (RFC 6376 §3.6.1). Does not store
keys (see :mod:`postillon.dkim.keystore`) and does not query DNS.
"""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from postillon.dkim.errors import KeyFormatError

# Receivers (Gmail, Microsoft) expect 2048 bits; RFC 8301 §3.2 makes 1024 the floor for
# verifiers. We generate 2048: 4096 would need TXT records some DNS hosting rejects.
RSA_KEY_BITS = 2048
# We refuse to sign with less: a shorter key is treated as no signature by receivers.
MIN_RSA_KEY_BITS = 2048
# RFC 8017 §3.1 / common practice: F4.
RSA_PUBLIC_EXPONENT = 65537
# RFC 1035 §3.3.14: one <character-string> in a TXT record holds at most 255 octets.
MAX_TXT_STRING_OCTETS = 255

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class KeyType(enum.Enum):
    """The ``k=`` tag of the key record and the algorithm in the ``a=`` tag."""

    RSA = "rsa"
    ED25519 = "ed25519"

    @property
    def algorithm(self) -> str:
        """The ``a=`` value signatures made with this key type carry."""
        return "rsa-sha256" if self is KeyType.RSA else "ed25519-sha256"


@dataclass(frozen=True, eq=False)
class SigningKey:
    """A private key postillon can sign with; ``eq=False``: keys compare by identity."""

    private_key: PrivateKey

    @property
    def key_type(self) -> KeyType:
        """RSA or Ed25519."""
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return KeyType.RSA
        return KeyType.ED25519

    def public_key_data(self) -> str:
        """The ``p=`` value: base64 of the DER SubjectPublicKeyInfo for RSA (what
        ``openssl rsa -pubout`` gives and every verifier reads), of the raw 32-octet public
        key for Ed25519 (RFC 8463 §4.2)."""
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            der = public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        else:
            der = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(der).decode("ascii")

    def txt_record(self) -> str:
        """The key record to publish at ``<selector>._domainkey.<domain>`` (RFC 6376 §3.6.1)."""
        return f"v=DKIM1; k={self.key_type.value}; p={self.public_key_data()}"

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (seal it before it touches a disk)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def generate_rsa_key(bits: int = RSA_KEY_BITS) -> SigningKey:
    """A new RSA key pair of ``bits`` bits (the OS's randomness, through OpenSSL)."""
    if bits < MIN_RSA_KEY_BITS:
        raise KeyFormatError(f"RSA keys below {MIN_RSA_KEY_BITS} bits are not generated")
    return SigningKey(rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=bits))


def generate_ed25519_key() -> SigningKey:
    """A new Ed25519 key pair (RFC 8463)."""
    return SigningKey(ed25519.Ed25519PrivateKey.generate())


def load_private_key(pem: bytes) -> SigningKey:
    """Load an unencrypted PEM private key; raises :class:`KeyFormatError` unless it is RSA of
    at least 2048 bits or Ed25519."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a usable PEM private key: {exc}") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_KEY_BITS:
            raise KeyFormatError(f"RSA key of {key.key_size} bits; at least 2048 are needed")
        return SigningKey(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return SigningKey(key)
    raise KeyFormatError(f"unsupported key type {type(key).__name__}; RSA or Ed25519 only")


def split_txt(value: str) -> tuple[str, ...]:
    """``value`` cut into character-strings of at most 255 octets, to be published together
    as one TXT record; verifiers concatenate them (RFC 6376 §3.6.2.2)."""
    data = value.encode("ascii")
    return tuple(
        data[i : i + MAX_TXT_STRING_OCTETS].decode("ascii")
        for i in range(0, max(len(data), 1), MAX_TXT_STRING_OCTETS)
    )


def record_name(selector: str, domain: str) -> str:
    """The DNS name of the key record: ``<selector>._domainkey.<domain>`` (RFC 6376 §3.6.2.1)."""
    return f"{selector}._domainkey.{domain.rstrip('.').lower()}"
