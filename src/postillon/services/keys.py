"""API keys: creation (shown once), authentication by digest, listing, revocation.

A key is ``pst_`` + 43 URL-safe base64 characters (32 random octets, 256 bits). Only its SHA-256
digest is stored: a leaked database yields no usable key, and a lookup by digest compares no
secret byte by byte in Python (the index finds the digest; a final ``hmac.compare_digest``
guards the match). A revoked key is refused from the next request on (no cache).
It must not know about HTTP (the API reads ``Authorization: Bearer``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from postillon.clock import Clock
from postillon.services.errors import NotFoundError
from postillon.storage.api_keys_sql import SqlApiKeys
from postillon.storage.protocol import Store
from postillon.storage.records import Account
from postillon.storage.tenant_records import ApiKeyRecord

KEY_PREFIX = "pst_"
# 256 bits: guessing is hopeless, and the digest needs no salt or slow hash (no dictionary).
KEY_RANDOM_OCTETS = 32
# What listings show of a key: "pst_" and 8 characters, enough to tell keys apart.
SHOWN_PREFIX_CHARS = 12
# last_used_at is written at most this often per key: a busy key must not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Anything longer is not one of our keys; refuse before hashing attacker-sized input.
MAX_TOKEN_CHARS = 200
# A SHA-256 digest in hex, as sessions and the store hold it.
DIGEST_HEX_CHARS = 64
_HEX = re.compile(r"[0-9a-f]+")

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as listings show it (never the key itself)."""

    id: str
    account_id: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class AuthenticatedKey:
    """A key that authenticated: its account and its shown prefix (``pst_`` + 8)."""

    account: Account
    prefix: str


def key_digest(token: str) -> str:
    """The hex SHA-256 of a key, what the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(record: ApiKeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=record.id,
        account_id=record.account_id,
        prefix=record.prefix,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )


class ApiKeyService:
    """Create, authenticate, list and revoke the API keys of accounts."""

    def __init__(
        self,
        store: Store,
        keys: SqlApiKeys,
        clock: Clock,
        random_bytes: RandomBytes = secrets.token_bytes,
    ) -> None:
        self._store = store
        self._keys = keys
        self._clock = clock
        self._random_bytes = random_bytes

    async def create(self, account_name: str) -> tuple[ApiKeyInfo, str]:
        """A new key for the account named ``account_name`` (created if new): its info and
        the plaintext key, which is never shown again."""
        account = await self._store.ensure_account(account_name)
        token = KEY_PREFIX + _urlsafe(self._random_bytes(KEY_RANDOM_OCTETS))
        record = await self._keys.insert(account.id, key_digest(token), token[:SHOWN_PREFIX_CHARS])
        return _info(record), token

    async def authenticate(self, token: str) -> Account | None:
        """The account owning ``token``; None for an unknown, malformed or revoked key."""
        found = await self.authenticate_key(token)
        return found.account if found is not None else None

    async def authenticate_key(self, token: str) -> AuthenticatedKey | None:
        """The account owning ``token`` and the key's shown prefix; None for an unknown,
        malformed or revoked key."""
        if not token.startswith(KEY_PREFIX) or len(token) > MAX_TOKEN_CHARS:
            return None
        digest = key_digest(token)
        found = await self._keys.find_by_digest(digest)
        if found is None:
            return None
        record, account = found
        if not hmac.compare_digest(record.digest, digest) or record.revoked_at is not None:
            return None
        now = self._clock.now()
        if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
            await self._keys.touch(record.id, now)
        return AuthenticatedKey(account, record.prefix)

    async def list(self, account_id: str) -> list[ApiKeyInfo]:
        """The account's keys, newest first, revoked ones included."""
        return [_info(record) for record in await self._keys.list_for(account_id)]

    async def revoke(self, account_id: str, key_id: str) -> bool:
        """Revoke one of the account's keys; False if it was revoked already.

        Raises :class:`NotFoundError` if the account has no such key.
        """
        revoked = await self._keys.revoke(account_id, key_id)
        if revoked is None:
            raise NotFoundError(f"no API key {key_id}")
        return revoked

    async def account_named(self, name: str) -> Account:
        """The account named ``name`` (created if new): for the CLI commands that create."""
        return await self._store.ensure_account(name)

    async def existing_account(self, name: str) -> Account:
        """The account named ``name``; raises NotFoundError (a typo never creates one)."""
        account = await self._keys.account_named(name)
        if account is None:
            raise NotFoundError(f"no account named {name!r}")
        return account

    async def end_sessions(self, key_id: str) -> None:
        """Sign-out: every dashboard session of the key issued until now ends."""
        await self._keys.end_sessions(key_id, self._clock.now())

    async def session_key(
        self, digest: str, issued_at: datetime
    ) -> tuple[ApiKeyInfo, Account] | None:
        """The live key a dashboard session issued at ``issued_at`` names by ``digest``, and
        its account; None when the digest is malformed, unknown, its key revoked or its
        sessions ended after ``issued_at`` (the same checks as :meth:`authenticate`, for a
        session that holds the digest, never the key)."""
        if len(digest) != DIGEST_HEX_CHARS or not _HEX.fullmatch(digest):
            return None
        found = await self._keys.find_by_digest(digest)
        if found is None:
            return None
        record, account = found
        if not hmac.compare_digest(record.digest, digest) or record.revoked_at is not None:
            return None
        if record.sessions_ended_at is not None and issued_at < record.sessions_ended_at:
            return None
        return _info(record), account


def _urlsafe(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
