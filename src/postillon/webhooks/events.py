"""Webhook events: the event record and the JSON body a receiver gets (the types are
:class:`postillon.events.EventType`).

Owns the payload shape of the Standard Webhooks spec ("Payload structure"):
``{"type": "email.delivered", "timestamp": "2026-01-01T00:00:00.000000Z", "data": {...}}``, where
``timestamp`` is when the event happened (each attempt's send time travels in the
``webhook-timestamp`` header instead), and event ids usable as ``webhook-id``.
It must not decide what goes into ``data`` (the writer of the outbox does), sign, or send.
"""

from __future__ import annotations

import base64
import json
import secrets as _system_secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from postillon.events import EventType
from postillon.webhooks.secret import RandomBytes
from postillon.webhooks.signing import is_valid_msg_id

EVENT_ID_PREFIX = "msg_"
# 128 random bits: collision-free for any volume we will ever send.
EVENT_ID_RANDOM_BYTES = 16


def new_event_id(random_bytes: RandomBytes = _system_secrets.token_bytes) -> str:
    """``msg_`` + 26 base32 characters of injected randomness (no ``.``, header-safe)."""
    raw = random_bytes(EVENT_ID_RANDOM_BYTES)
    return EVENT_ID_PREFIX + base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _timestamp_text(moment: datetime) -> str:
    # RFC 3339 in UTC with microseconds and "Z", the form of the spec's example payload.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class WebhookEvent:
    """One event: ``id`` (the webhook-id, kept across retries), ``type``, when, and its data.

    ``type`` may be given as its text (as read from the outbox). ``data`` must be
    JSON-serialisable; it is copied and exposed read-only. Raises ValueError for an unknown type,
    an id that cannot be a webhook-id, a naive ``created_at`` or data that is not JSON.
    """

    id: str
    type: EventType
    created_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not is_valid_msg_id(self.id):
            raise ValueError(f"{self.id!r} is not a valid webhook-id")
        object.__setattr__(self, "type", EventType(self.type))
        if self.created_at.tzinfo is None:
            raise ValueError("an event's created_at must be timezone-aware")
        frozen = MappingProxyType(dict(self.data))
        object.__setattr__(self, "data", frozen)
        try:
            json.dumps(dict(frozen), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"event data is not JSON: {exc}") from exc

    def payload(self) -> dict[str, Any]:
        """The body as a dict: ``type``, ``timestamp`` (RFC 3339, UTC) and ``data``."""
        return {
            "type": self.type.value,
            "timestamp": _timestamp_text(self.created_at),
            "data": dict(self.data),
        }

    def body(self) -> bytes:
        """The exact bytes sent and signed: minified JSON, UTF-8 (the spec recommends minified)."""
        text = json.dumps(
            self.payload(), separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
