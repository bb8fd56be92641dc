"""Endpoint signing secrets at rest: AES-256-GCM under a key derived from the master key.

Owns sealing and opening ``whsec_`` keys for the ``webhook_endpoints`` table. The box key is
HKDF-SHA256 (RFC 5869) of the node's master key with its own ``info`` label, so webhook secrets
and DKIM keys never share an encryption key. A sealed secret is
``version (1) || nonce (12) || ciphertext || tag (16)``; the associated data binds it to its
endpoint id, so a blob copied into another endpoint's row does not open.
SECURITY: neither the master key, the box key nor a secret ever reaches a log line or an error.
It must not store anything; randomness is injected.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from postillon.webhooks.errors import InvalidSecretError
from postillon.webhooks.secret import RandomBytes, WebhookSecret

BOX_KEY_OCTETS = 32  # AES-256
# SP 800-38D §8.2.2: 96-bit random nonces; one per sealed secret, far below the 2^32 limit.
NONCE_OCTETS = 12
TAG_OCTETS = 16
SEALED_FORMAT_VERSION = 1
_HKDF_INFO = b"postillon webhook secrets v1"
_AAD_LABEL = b"postillon webhook secret"


class SecretBox:
    """Seals and opens endpoint secrets; build it from the node's 32-octet master key."""

    def __init__(self, master_key: bytes, random_bytes: RandomBytes) -> None:
        if len(master_key) < BOX_KEY_OCTETS:
            raise ValueError(f"the master key has at least {BOX_KEY_OCTETS} octets")
        derived = HKDF(
            algorithm=hashes.SHA256(), length=BOX_KEY_OCTETS, salt=None, info=_HKDF_INFO
        ).derive(master_key)
        self._aead = AESGCM(derived)
        self._random_bytes = random_bytes

    def __repr__(self) -> str:
        return "SecretBox(<redacted>)"

    def seal(self, endpoint_id: str, secret: WebhookSecret) -> bytes:
        """The stored form of ``secret`` for endpoint ``endpoint_id``."""
        nonce = self._random_bytes(NONCE_OCTETS)
        sealed = self._aead.encrypt(nonce, secret.key, _aad(endpoint_id))
        return bytes([SEALED_FORMAT_VERSION]) + nonce + sealed

    def open(self, endpoint_id: str, sealed: bytes) -> WebhookSecret:
        """The secret :meth:`seal` stored. Raises InvalidSecretError if it does not open
        (another master key, altered bytes, or sealed for another endpoint)."""
        if len(sealed) < 1 + NONCE_OCTETS + TAG_OCTETS or sealed[0] != SEALED_FORMAT_VERSION:
            raise InvalidSecretError(f"sealed secret of endpoint {endpoint_id}: unknown format")
        nonce = sealed[1 : 1 + NONCE_OCTETS]
        try:
            key = self._aead.decrypt(nonce, sealed[1 + NONCE_OCTETS :], _aad(endpoint_id))
        except InvalidTag:
            raise InvalidSecretError(
                f"sealed secret of endpoint {endpoint_id} does not open: wrong master key, "
                "altered data, or sealed for another endpoint"
            ) from None
        return WebhookSecret(key)


def _aad(endpoint_id: str) -> bytes:
    return _AAD_LABEL + b"\x00" + endpoint_id.encode("ascii")
