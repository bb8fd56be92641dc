"""One-click unsubscribe tokens (RFC 8058): unguessable, and carrying what they unsubscribe.

Owns the token in ``<public_url>/u/<token>``: the account, the recipient address and the
message's Message-ID, base64url, then a 128-bit HMAC-SHA256 tag under a key derived from the
master key. Stateless: nothing is stored per message, and a token cannot be made or altered
without the key (the POST needs no other authentication, RFC 8058 §3.2).
SECURITY: tags compare in constant time; the key never appears in a repr or an error. Pure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field

# 128 bits: the only thing standing between a guessed URL and someone's subscription.
TAG_OCTETS = 16
# A token longer than this is not one we made (an address ≤ 320, a Message-ID ≤ 998).
MAX_TOKEN_CHARS = 2048
_KEY_LABEL = b"postillon one-click unsubscribe v1"
_SEPARATOR = "\n"  # in neither an account id, an address, nor a Message-ID


@dataclass(frozen=True)
class UnsubscribeTarget:
    """What a token unsubscribes: ``address`` from ``account_id``'s mail, announced for the
    message ``header_message_id``."""

    account_id: str
    address: str
    header_message_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class UnsubscribeTokens:
    """Makes and reads tokens under one key."""

    key: bytes = field(repr=False)

    @classmethod
    def derive(cls, master_key: bytes) -> UnsubscribeTokens:
        """Tokens under a key derived from ``master_key`` (never the master key itself)."""
        return cls(hmac.new(master_key, _KEY_LABEL, hashlib.sha256).digest())

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()[:TAG_OCTETS]

    def make(self, target: UnsubscribeTarget) -> str:
        """The token for ``target`` (URL-safe: letters, digits, ``-``, ``_``, one ``.``)."""
        payload = _SEPARATOR.join(
            (target.account_id, target.address, target.header_message_id)
        ).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._tag(payload))}"

    def read(self, token: str) -> UnsubscribeTarget | None:
        """The target of a token we made, or None for anything else (malformed, altered,
        another key's)."""
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        body, _, tag = token.partition(".")
        try:
            payload, given = _unb64(body), _unb64(tag)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(self._tag(payload), given):
            return None
        parts = payload.decode("utf-8", errors="replace").split(_SEPARATOR)
        if len(parts) != 3:
            return None
        return UnsubscribeTarget(*parts)
