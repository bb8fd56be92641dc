"""The dashboard session: a signed cookie naming the signed-in API key by its digest.

The cookie holds the key's SHA-256 digest (never the key), signed with HMAC-SHA256 under a
per-node secret; every request looks the digest up again, so a revoked key is signed out at
once. The CSRF token of a session is derived from the same secret and digest. Must not do
I/O or know about HTTP routing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

COOKIE_NAME = "postillon_session"
# A SHA-256 digest in hex is 64 characters: anything else is not a session.
_DIGEST_HEX_CHARS = 64


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def cookie_for(self, key_digest: str) -> str:
        """The cookie value for a session of the key with ``key_digest``."""
        tag = self._tag(b"session:" + key_digest.encode("ascii"))
        return f"{key_digest}.{_b64(tag)}"

    def digest_from(self, cookie: str | None) -> str | None:
        """The key digest of a well-signed cookie; None for a missing or forged one."""
        if not cookie or "." not in cookie:
            return None
        digest, _, tag_text = cookie.partition(".")
        if len(digest) != _DIGEST_HEX_CHARS or not all(c in "0123456789abcdef" for c in digest):
            return None
        expected = _b64(self._tag(b"session:" + digest.encode("ascii")))
        return digest if hmac.compare_digest(expected, tag_text) else None

    def csrf_token(self, key_digest: str) -> str:
        """The CSRF token every form of this session carries."""
        return _b64(self._tag(b"csrf:" + key_digest.encode("ascii")))

    def csrf_ok(self, key_digest: str, token: str) -> bool:
        """True when ``token`` is this session's CSRF token."""
        return hmac.compare_digest(self.csrf_token(key_digest), token)

    def _tag(self, data: bytes) -> bytes:
        return hmac.new(self._secret, data, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
