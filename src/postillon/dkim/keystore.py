"""Private keys encrypted at rest: AES-256-GCM under the master key (NIST SP 800-38D).

A sealed key is ``version (1 octet) || nonce (12) || ciphertext || tag (16)``. The associated
data binds it to its domain and selector, so a sealed key copied to another domain's row (or
selector) does not open. Pure: the caller stores the bytes and passes in the randomness; the
master key comes from the config or :mod:`postillon.dkim.master_key`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from postillon.dkim.errors import MasterKeyError, SealedKeyError

# AES-256: 32-octet keys.
MASTER_KEY_OCTETS = 32
# SP 800-38D §8.2.2: 96-bit random nonces; with one nonce per sealed key, far below the 2^32
# messages per key that random nonces allow.
NONCE_OCTETS = 12
# Bumped if the format or the associated data ever change; old blobs stay readable by version.
SEALED_FORMAT_VERSION = 1
_AAD_LABEL = b"postillon dkim private key"


@dataclass(frozen=True)
class MasterKey:
    """The 256-bit key that seals DKIM private keys; its bytes never appear in ``repr``."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != MASTER_KEY_OCTETS:
            raise MasterKeyError(
                f"dkim master key must be {MASTER_KEY_OCTETS} octets, got {len(self.material)}"
            )


def _associated_data(domain: str, selector: str) -> bytes:
    # NUL separators: neither a domain nor a selector can contain one, so no two
    # (domain, selector) pairs give the same bytes.
    return b"\x00".join(
        (
            _AAD_LABEL,
            bytes([SEALED_FORMAT_VERSION]),
            domain.rstrip(".").lower().encode("idna"),
            selector.lower().encode("ascii"),
        )
    )


def seal_private_key(
    master: MasterKey,
    domain: str,
    selector: str,
    private_pem: bytes,
    random_bytes: Callable[[int], bytes],
) -> bytes:
    """Encrypt ``private_pem`` for storage, bound to ``domain`` and ``selector``.

    ``random_bytes`` (e.g. ``os.urandom``) supplies the nonce.
    """
    nonce = random_bytes(NONCE_OCTETS)
    sealed = AESGCM(master.material).encrypt(nonce, private_pem, _associated_data(domain, selector))
    return bytes([SEALED_FORMAT_VERSION]) + nonce + sealed


def open_private_key(master: MasterKey, domain: str, selector: str, sealed: bytes) -> bytes:
    """Decrypt what :func:`seal_private_key` made for the same ``domain`` and ``selector``.

    Raises :class:`SealedKeyError` if the version is unknown, the data was altered, the master
    key is another, or the key was sealed for another domain or selector.
    """
    if len(sealed) < 1 + NONCE_OCTETS + 16 or sealed[0] != SEALED_FORMAT_VERSION:
        raise SealedKeyError(f"sealed key for {selector}._domainkey.{domain}: unknown format")
    nonce = sealed[1 : 1 + NONCE_OCTETS]
    try:
        return AESGCM(master.material).decrypt(
            nonce, sealed[1 + NONCE_OCTETS :], _associated_data(domain, selector)
        )
    except InvalidTag:
        raise SealedKeyError(
            f"sealed key for {selector}._domainkey.{domain} does not open: wrong master key, "
            "altered data, or sealed for another domain or selector"
        ) from None
