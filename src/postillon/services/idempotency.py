"""Idempotency keys (the ``Idempotency-Key`` header): checking one and judging a replay.

A key is scoped to its account and lives :data:`IDEMPOTENCY_TTL`. The caller's fingerprint (a
digest of the request body, any length) is stored as its SHA-256 with the kind of request, so
a batch and a single send never answer each other. Same key and fingerprint: the first answer
again; same key, another fingerprint: :class:`IdempotencyConflictError`.
It must not store anything (storage/idempotency_sql.py does, in the enqueue's transaction).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from postillon.message.errors import InvalidMessageError, ValidationProblem
from postillon.services.errors import IdempotencyConflictError
from postillon.storage.idempotency_sql import IdempotencyKey, Replay

# How long a key answers with its first result (the 24 h, as Stripe's API does).
IDEMPOTENCY_TTL = timedelta(hours=24)
# Keys are opaque to us; a bound keeps the table's index small (UUIDs are 36 characters).
MAX_IDEMPOTENCY_KEY_CHARS = 255
HEADER = "Idempotency-Key"


def idempotency_key(
    account_id: str, key: str | None, fingerprint: str, *, kind: str, now: datetime
) -> IdempotencyKey | None:
    """The key as stored, or None without one. Raises InvalidMessageError (field
    ``Idempotency-Key``) for an empty or oversized key."""
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        problem = ValidationProblem(HEADER, f"must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters")
        raise InvalidMessageError([problem])
    digest = hashlib.sha256(f"{kind}\x00{fingerprint}".encode()).hexdigest()
    return IdempotencyKey(
        account_id=account_id, key=key, fingerprint=digest, not_before=now - IDEMPOTENCY_TTL
    )


def replayed(key: IdempotencyKey, replay: Replay) -> Mapping[str, Any]:
    """The first answer, when ``replay`` was made by the same request; raises
    :class:`IdempotencyConflictError` when it was made by another."""
    if not hmac.compare_digest(replay.fingerprint, key.fingerprint):
        raise IdempotencyConflictError(
            f"{HEADER} {key.key!r} was used with a different request in the last "
            f"{IDEMPOTENCY_TTL.total_seconds() / 3600:g} hours; use a new key"
        )
    return replay.response
