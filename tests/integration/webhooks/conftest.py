"""Fixtures of the webhook integration tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postillon.webhooks.events import EventType, WebhookEvent


@pytest.fixture
def event() -> WebhookEvent:
    return WebhookEvent(
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        EventType.EMAIL_DELIVERED,
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        {"message_id": "m_1", "recipient": "bob@example.org", "attempt": 1},
    )
