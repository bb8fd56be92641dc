"""The dashboard session: a signed cookie naming who signed in, and when.

The cookie names either an API key, by its SHA-256 digest (never the key), or a dashboard user,
by id, with the time the session was issued; it is signed with HMAC-SHA256 under the node's
session secret (``[dashboard] session_secret``, so nodes sharing it agree and a restart keeps
everyone signed in). The server refuses a cookie issued more than :data:`SESSION_LIFETIME` ago,
whatever the browser kept. Each request looks the key or user up again (see
:mod:`.context`): a revoked key, a removed user or a password changed after the issue time ends
the session at once. The CSRF token of a session is derived from the same secret and the whole
claim, so each sign-in gets its own. Must not do I/O or know about HTTP routing.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

COOKIE_NAME = "postillon_session"
# A working day: signing in again each morning is one password or one paste.
SESSION_LIFETIME = timedelta(hours=12)
# Nodes' clocks may disagree a little: a cookie issued this far "in the future" still counts.
CLOCK_SKEW = timedelta(minutes=5)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# kind . subject (hex digest or id) . issue time in µs since 1970 (16 digits: until 2286) . tag
_COOKIE = re.compile(r"([ku])\.([0-9A-Za-z]{1,64})\.([0-9]{1,16})\.([A-Za-z0-9_-]{43})")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class SessionKind(enum.StrEnum):
    """What signed in: an API key or a dashboard user."""

    KEY = "k"
    USER = "u"


@dataclass(frozen=True)
class SessionClaim:
    """What a session cookie says: its kind, its subject (a key digest in hex, or a user id)
    and when it was issued."""

    kind: SessionKind
    subject: str
    issued_at: datetime


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens under one secret."""

    def __init__(self, secret: bytes, lifetime: timedelta = SESSION_LIFETIME) -> None:
        self._secret = secret
        self.lifetime = lifetime

    def cookie_for(self, claim: SessionClaim) -> str:
        """The cookie value carrying ``claim``."""
        payload = _payload(claim)
        return f"{payload}.{_b64(self._tag(b'session:', payload))}"

    def claim_from(self, cookie: str | None, now: datetime) -> SessionClaim | None:
        """The claim of a well-signed, unexpired cookie; None for a missing, malformed,
        forged or expired one, or one issued later than ``now`` allows."""
        match = _COOKIE.fullmatch(cookie or "")
        if match is None:
            return None
        kind_text, subject, issued_text, tag_text = match.groups()
        kind = SessionKind(kind_text)
        if kind is SessionKind.KEY and _DIGEST.fullmatch(subject) is None:
            return None
        claim = SessionClaim(kind, subject, _EPOCH + int(issued_text) * _MICROSECOND)
        expected = _b64(self._tag(b"session:", _payload(claim)))
        if not hmac.compare_digest(expected, tag_text):
            return None
        if now - claim.issued_at >= self.lifetime or claim.issued_at - now > CLOCK_SKEW:
            return None
        return claim

    def csrf_token(self, claim: SessionClaim) -> str:
        """The CSRF token every form of this session carries."""
        return _b64(self._tag(b"csrf:", _payload(claim)))

    def csrf_ok(self, claim: SessionClaim, token: str) -> bool:
        """True when ``token`` is this session's CSRF token (False for any other text, non-ASCII
        included: ``compare_digest`` only compares ASCII strings)."""
        if not token.isascii():
            return False
        return hmac.compare_digest(self.csrf_token(claim), token)

    def _tag(self, purpose: bytes, payload: str) -> bytes:
        return hmac.new(self._secret, purpose + payload.encode("ascii"), hashlib.sha256).digest()


def _payload(claim: SessionClaim) -> str:
    micros = (claim.issued_at - _EPOCH) // _MICROSECOND
    return f"{claim.kind.value}.{claim.subject}.{micros}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
