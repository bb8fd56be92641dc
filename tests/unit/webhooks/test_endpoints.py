"""Stored endpoints seen as rings, filters and public views; the causal-order key and claim."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from postillon.storage.webhook_deliveries_sql import due_query, order_key
from postillon.storage.webhook_records import EndpointRecord
from postillon.webhooks.endpoints import endpoint_of, view_of, wants
from postillon.webhooks.secret import WebhookSecret
from postillon.webhooks.secret_box import SecretBox

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BOX = SecretBox(bytes(range(32)), os.urandom)
OLD, NEW = WebhookSecret(b"o" * 32), WebhookSecret(b"n" * 32)


def record(**overrides: Any) -> EndpointRecord:
    values: dict[str, Any] = {
        "id": "ep_1",
        "account_id": "acc",
        "url": "https://hooks.example.com/x",
        "event_filter": "*",
        "enabled": True,
        "disabled_reason": None,
        "sealed_secret": BOX.seal("ep_1", NEW),
        "sealed_previous_secret": None,
        "previous_until": None,
        "failing_since": None,
        "consecutive_failures": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return EndpointRecord(**values)


def test_a_rotated_endpoint_signs_with_both_secrets_until_the_overlap_ends() -> None:
    rotating = record(
        sealed_previous_secret=BOX.seal("ep_1", OLD), previous_until=NOW + timedelta(hours=1)
    )

    ring = endpoint_of(rotating, BOX).secrets

    assert ring.signing_secrets(NOW) == (NEW, OLD)
    assert ring.signing_secrets(NOW + timedelta(hours=1)) == (NEW,)
    assert view_of(rotating, NOW).previous_secret_until == NOW + timedelta(hours=1)
    assert view_of(rotating, NOW + timedelta(hours=2)).previous_secret_until is None


@pytest.mark.parametrize(
    ("stored_filter", "enabled", "event_type", "expected"),
    [
        pytest.param("*", True, "email.bounced", True, id="all"),
        pytest.param(["email.bounced"], True, "email.bounced", True, id="listed"),
        pytest.param(["email.bounced"], True, "email.delivered", False, id="not-listed"),
        pytest.param("*", False, "email.bounced", False, id="disabled"),
        pytest.param("*", True, "email.unknown", False, id="unknown-type"),
        pytest.param(["email.nope"], True, "email.bounced", False, id="corrupt-filter"),
    ],
)
def test_wants(stored_filter: Any, enabled: bool, event_type: str, expected: bool) -> None:
    assert wants(record(event_filter=stored_filter, enabled=enabled), event_type) is expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param({"recipient_id": "r1", "domain_id": "d1"}, "r1", id="recipient"),
        pytest.param({"domain_id": "d1"}, "d1", id="domain"),
        pytest.param({"recipient_id": ""}, None, id="empty"),
        pytest.param({}, None, id="none"),
        pytest.param([], None, id="not-an-object"),
    ],
)
def test_the_causal_chain_of_an_event(payload: Any, expected: str | None) -> None:
    assert order_key(payload) == expected


def test_the_claim_locks_only_delivery_rows_and_skips_locked_ones_on_postgresql() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    sql = str(due_query(NOW, 10).compile(dialect=dialect))

    assert sql.rstrip().endswith("FOR UPDATE OF webhook_deliveries SKIP LOCKED")
    assert "FOR UPDATE" not in str(due_query(NOW, 10).compile(dialect=sqlite.dialect()))
