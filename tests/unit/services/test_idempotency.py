"""Idempotency keys: a replay answers only the same request of the same kind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.message.errors import InvalidMessageError
from postillon.services.errors import IdempotencyConflictError
from postillon.services.idempotency import (
    IDEMPOTENCY_TTL,
    MAX_IDEMPOTENCY_KEY_CHARS,
    idempotency_key,
    replayed,
)
from postillon.storage.idempotency_sql import Replay

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
ANSWER = {"results": [{"id": "m1", "status": "queued"}]}


def stored(fingerprint: str, kind: str = "email") -> Replay:
    key = idempotency_key("acct", "k1", fingerprint, kind=kind, now=NOW)
    assert key is not None
    return Replay(fingerprint=key.fingerprint, response=ANSWER)


def test_no_key_means_no_idempotency() -> None:
    assert idempotency_key("acct", None, "body", kind="email", now=NOW) is None


def test_the_window_is_a_day() -> None:
    key = idempotency_key("acct", "k1", "body", kind="email", now=NOW)

    assert key is not None
    assert key.not_before == NOW - IDEMPOTENCY_TTL


@pytest.mark.parametrize(
    ("fingerprint", "kind", "is_replay"),
    [
        pytest.param("body", "email", True, id="same-request"),
        pytest.param("other body", "email", False, id="other-body"),
        pytest.param("body", "batch", False, id="other-kind"),
    ],
)
def test_replay_or_conflict(fingerprint: str, kind: str, is_replay: bool) -> None:
    key = idempotency_key("acct", "k1", fingerprint, kind=kind, now=NOW)
    assert key is not None

    if is_replay:
        assert replayed(key, stored("body")) == ANSWER
    else:
        with pytest.raises(IdempotencyConflictError):
            replayed(key, stored("body"))


@pytest.mark.parametrize(
    "text",
    [pytest.param("", id="empty"), pytest.param("k" * (MAX_IDEMPOTENCY_KEY_CHARS + 1), id="long")],
)
def test_bad_keys_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        idempotency_key("acct", text, "body", kind="email", now=NOW)

    assert [p.field for p in caught.value.problems] == ["Idempotency-Key"]


def test_a_fingerprint_of_any_length_is_stored_as_a_digest() -> None:
    key = idempotency_key("acct", "k1", "x" * 100_000, kind="email", now=NOW)

    assert key is not None
    assert len(key.fingerprint) == 64
